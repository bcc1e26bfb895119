package io.bypass.nio;

import io.bypass.Counter;
import io.bypass.conformance.ConformanceSite;
import io.bypass.conformance.UdpConformanceSuite;
import io.bypass.testing.Frames;

/**
 * The same UDP conformance suite over loopback: endpoint and peer share {@code lo}
 * (127.0.0.1) in a namespace the suite creates, with multicast enabled there, so the
 * root namespace's routes are never touched.
 */
class NioLoopbackConformanceTest extends UdpConformanceSuite {
    @Override
    protected String uriFor(final String iface) {
        return "nio:" + iface + "?loop=true";
    }

    @Override
    protected ConformanceSite.Kind siteKind() {
        return ConformanceSite.Kind.LOOPBACK;
    }

    /** As over veth: the kernel drops malformed frames before the socket. */
    @Override
    protected Counter expectedDropCounter(final Frames.Malformation m) {
        return null;
    }
}
