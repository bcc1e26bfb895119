package io.bypass.efvi;

import io.bypass.conformance.KernelPeerChecksumSuite;

/**
 * {@link KernelPeerChecksumSuite} on {@code efvi:} through the software libciul stand-in, on
 * a veth pair left as {@code ip link add} makes it. The stand-in finishes a local kernel's
 * partial sums as the wire in front of a real NIC would, so none arrive partial.
 */
class EfviKernelPeerChecksumTest extends KernelPeerChecksumSuite {
    @Override
    protected String uriFor(final String iface) {
        return "efvi:" + iface;
    }

    @Override
    protected boolean partialChecksumsArrive() {
        return false;
    }
}
