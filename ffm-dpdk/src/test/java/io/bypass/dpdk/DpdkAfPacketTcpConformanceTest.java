package io.bypass.dpdk;

import io.bypass.Counter;
import io.bypass.conformance.BridgedDutLoss;
import io.bypass.conformance.TcpConformanceSuite;
import io.bypass.conformance.TcpLossRules;
import io.bypass.tcp.TcpEndpoint;

/**
 * {@link TcpConformanceSuite} on a DPDK port through the net_af_packet PMD, without hugepages: Bypass's
 * own TCP against the kernel's in the peer namespace. The DUT's kernel holds no address (see
 * {@link DpdkConformance#uri}), so it never answers our flows.
 *
 * <p>Loss toward us must be real: a packet socket sees a frame before the netdev ingress hook the suite's
 * default drops at, so dropping there would hide nothing from DPDK. Instead the DUT namespace bridges the
 * site's veth end to a second veth pair whose far end DPDK opens, and the suite's DUT-side loss drops in the
 * bridge's forward chain, before the frame ever reaches DPDK's interface ({@link BridgedDutLoss}).
 */
class DpdkAfPacketTcpConformanceTest extends TcpConformanceSuite {
    private final BridgedDutLoss loss = new BridgedDutLoss("bptcp", false);
    private boolean bridged;

    @Override
    protected String uriFor(final String iface) {
        if (site() == null) {
            return DpdkConformance.uri("net_af_packet", null, iface);
        }
        if (!bridged) {
            loss.bridge(site());
            bridged = true;
        }
        return DpdkConformance.uri("net_af_packet", site(), loss.iface());
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
        loss.set(site(), percent);
    }

    @Override
    protected TcpLossRules.Drops dutIngressLossDrops() {
        return loss.drops(site());
    }
}
