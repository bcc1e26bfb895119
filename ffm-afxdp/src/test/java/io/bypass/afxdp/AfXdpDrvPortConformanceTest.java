package io.bypass.afxdp;

import io.bypass.conformance.PortConformanceSuite;

/** The L2 port conformance suite over AF_XDP with native (driver) XDP on veth, copy mode. */
class AfXdpDrvPortConformanceTest extends PortConformanceSuite {
    @Override
    protected String uriFor(final String iface) {
        return "afxdp:" + iface + "?xdp=drv&mode=copy";
    }

    @Override
    protected void assertNothingLeft(final String iface) {
        AfXdpConformance.assertNoXdp(iface);
    }
}
