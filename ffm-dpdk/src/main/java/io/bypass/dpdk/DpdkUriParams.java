package io.bypass.dpdk;

import io.bypass.spi.RxStallBudget;
import io.bypass.spi.UriParam;
import io.bypass.spi.UriParams;
import io.bypass.tcp.TcpUriParams;
import io.bypass.udp.UdpUriParams;

import java.util.List;

/**
 * The URI keys of {@code dpdk:}: its own, declared here, and the shared ones it reads (huge pages,
 * the stall budget, and the UDP layer's keys, VLAN included), which mean the same as on every
 * backend. {@link DpdkContext#withUri} reads them; the EAL keys ({@code lcores}, {@code prefix},
 * {@code hugepages}, {@code memory}) take effect once per process, when the EAL starts.
 */
public final class DpdkUriParams {
    /** URI key: the port's IPv4 address and prefix length. */
    public static final String IP_PARAM_NAME = "ip";
    /** URI key: the default route. */
    public static final String GATEWAY_PARAM_NAME = "gateway";
    /** URI key: RX queues. */
    public static final String RX_QUEUES_PARAM_NAME = "rxQueues";
    /** URI key: TX queues. */
    public static final String TX_QUEUES_PARAM_NAME = "txQueues";
    /** URI key: RX descriptors per queue. */
    public static final String RX_DESC_PARAM_NAME = "rxDesc";
    /** URI key: TX descriptors per queue. */
    public static final String TX_DESC_PARAM_NAME = "txDesc";
    /** URI key: mbufs in the port's mempool. */
    public static final String MBUFS_PARAM_NAME = "mbufs";
    /** URI key: per-lcore mempool cache. */
    public static final String MBUF_CACHE_PARAM_NAME = "mbufCache";
    /** URI key: most mbufs one rx burst takes. */
    public static final String BURST_PARAM_NAME = "burst";
    /** URI key: promiscuous mode. */
    public static final String PROMISC_PARAM_NAME = "promisc";
    /** URI key: all-multicast mode. */
    public static final String ALLMULTI_PARAM_NAME = "allmulti";
    /** URI key: the port's MTU. */
    public static final String MTU_PARAM_NAME = "mtu";
    /** URI key: EAL {@code --lcores}. */
    public static final String LCORES_PARAM_NAME = "lcores";
    /** URI key: EAL {@code --file-prefix}. */
    public static final String PREFIX_PARAM_NAME = "prefix";
    /** URI key: EAL {@code -m}. */
    public static final String MEMORY_PARAM_NAME = "memory";

    /** Address. */
    public static final UriParam IP = UriParam.text(IP_PARAM_NAME, "A.B.C.D/NN", "none (required for UDP)",
        "the port's IPv4 address: DPDK owns the NIC, so the UDP layer answers ARP for it");
    /** Gateway. */
    public static final UriParam GATEWAY = UriParam.text(GATEWAY_PARAM_NAME, "A.B.C.D", "none: the subnet only",
        "the default route's next hop");
    /** RX queues. */
    public static final UriParam RX_QUEUES = UriParam.integer(RX_QUEUES_PARAM_NAME, 1, 1024, 1,
        "RX queues, RSS over IP/UDP when more than one");
    /** TX queues. */
    public static final UriParam TX_QUEUES = UriParam.integer(TX_QUEUES_PARAM_NAME, 1, 1024, 1, "TX queues");
    /** RX descriptors. */
    public static final UriParam RX_DESC = UriParam.integer(RX_DESC_PARAM_NAME, 1, 32768,
        "from the stall budget (16384), clamped by the PMD; net_af_packet 1024, net_af_xdp 2048",
        "RX descriptors per queue (net_af_packet buffers in its framecnt devarg instead, also from the stall budget)");
    /** TX descriptors. */
    public static final UriParam TX_DESC = UriParam.integer(TX_DESC_PARAM_NAME, 1, 32768, "1024", "TX descriptors per queue");
    /** Mempool size. */
    public static final UriParam MBUFS = UriParam.integer(MBUFS_PARAM_NAME, 0, 1 << 24, "0: sized from the rings",
        "mbufs in the port's mempool");
    /** Mempool cache. */
    public static final UriParam MBUF_CACHE = UriParam.integer(MBUF_CACHE_PARAM_NAME, 0, 512, "256",
        "per-lcore mempool cache");
    /** Burst. */
    public static final UriParam BURST = UriParam.integer(BURST_PARAM_NAME, 1, 512, "64",
        "most mbufs one rx burst takes, and each TX stash refill");
    /** Promiscuous. */
    public static final UriParam PROMISC = UriParam.bool(PROMISC_PARAM_NAME, false,
        "promiscuous mode (turned off again at close unless the interface had it)");
    /** All-multicast. */
    public static final UriParam ALLMULTI = UriParam.bool(ALLMULTI_PARAM_NAME, false,
        "all-multicast mode (turned off again at close unless the interface had it)");
    /** MTU. */
    public static final UriParam MTU = UriParam.integer(MTU_PARAM_NAME, 68, 65535, "the PMD's", "the port's MTU in bytes");
    /** EAL lcores. */
    public static final UriParam LCORES = UriParam.text(LCORES_PARAM_NAME, "EAL --lcores, e.g. 0@(2-3)",
        "one lcore floating on every allowed CPU", "EAL lcores, once per process");
    /** EAL file prefix. */
    public static final UriParam PREFIX = UriParam.text(PREFIX_PARAM_NAME, "letters, digits, _ . -",
        "private (bypass-PID) and --in-memory", "EAL --file-prefix, once per process: set it to share hugepages with other DPDK processes");
    /** EAL memory. */
    public static final UriParam MEMORY = UriParam.integer(MEMORY_PARAM_NAME, 1, 1 << 20,
        "256 without hugepages; DPDK's own with them", "EAL -m: MB of memory, once per process");

    /** The keys that configure the EAL, which starts once per process. */
    public static final List<UriParam> EAL = List.of(LCORES, PREFIX, UriParams.HUGEPAGES, MEMORY);

    /** Every key {@code dpdk:} accepts ({@code openUdp} hands the same URI to the UDP layer). */
    public static final List<UriParam> ALL = UriParams.join(List.of(IP, GATEWAY, RX_QUEUES, TX_QUEUES, RX_DESC, TX_DESC,
        MBUFS, MBUF_CACHE, BURST, PROMISC, ALLMULTI, MTU), EAL, RxStallBudget.URI_PARAMS, UdpUriParams.L2_ENDPOINT,
        TcpUriParams.L2_ENDPOINT);

    private DpdkUriParams() {
    }
}
