package io.bypass.dpdk;

import io.bypass.conformance.VlanConformanceSuite;

/**
 * {@link VlanConformanceSuite} on a DPDK port through the net_af_packet PMD on a veth pair,
 * without hugepages. The kernel moves a received 802.1Q tag into the packet socket's metadata;
 * the PMD puts it back in the frame (no VLAN strip offload is asked for), so the protocol layer
 * sees the tag as it was on the wire.
 */
class DpdkAfPacketVlanTest extends VlanConformanceSuite {
    @Override
    protected String uriFor(final String iface) {
        return DpdkConformance.uri("net_af_packet", site(), iface);
    }

    @Override
    protected String backendName() {
        return "dpdk";
    }
}
