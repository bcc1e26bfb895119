package io.bypass.efvi;

import io.bypass.conformance.KernelPeerChecksumSuite;

/**
 * {@link KernelPeerChecksumSuite} on {@code efvi:} through the software libciul stand-in, on
 * a veth pair left as {@code ip link add} makes it. A kernel peer's partial sum never crosses
 * a wire, where it would be finished before a NIC saw it; the stand-in's NIC model does not
 * check it and delivers it as it is, without a verdict, so the protocol layer's software path
 * handles it as on afxdp: counted as partial under {@code nic} and {@code partial}, dropped
 * under {@code verify}.
 */
class EfviKernelPeerChecksumTest extends KernelPeerChecksumSuite {
    @Override
    protected String uriFor(final String iface) {
        return "efvi:" + iface;
    }

    @Override
    protected boolean partialChecksumsArrive() {
        return true;
    }
}
