package io.bypass.afxdp.internal;

import io.bypass.BypassException;
import io.bypass.FlowRule;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/**
 * The TCP part of our XDP program's maps (see {@code native/afxdp/bypass_xdp_tcp.h}): the 4-tuples of
 * connections and the (address, port) of listeners in {@code bypass_tcp_flows}, and per local
 * port in {@code bypass_tcp_ports} which kinds of them there are, so a segment to any other port
 * costs the program one array lookup. The hash entry is written before the port entry that sends
 * segments to it, and the port entry before the hash entry is removed. Guarded by the owning
 * {@link XdpProgram}'s lock; the fds are the program's.
 */
final class XdpTcpFlows {
    // bypass_tcp_ports values, as BYPASS_TCP_* in bypass_xdp_tcp.h
    private static final int CONN = 1;
    private static final int LISTEN = 2;
    private static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final int portsFd;
    private final int flowsFd;
    /** Per local port: {connections, listeners} steered on it. */
    private final Map<Integer, int[]> byPort = new HashMap<>();

    /**
     * @param portsFd the fd of bypass_tcp_ports
     * @param flowsFd the fd of bypass_tcp_flows
     */
    XdpTcpFlows(final int portsFd, final int flowsFd) {
        this.portsFd = portsFd;
        this.flowsFd = flowsFd;
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
        final int[] counts = byPort.computeIfAbsent(rule.destinationPort(), p -> new int[2]);
        final int kind = rule.isTcpListener() ? 1 : 0;
        counts[kind]++;
        try {
            writePort(rule.destinationPort(), counts);
        } catch (final RuntimeException e) {
            counts[kind]--;
            if (counts[0] == 0 && counts[1] == 0) {
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
        final int[] counts = byPort.get(rule.destinationPort());
        if (counts == null) {
            return false;
        }
        final int kind = rule.isTcpListener() ? 1 : 0;
        if (counts[kind] > 0) {
            counts[kind]--;
            writePort(rule.destinationPort(), counts);
        }
        if (counts[0] == 0 && counts[1] == 0) {
            byPort.remove(rule.destinationPort());
        }
        return updateFlow(false, rule, 0);
    }

    private void writePort(final int port, final int[] counts) {
        final int kind = (counts[0] > 0 ? CONN : 0) | (counts[1] > 0 ? LISTEN : 0);
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment k = a.allocate(ValueLayout.JAVA_INT);
            k.set(ValueLayout.JAVA_INT, 0, port);
            final MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
            v.set(ValueLayout.JAVA_INT, 0, kind);
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
