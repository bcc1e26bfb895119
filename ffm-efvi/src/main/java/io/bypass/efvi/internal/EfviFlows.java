package io.bypass.efvi.internal;

import io.bypass.BypassException;
import io.bypass.FlowRule;
import io.bypass.efvi.internal.gen.EfviShim;
import io.bypass.spi.Closer;
import io.bypass.spi.TcpPortReservations;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The flows an ef_vi port steers to its VI, one ef_vi filter each: UDP by destination
 * ({@code ip4_local}), a TCP connection by its 4-tuple ({@code ef_filter_spec_set_ip4_full}) and a
 * TCP listener by its local address and port ({@code ip4_local} with {@code IPPROTO_TCP}). The NIC
 * delivers a filtered flow to the VI instead of the kernel; for TCP the local port is also reserved
 * in the kernel ({@link TcpPortReservations}, as Onload does), so no kernel socket is given it.
 * Guarded by the port's lock; every ef_vi call is made under the VI's lock.
 */
final class EfviFlows {
    private final String iface;
    private final MemorySegment handle;
    private final Object viLock;
    private final TcpPortReservations reservations;
    /** UDP rules (local address filled in): filter cookie (2 ints) and how many adds share it. */
    private final Map<FlowRule, int[]> udp = new HashMap<>();
    /** TCP rules as installed (local address and port filled in): filter cookie. */
    private final Map<FlowRule, int[]> tcp = new HashMap<>();

    /**
     * @param iface        the interface, for messages
     * @param handle       the shim's VI state
     * @param viLock       the lock of every ef_vi call on the VI
     * @param reservations the port's kernel port reservations, closed by {@link #close(Closer)}
     */
    EfviFlows(final String iface, final MemorySegment handle, final Object viLock, final TcpPortReservations reservations) {
        this.iface = iface;
        this.handle = handle;
        this.viLock = viLock;
        this.reservations = reservations;
    }

    /**
     * @param key a UDP rule with its address filled in
     * @return true if a filter was added (false: the rule was there, only counted again)
     */
    boolean addUdp(final FlowRule key) {
        final int[] cookie = udp.get(key);
        if (cookie != null) {
            cookie[2]++;
            return false;
        }
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment out = a.allocate(2L * Integer.BYTES, 4);
            final int rc;
            synchronized (viLock) {
                rc = EfviShim.bypass_efvi_filter_add_udp(handle, key.destinationAddress(), key.destinationPort(), out);
            }
            if (rc < 0) {
                throw addFailure(key, rc);
            }
            udp.put(key, new int[] {out.getAtIndex(ValueLayout.JAVA_INT, 0), out.getAtIndex(ValueLayout.JAVA_INT, 1), 1});
        }
        return true;
    }

    /**
     * @param key a UDP rule with its address filled in
     * @return true if its filter was deleted (false: another add still shares it)
     */
    boolean removeUdp(final FlowRule key) {
        final int[] cookie = udp.get(key);
        if (cookie == null) {
            throw new BypassException("efvi: no flow " + key + " was added on " + iface);
        }
        if (--cookie[2] > 0) {
            return false;
        }
        udp.remove(key);
        final int rc = deleteFilter(cookie);
        if (rc < 0) {
            throw new BypassException("efvi: ef_vi_filter_del(" + key + ") on " + iface + " failed: " + Errno.describe(rc));
        }
        return true;
    }

    /** @return the UDP rules steered */
    Set<FlowRule> udpRules() {
        return udp.keySet();
    }

    /**
     * Reserves the rule's local port in the kernel (port 0: the kernel's choice), then adds its
     * filter; if the filter fails the reservation is released. A rule already steered is returned as it is.
     *
     * @param rule       a TCP rule
     * @param ownAddress the port's address, for a rule with local address 0
     * @return the rule as installed
     */
    FlowRule addTcp(final FlowRule rule, final int ownAddress) {
        final int address = rule.destinationAddress() != 0 ? rule.destinationAddress() : ownAddress;
        if (address == 0) {
            throw new BypassException("efvi: " + iface + " has no IPv4 address, so " + rule + " has no local address;"
                + " give the interface one (ip addr add A.B.C.D/NN dev " + iface + ") or name the address in the rule");
        }
        final FlowRule local = rule.withLocal(address, rule.destinationPort());
        if (local.destinationPort() != 0 && tcp.containsKey(local)) {
            return local;
        }
        final int port = reservations.reserve(address, local.destinationPort(), local);
        final FlowRule installed = local.withLocal(address, port);
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment out = a.allocate(2L * Integer.BYTES, 4);
            final int rc;
            synchronized (viLock) {
                rc = EfviShim.bypass_efvi_filter_add_tcp(handle, address, port, installed.sourceAddress(), installed.sourcePort(), out);
            }
            if (rc < 0) {
                throw addFailure(installed, rc);
            }
            tcp.put(installed, new int[] {out.getAtIndex(ValueLayout.JAVA_INT, 0), out.getAtIndex(ValueLayout.JAVA_INT, 1)});
            return installed;
        } catch (final RuntimeException | Error e) {
            try {
                reservations.release(address, port);
            } catch (final RuntimeException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
    }

    /**
     * Deletes a TCP rule's filter, then releases its port's reservation (unless another rule shares
     * it), both even if the other fails. A rule not steered is ignored.
     *
     * @param rule       the rule, as {@link #addTcp} returned it (local address 0: the port's own)
     * @param ownAddress the port's address
     */
    void removeTcp(final FlowRule rule, final int ownAddress) {
        final FlowRule key = rule.destinationAddress() == 0 ? rule.withLocal(ownAddress, rule.destinationPort()) : rule;
        final int[] cookie = tcp.remove(key);
        if (cookie == null) {
            return;
        }
        RuntimeException delete = null;
        try {
            final int rc = deleteFilter(cookie);
            if (rc < 0) {
                delete = new BypassException("ef_vi_filter_del failed: " + Errno.describe(rc));
            }
        } catch (final RuntimeException e) {
            delete = e;
        }
        reservations.releaseAfterUnsteering(key, "deleting its filter", delete);
    }

    private BypassException addFailure(final FlowRule rule, final int rc) {
        return new BypassException("efvi: ef_vi_filter_add(" + rule + ") on " + iface + " failed: " + Errno.describe(rc)
            + (rc == -17 ? "; another VI or Onload stack already has a filter for this flow" : Errno.remedy(rc)));
    }

    private int deleteFilter(final int[] cookie) {
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment c = a.allocate(2L * Integer.BYTES, 4);
            c.setAtIndex(ValueLayout.JAVA_INT, 0, cookie[0]);
            c.setAtIndex(ValueLayout.JAVA_INT, 1, cookie[1]);
            synchronized (viLock) {
                return EfviShim.bypass_efvi_filter_del(handle, c);
            }
        }
    }

    /**
     * Deletes every filter, then releases every reserved port, each even after one fails.
     *
     * @param closer collects the failures
     */
    void close(final Closer closer) {
        for (final Map<FlowRule, int[]> rules : java.util.List.of(udp, tcp)) {
            for (final Map.Entry<FlowRule, int[]> f : rules.entrySet()) {
                final int rc = deleteFilter(f.getValue());
                if (rc < 0) {
                    closer.failed("ef_vi_filter_del(" + f.getKey() + ")", Errno.describe(rc));
                }
            }
            rules.clear();
        }
        closer.close("releasing the reserved TCP ports", reservations);
    }
}
