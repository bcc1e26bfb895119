package io.bypass.afxdp;

import io.bypass.Counter;
import io.bypass.conformance.UdpConformanceSuite;
import io.bypass.testing.Frames;

/** The UDP conformance suite over AF_XDP with generic (skb) XDP on veth, mode=auto (copy on veth). */
class AfXdpSkbUdpConformanceTest extends UdpConformanceSuite {
    @Override
    protected String uriFor(final String iface) {
        return "afxdp:" + iface + "?xdp=skb";
    }

    @Override
    protected Counter expectedDropCounter(final Frames.Malformation m) {
        return AfXdpConformance.expectedDropCounter(m);
    }

    @Override
    protected Counter expectedGroupDropCounter(final Frames.Malformation m) {
        return AfXdpConformance.expectedGroupDropCounter(m);
    }

    @Override
    protected void assertNothingLeft(final String iface) {
        AfXdpConformance.assertNoXdp(iface);
    }
}
