package io.bypass.udp;

import io.bypass.net.ChecksumPolicy;
import io.bypass.spi.PortVlan;
import io.bypass.spi.UriParam;

import java.util.List;

/**
 * The URI keys of the UDP layer, the same on every backend that accepts them. The L2 backends
 * (afxdp, dpdk, efvi) hand their URI to {@link L2UdpEndpoint}, which reads all of these; nio
 * reads the two TTLs, the VLAN and the checksum policy.
 *
 * <pre>
 * afxdp:eth1?unicastTtl=32&amp;multicastTtl=4     // the same on dpdk:, efvi:, nio: and auto:
 * </pre>
 */
public final class UdpUriParams {
    /** URI key: the port queue (RX and TX) the endpoint uses. */
    public static final String QUEUE_PARAM_NAME = "queue";
    /** URI key: the source UDP port before any bind. */
    public static final String PORT_PARAM_NAME = "port";
    /** URI key: the IPv4 TTL of unicast datagrams. */
    public static final String UNICAST_TTL_PARAM_NAME = "unicastTtl";
    /** URI key: the IPv4 TTL of multicast datagrams. */
    public static final String MULTICAST_TTL_PARAM_NAME = "multicastTtl";
    /** URI key: the IGMP version of the reports sent on join and leave. */
    public static final String IGMP_PARAM_NAME = "igmp";

    /** Queue index. */
    public static final UriParam QUEUE = UriParam.integer(QUEUE_PARAM_NAME, 0, 65535, 0,
        "the port queue (RX and TX) a UDP endpoint uses: 0..rxQueues-1 on dpdk, 0..queues-1 on afxdp, 0 on efvi");
    /** Source port. */
    public static final UriParam PORT = UriParam.integer(PORT_PARAM_NAME, 0, 65535, "0: an ephemeral port",
        "the source UDP port of datagrams sent before any bind");
    /** Unicast TTL. */
    public static final UriParam UNICAST_TTL = UriParam.integer(UNICAST_TTL_PARAM_NAME, 1, 255, 64,
        "IPv4 TTL of unicast datagrams (nio: only the kernel's net.ipv4.ip_default_ttl, 64 unless changed, since NIO "
            + "cannot set IP_TTL)");
    /** Multicast TTL. */
    public static final UriParam MULTICAST_TTL = UriParam.integer(MULTICAST_TTL_PARAM_NAME, 1, 255, 1,
        "IPv4 TTL of multicast datagrams (IP_MULTICAST_TTL; 1 stays on the local network)");
    /** IGMP version. */
    public static final UriParam IGMP = UriParam.integer(IGMP_PARAM_NAME, 2, 3, 3,
        "IGMP version of the reports Bypass sends on join and leave (dpdk; afxdp and efvi leave IGMP to the kernel)");

    /** Every key {@link L2UdpEndpoint} reads; an L2 backend accepts them all. */
    public static final List<UriParam> L2_ENDPOINT = List.of(QUEUE, PORT, UNICAST_TTL, MULTICAST_TTL, IGMP, PortVlan.PARAM,
        ChecksumPolicy.PARAM);

    private UdpUriParams() {
    }
}
