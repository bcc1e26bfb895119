package io.bypass.efvi;

import io.bypass.conformance.PortConformanceSuite;

/**
 * The L2 Port conformance suite against {@code efvi:} on a veth pair, through the shim and
 * Bypass's software libciul stand-in (surefire sets {@code bypass.efvi.libciul}). The
 * suite's UDP frames reach RX queue 0 through ef_vi filters ({@code steer} = addFlow).
 */
class EfviPortConformanceTest extends PortConformanceSuite {
    @Override
    protected String uriFor(final String iface) {
        return "efvi:" + iface;
    }

    @Override
    protected void assertNothingLeft(final String iface) throws Exception {
        EfviConformance.assertNoVi(iface);
    }
}
