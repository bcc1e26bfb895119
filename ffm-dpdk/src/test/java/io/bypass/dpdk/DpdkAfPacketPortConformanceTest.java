package io.bypass.dpdk;

import io.bypass.conformance.PortConformanceSuite;

/** {@link PortConformanceSuite} on a DPDK port through the net_af_packet PMD on a veth pair, without hugepages. */
class DpdkAfPacketPortConformanceTest extends PortConformanceSuite {
    @Override
    protected String uriFor(final String iface) {
        return DpdkConformance.uri("net_af_packet", site(), iface);
    }

    @Override
    protected String backendName() {
        return "dpdk";
    }

    @Override
    protected void assertNothingLeft(final String iface) {
        DpdkConformance.assertNoXdp(site(), iface);
    }
}
