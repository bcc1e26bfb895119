package io.bypass.dpdk;

import io.bypass.conformance.KernelPeerChecksumSuite;

/** {@link KernelPeerChecksumSuite} on {@code dpdk:} through net_af_xdp, on a veth pair left as {@code ip link add} makes it. */
class DpdkAfXdpKernelPeerChecksumTest extends KernelPeerChecksumSuite {
    @Override
    protected String uriFor(final String iface) {
        return DpdkConformance.uri("net_af_xdp", site(), iface);
    }

    @Override
    protected String backendName() {
        return "dpdk";
    }

    @Override
    protected boolean partialChecksumsArrive() {
        return true;
    }
}
