package io.bypass.afxdp;

import io.bypass.Counter;
import io.bypass.conformance.ConformanceSite;
import io.bypass.conformance.TcpConformanceSuite;
import io.bypass.tcp.TcpEndpoint;

/**
 * {@link TcpConformanceSuite} on {@code afxdp:} (native XDP on veth, copy mode): Bypass's own TCP
 * beside the kernel, which keeps the DUT interface's address; each listener and connection steers its
 * flow with the XDP program and reserves its port in the kernel. The veth pair is left as
 * {@code ip link add} makes it, so the kernel peer's segments carry partial checksums (accepted and
 * counted, {@link io.bypass.net.ChecksumPolicy}).
 *
 * <p>Loss toward us must be real, and the suite's default drops at the DUT interface's netdev ingress
 * hook, which an XDP program runs before: it would drop nothing of ours. So the port is opened on a
 * veth behind a bridge in the DUT namespace, which drops ({@link AfXdpTcpLoss}).
 */
class AfXdpTcpConformanceTest extends TcpConformanceSuite {
    private boolean bridged;

    @Override
    protected ConformanceSite.Kind siteKind() {
        return ConformanceSite.Kind.VETH_OFFLOAD_ON;
    }

    @Override
    protected String uriFor(final String iface) {
        if (site() == null) {
            return "afxdp:" + iface + "?xdp=drv&mode=copy";
        }
        if (!bridged) {
            AfXdpTcpLoss.bridge(site());
            bridged = true;
        }
        return "afxdp:" + AfXdpTcpLoss.IFACE + "?xdp=drv&mode=copy";
    }

    @Override
    protected long dutRetransmittedSegments(final TcpEndpoint endpoint) {
        return endpoint.counters().get(Counter.TCP_RETRANSMITTED_SEGMENTS);
    }

    @Override
    protected void dutIngressLoss(final int percent) {
        AfXdpTcpLoss.set(site(), percent);
    }

    @Override
    protected long dutIngressLossDrops() {
        return AfXdpTcpLoss.drops(site());
    }
}
