package io.bypass.dpdk;

import io.bypass.conformance.VlanConformanceSuite;

/** {@link VlanConformanceSuite} on a DPDK port through the net_af_xdp PMD on a veth pair, without hugepages. */
class DpdkAfXdpVlanTest extends VlanConformanceSuite {
    @Override
    protected String uriFor(final String iface) {
        return DpdkConformance.uri("net_af_xdp", site(), iface);
    }

    @Override
    protected String backendName() {
        return "dpdk";
    }
}
