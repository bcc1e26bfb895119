package io.bypass.afxdp.internal;

import io.bypass.BypassException;
import io.bypass.FlowRule;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The TCP part of our XDP program's maps (see {@code native/afxdp/bypass_xdp_tcp.h}): the 4-tuples of
 * connections and the (address, port) of listeners in {@code bypass_tcp_flows}, and per local
 * port in {@code bypass_tcp_ports} which kinds of them there are, so a segment to any other port
 * costs the program one array lookup. The hash entry is written before the port entry that sends
 * segments to it, and the port entry before the hash entry is removed. A port with exactly one
 * connection also holds that connection's tuple in its entry ({@code BYPASS_TCP_ONE}), so the program
 * compares instead of hashing; each write of an entry changes either the tuple (while ONE is clear)
 * or the kind word, never both, so the program never matches against a half-written tuple. Guarded by the owning
 * {@link XdpProgram}'s lock; the fds are the program's.
 */
final class XdpTcpFlows {
    // bypass_tcp_ports values, as BYPASS_TCP_* in bypass_xdp_tcp.h
    private static final int CONN = 1;
    private static final int LISTEN = 2;
    private static final int ONE = 4;
    // struct bypass_tcp_port { __u32 kind; __be32 daddr; __be32 saddr; __be16 sport; __u16 pad; }
    private static final int PORT_ENTRY_LENGTH = 16;
    private static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final int portsFd;
    private final int flowsFd;
    /** Per local port: what is steered on it and what its map entry holds. */
    private final Map<Integer, PortEntry> byPort = new HashMap<>();

    /** One local port's rules and the entry last written for it. */
    private static final class PortEntry {
        final List<FlowRule> connections = new ArrayList<>(1);
        int listeners;
        int writtenKind;
        int daddr;
        int saddr;
        int sport;

        boolean isEmpty() {
            return connections.isEmpty() && listeners == 0;
        }
    }

    /**
     * @param portsFd the fd of bypass_tcp_ports
     * @param flowsFd the fd of bypass_tcp_flows
     */
    XdpTcpFlows(final int portsFd, final int flowsFd) {
        this.portsFd = portsFd;
        this.flowsFd = flowsFd;
        linkDelete();
    }

