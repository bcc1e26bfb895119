package io.bypass.dpdk;

import io.bypass.Port;

/**
 * What a DPDK port reports beyond {@link Port}. Every port opened with a {@code dpdk:} URI
 * implements it:
 *
 * <pre>{@code
 * try (Port port = Bypass.open("dpdk:net_af_packet0,iface=veth0?ip=10.0.0.1/24")) {
 *     if (port instanceof DpdkPort dpdk && !dpdk.isLinkUp()) { ... }
 * }
 * }</pre>
 */
public interface DpdkPort extends Port {
    /** How the port receives the multicast groups joined with {@link #joinMulticast(int)}. */
    enum MulticastFilter {
        /** The NIC filters on the list of group MACs ({@code rte_eth_dev_set_mc_addr_list}). */
        MAC_LIST,
        /** The PMD has no MAC list: all multicast is received ({@code rte_eth_allmulticast_enable}). */
        ALL_MULTICAST,
        /** The PMD has neither: the port is promiscuous. */
        PROMISCUOUS
    }

    /**
     * @return the ethdev port id
     */
    int portId();

    /**
     * @return true if the link is up ({@code rte_eth_link_get_nowait})
     */
    boolean isLinkUp();

    /**
     * @return the link speed in Mbit/s, 0 if unknown
     */
    int linkSpeedMbps();

    /**
     * @return free mbufs in the port's mempool ({@code rte_mempool_avail_count}), for leak checks
     */
    int mempoolAvailable();

    /**
     * @return how joined groups reach the port (a PMD without a MAC list falls back, reported here and in the log)
     */
    MulticastFilter multicastFilter();

    /**
     * The PMD's extended statistics ({@code rte_eth_xstats_get_names} / {@code rte_eth_xstats_get}),
     * by name, for diagnostics; off the hot path. {@link #counters()} already carries the drops of
     * {@code rte_eth_stats} and, for net_af_packet and net_af_xdp, the kernel's statistics of the
     * PMD's sockets; this shows what else a PMD reports (a PCI NIC's PMD often names more reasons).
     *
     * <pre>{@code
     * dpdk.extendedStatistics().forEach((name, value) -> { if (value != 0) System.out.println(name + "=" + value); });
     * }</pre>
     *
     * @return statistic name to value, in the PMD's order; empty if the PMD reports none
     */
    java.util.Map<String, Long> extendedStatistics();
}
