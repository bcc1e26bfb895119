package io.bypass.dpdk;

import io.bypass.Counter;
import io.bypass.conformance.TcpConformanceSuite;
import io.bypass.testkit.Netns;
import io.bypass.tcp.TcpEndpoint;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@link TcpConformanceSuite} on a DPDK port through the net_af_packet PMD, without hugepages: Bypass's
 * own TCP against the kernel's in the peer namespace. The DUT's kernel holds no address (see
 * {@link DpdkConformance#uri}), so it never answers our flows.
 *
 * <p>Loss toward us must be real: a packet socket sees a frame before the netdev ingress hook the suite's
 * default drops at, so dropping there would hide nothing from DPDK. Instead the DUT namespace bridges the
 * site's veth end to a second veth pair whose far end DPDK opens ({@value #DPDK_IFACE}), and the suite's
 * DUT-side loss drops in the bridge's forward chain, before the frame ever reaches DPDK's interface.
 */
class DpdkAfPacketTcpConformanceTest extends TcpConformanceSuite {
    /** The interface DPDK opens, behind the DUT namespace's bridge. */
    static final String DPDK_IFACE = "bptcpx";
    private static final String BRIDGE_SIDE = "bptcpy";
    private static final String BRIDGE = "bptcpbr";
    private static final String TABLE = "bypass_tcp_bridge_loss";
    private boolean bridged;

    @Override
    protected String uriFor(final String iface) {
        if (site() == null) {
            return DpdkConformance.uri("net_af_packet", null, iface);
        }
        if (!bridged) {
            final Netns ns = site().dutNamespace();
            ns.ip("addr", "flush", "dev", iface);
            ns.ip("link", "add", DPDK_IFACE, "type", "veth", "peer", "name", BRIDGE_SIDE);
            ns.ip("link", "add", BRIDGE, "type", "bridge");
            ns.ip("link", "set", iface, "master", BRIDGE);
            ns.ip("link", "set", BRIDGE_SIDE, "master", BRIDGE);
            for (final String dev : new String[] {DPDK_IFACE, BRIDGE_SIDE, BRIDGE, iface}) {
                ns.ip("link", "set", dev, "up");
            }
            bridged = true;
        }
        return DpdkConformance.uri("net_af_packet", site(), DPDK_IFACE);
    }

    @Override
    protected String backendName() {
        return "dpdk";
    }

    @Override
    protected long dutRetransmittedSegments(final TcpEndpoint endpoint) {
        return endpoint.counters().get(Counter.TCP_RETRANSMITTED_SEGMENTS);
    }

    /** Drops in the DUT namespace's bridge, on the way from the site's veth to DPDK's. */
    @Override
    protected void dutIngressLoss(final int percent) {
        final Netns ns = site().dutNamespace();
        ns.execUnchecked("nft", "delete", "table", "bridge", TABLE);
        if (percent == 0) {
            return;
        }
        ns.exec("nft", "add", "table", "bridge", TABLE);
        ns.exec("nft", "add", "chain", "bridge", TABLE, "forward", "{ type filter hook forward priority 0; }");
        ns.exec("nft", "add", "rule", "bridge", TABLE, "forward", "iifname", site().dutIface(), "oifname", BRIDGE_SIDE,
            "ip", "protocol", "tcp", "numgen", "random", "mod", "100", "<", String.valueOf(percent), "counter", "drop");
    }

    @Override
    protected long dutIngressLossDrops() {
        final String out = site().dutNamespace().execUnchecked("nft", "list", "table", "bridge", TABLE).stdout();
        final Matcher m = Pattern.compile("counter packets (\\d+) bytes \\d+ drop").matcher(out);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }
}
