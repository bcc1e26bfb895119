package io.bypass.nio;

import io.bypass.Counter;
import io.bypass.conformance.KernelPeerChecksumSuite;

/**
 * {@link KernelPeerChecksumSuite} on {@code nio:}: the kernel checks (and, for a local peer,
 * trusts) checksums before the socket sees a datagram, so nothing arrives partial and a
 * corrupt datagram never reaches a counter of ours.
 */
class NioKernelPeerChecksumTest extends KernelPeerChecksumSuite {
    @Override
    protected String uriFor(final String iface) {
        return "nio:" + iface;
    }

    @Override
    protected boolean partialChecksumsArrive() {
        return false;
    }

    @Override
    protected Counter corruptChecksumCounter() {
        return null;
    }
}
