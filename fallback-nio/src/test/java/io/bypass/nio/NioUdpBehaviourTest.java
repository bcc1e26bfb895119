package io.bypass.nio;

import io.bypass.conformance.UdpBehaviourSuite;

/** {@link UdpBehaviourSuite} on {@code nio:} over a veth pair. */
class NioUdpBehaviourTest extends UdpBehaviourSuite {
    @Override
    protected String uriFor(final String iface) {
        return "nio:" + iface;
    }
}