    /**
     * Deletes the all-zero tuple, which no rule can have, so the JDK links bpf_map_delete_elem's call site
     * (hundreds of KB of generated classes, milliseconds) now, at open, not on the poller when a
     * connection first ends.
     */
    private void linkDelete() {
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment e = Errno.allocate(a);
            final int rc = LibBpf.mapDelete(e, flowsFd, a.allocate(12, 4));
            final int err = rc == 0 ? 0 : rc < 0 ? -rc : Errno.get(e);
            if (err != Errno.ENOENT) {
                throw failure("bpf_map_delete_elem(bypass_tcp_flows, 0.0.0.0:0 <- 0.0.0.0:0) on a freshly loaded program", err,
                    err == 0 ? "the map held that entry, which a freshly loaded program's cannot" : null);
            }
        }
    }

    /**
     * Steers a TCP rule: its 4-tuple (a listener's with a zero remote end). On failure the maps
     * are as before.
     *
     * @param rule    a TCP rule with its local address and port filled in
     * @param queueId the NIC queue, kept as the entry's value
     */
    void add(final FlowRule rule, final int queueId) {
        updateFlow(true, rule, queueId);
        final PortEntry entry = byPort.computeIfAbsent(rule.destinationPort(), p -> new PortEntry());
        count(entry, rule, true);
        try {
            writePort(rule.destinationPort(), entry);
        } catch (final RuntimeException e) {
            count(entry, rule, false);
            if (entry.isEmpty()) {
                byPort.remove(rule.destinationPort());
            }
            try {
                updateFlow(false, rule, queueId);
            } catch (final RuntimeException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
    }

    /**
     * Stops steering a TCP rule added with {@link #add}.
     *
     * @param rule the rule as added
     * @return false if it was not steered
     */
    boolean remove(final FlowRule rule) {
        final PortEntry entry = byPort.get(rule.destinationPort());
        if (entry == null) {
            return false;
        }
        if (count(entry, rule, false)) {
            writePort(rule.destinationPort(), entry);
        }
        if (entry.isEmpty()) {
            byPort.remove(rule.destinationPort());
        }
        return updateFlow(false, rule, 0);
    }

    private static boolean count(final PortEntry entry, final FlowRule rule, final boolean add) {
        if (rule.isTcpListener()) {
            if (add) {
                entry.listeners++;
                return true;
            }
            if (entry.listeners == 0) {
                return false;
            }
            entry.listeners--;
            return true;
        }
        return add ? entry.connections.add(rule) : entry.connections.remove(rule);
    }

    /**
     * Writes a port's entry for what is steered on it now, one word at a time (see the class comment): with a
     * new tuple, first ONE off, then the tuple, then the kind.
     */
    private void writePort(final int port, final PortEntry entry) {
        final int conns = entry.connections.size();
        final int kind = (conns > 0 ? CONN : 0) | (conns == 1 ? ONE : 0) | (entry.listeners > 0 ? LISTEN : 0);
        final FlowRule one = conns == 1 ? entry.connections.get(0) : null;
        if (one != null && (one.destinationAddress() != entry.daddr || one.sourceAddress() != entry.saddr
            || one.sourcePort() != entry.sport)) {
            if ((entry.writtenKind & ONE) != 0) {
                writePortEntry(port, entry.writtenKind & ~ONE, entry.daddr, entry.saddr, entry.sport);
                entry.writtenKind &= ~ONE;
            }
            writePortEntry(port, entry.writtenKind, one.destinationAddress(), one.sourceAddress(), one.sourcePort());
            entry.daddr = one.destinationAddress();
            entry.saddr = one.sourceAddress();
            entry.sport = one.sourcePort();
        }
        writePortEntry(port, kind, entry.daddr, entry.saddr, entry.sport);
        entry.writtenKind = kind;
    }

    private void writePortEntry(final int port, final int kind, final int daddr, final int saddr, final int sport) {
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment k = a.allocate(ValueLayout.JAVA_INT);
            k.set(ValueLayout.JAVA_INT, 0, port);
            final MemorySegment v = a.allocate(PORT_ENTRY_LENGTH, 4);
            v.set(ValueLayout.JAVA_INT, 0, kind);
            v.set(BE_INT, 4, daddr);
            v.set(BE_INT, 8, saddr);
            v.set(BE_SHORT, 12, (short) sport);
            final MemorySegment e = Errno.allocate(a);
            final int rc = LibBpf.mapUpdate(e, portsFd, k, v, LibBpf.BPF_ANY);
            if (rc != 0) {
                throw failure("bpf_map_update_elem(bypass_tcp_ports, port " + port + ")", rc < 0 ? -rc : Errno.get(e), null);
            }
        }
    }

    private boolean updateFlow(final boolean add, final FlowRule rule, final int queueId) {
        try (Arena a = Arena.ofConfined()) {
            // struct bypass_tcp_key { __be32 daddr; __be32 saddr; __be16 dport; __be16 sport; }: bytes as on the wire
            final MemorySegment key = a.allocate(12, 4);
            key.set(BE_INT, 0, rule.destinationAddress());
            key.set(BE_INT, 4, rule.sourceAddress());
            key.set(BE_SHORT, 8, (short) rule.destinationPort());
            key.set(BE_SHORT, 10, (short) rule.sourcePort());
            final MemorySegment e = Errno.allocate(a);
            final int rc;
            if (add) {
                final MemorySegment value = a.allocate(ValueLayout.JAVA_INT);
                value.set(ValueLayout.JAVA_INT, 0, queueId);
                rc = LibBpf.mapUpdate(e, flowsFd, key, value, LibBpf.BPF_ANY);
            } else {
                rc = LibBpf.mapDelete(e, flowsFd, key);
            }
            if (rc != 0) {
                final int err = rc < 0 ? -rc : Errno.get(e);
                if (!add && err == Errno.ENOENT) {
                    return false;
                }
                throw failure((add ? "bpf_map_update_elem" : "bpf_map_delete_elem") + "(bypass_tcp_flows, " + rule + ")", err,
                    err == Errno.E2BIG ? "too many TCP flows (the map holds 16384)" : null);
            }
            return true;
        }
    }

    private static BypassException failure(final String call, final int err, final String remedy) {
        return Errno.failure(call, err, remedy);
    }
}
