package io.bypass.afxdp;

import io.bypass.conformance.KernelPeerChecksumSuite;

/** {@link KernelPeerChecksumSuite} on {@code afxdp:} with its defaults, on a veth pair left as {@code ip link add} makes it. */
class AfXdpKernelPeerChecksumTest extends KernelPeerChecksumSuite {
    @Override
    protected String uriFor(final String iface) {
        return "afxdp:" + iface;
    }

    @Override
    protected boolean partialChecksumsArrive() {
        return true;
    }
}
