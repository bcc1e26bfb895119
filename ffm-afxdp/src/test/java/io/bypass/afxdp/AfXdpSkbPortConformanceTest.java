package io.bypass.afxdp;

import io.bypass.conformance.PortConformanceSuite;

/** The L2 port conformance suite over AF_XDP with generic (skb) XDP on veth, mode=auto (copy on veth). */
class AfXdpSkbPortConformanceTest extends PortConformanceSuite {
    @Override
    protected String uriFor(final String iface) {
        return "afxdp:" + iface + "?xdp=skb";
    }

    @Override
    protected void assertNothingLeft(final String iface) {
        AfXdpConformance.assertNoXdp(iface);
    }
}
