package io.bypass.dpdk.internal;

import io.bypass.BypassException;
import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.dpdk.internal.gen.Ethdev;
import io.bypass.dpdk.internal.gen.rte_eth_link;
import io.bypass.dpdk.internal.gen.rte_eth_stats;
import io.bypass.dpdk.internal.gen.rte_eth_xstat;
import io.bypass.dpdk.internal.gen.rte_eth_xstat_name;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a started device reports: {@code rte_eth_stats} (and the kernel's statistics of the
 * PMD's sockets) copied into the port's counters, the extended statistics, and the link. Off the
 * hot path; every call on the port's control thread and under the port's lock.
 *
 * <p>imissed counts as a full RX ring, ierrors as other receive drops, rx_nombuf as no buffer,
 * oerrors as refused TX. (The per-queue q_errors are not added: PMDs count the same frames in
 * ierrors or imissed, and 22.11's af_packet and af_xdp fill neither.) For net_af_packet and
 * net_af_xdp the kernel's own statistics of the PMD's sockets are added, see {@link PmdSocketStats}.
 */
final class PortStatistics {
    private static final int LINK_STATUS_BIT = 1 << 2; // rte_eth_link: duplex bit 0, autoneg bit 1, status bit 2 of byte 4

    private final DpdkDevice dev;
    private final MemorySegment statsSegment;
    private final MemorySegment linkSegment;
    /** Kernel drop statistics of the net_af_packet / net_af_xdp PMD's sockets, which rte_eth_stats leaves out; or null. */
    private PmdSocketStats socketStats;

    /**
     * @param dev the started device, whose arena holds the statistics segments
     */
    PortStatistics(final DpdkDevice dev) {
        this.dev = dev;
        statsSegment = rte_eth_stats.allocate(dev.arena);
        linkSegment = rte_eth_link.allocate(dev.arena);
    }

    /**
     * @param socketStats the kernel's statistics of the PMD's sockets, or null
     */
    void socketStats(final PmdSocketStats socketStats) {
        this.socketStats = socketStats;
    }

    /** @return the kernel's statistics of the PMD's sockets, or null if none were found */
    PmdSocketStats socketStats() {
        return socketStats;
    }

    /**
     * Copies the device's drop statistics into the counters.
     *
     * @param counters the port's counters
     */
    void read(final Counters counters) {
        if (Ethdev.rte_eth_stats_get(dev.portId, statsSegment) != 0) {
            return;
        }
        long ringFull = rte_eth_stats.imissed(statsSegment);
        long other = rte_eth_stats.ierrors(statsSegment);
        long txInvalid = rte_eth_stats.oerrors(statsSegment);
        long fillEmpty = 0;
        final PmdSocketStats kernel = socketStats;
        if (kernel != null) {
            kernel.read();
            if (kernel.family() == PmdSocketStats.AF_XDP) {
                // net_af_xdp's imissed is XDP rx_dropped, which rxOther() and fillRingEmpty() split up.
                ringFull = kernel.rxRingFull();
                fillEmpty = kernel.fillRingEmpty();
                other += kernel.rxOther();
                txInvalid += kernel.txInvalid();
            } else {
                ringFull += kernel.rxRingFull();
            }
        }
        counters.set(Counter.DROP_RX_RING_FULL, ringFull);
        counters.set(Counter.DROP_FILL_RING_EMPTY, fillEmpty);
        counters.set(Counter.DROP_RX_OTHER, other);
        counters.set(Counter.DROP_NO_BUFFER, rte_eth_stats.rx_nombuf(statsSegment));
        counters.set(Counter.DROP_TX_INVALID, txInvalid);
    }

    /**
     * @return the PMD's extended statistics by name
     * @throws BypassException if DPDK refuses them
     */
    Map<String, Long> extended() {
        try (Arena a = Arena.ofConfined()) {
            // The count can grow between the two calls (queues): ask again until it fits.
            for (int attempt = 0; attempt < 3; attempt++) {
                final int n = Ethdev.rte_eth_xstats_get_names(dev.portId, MemorySegment.NULL, 0);
                dev.check(n, "rte_eth_xstats_get_names");
                if (n == 0) {
                    return Map.of();
                }
                final MemorySegment names = rte_eth_xstat_name.allocateArray(n, a);
                final MemorySegment values = rte_eth_xstat.allocateArray(n, a);
                final int gotNames = Ethdev.rte_eth_xstats_get_names(dev.portId, names, n);
                final int gotValues = Ethdev.rte_eth_xstats_get(dev.portId, values, n);
                dev.check(gotNames, "rte_eth_xstats_get_names");
                dev.check(gotValues, "rte_eth_xstats_get");
                if (gotNames > n || gotValues > n) {
                    continue;
                }
                final Map<String, Long> result = new LinkedHashMap<>();
                for (int i = 0; i < Math.min(gotNames, gotValues); i++) {
                    final MemorySegment v = rte_eth_xstat.asSlice(values, i);
                    final long id = rte_eth_xstat.id(v);
                    if (id >= 0 && id < gotNames) {
                        result.put(rte_eth_xstat_name.name(rte_eth_xstat_name.asSlice(names, id)).getString(0),
                            rte_eth_xstat.value(v));
                    }
                }
                return result;
            }
            throw new BypassException("dpdk: the extended statistics of " + dev.name + " kept changing size");
        }
    }

    /** @return true if the link is up */
    boolean linkUp() {
        return Ethdev.rte_eth_link_get_nowait(dev.portId, linkSegment) == 0
            && (linkSegment.get(ValueLayout.JAVA_BYTE, 4) & LINK_STATUS_BIT) != 0;
    }

    /** @return the link speed in Mbit/s, 0 if unknown */
    int linkSpeedMbps() {
        if (Ethdev.rte_eth_link_get_nowait(dev.portId, linkSegment) != 0) {
            return 0;
        }
        final int speed = rte_eth_link.link_speed(linkSegment);
        return speed == Ethdev.RTE_ETH_SPEED_NUM_UNKNOWN() ? 0 : speed;
    }
}
