package io.bypass.dpdk;

import io.bypass.conformance.UdpBehaviourSuite;

/** {@link UdpBehaviourSuite} on {@code dpdk:} through the net_af_packet PMD on a veth pair, without hugepages. */
class DpdkUdpBehaviourTest extends UdpBehaviourSuite {
    @Override
    protected String uriFor(final String iface) {
        return DpdkConformance.uri("net_af_packet", site(), iface);
    }

    @Override
    protected String backendName() {
        return "dpdk";
    }
}
