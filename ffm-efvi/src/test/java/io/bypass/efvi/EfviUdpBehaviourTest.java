package io.bypass.efvi;

import io.bypass.conformance.UdpBehaviourSuite;

/** {@link UdpBehaviourSuite} on {@code efvi:} over a veth pair, through the software libciul stand-in. */
class EfviUdpBehaviourTest extends UdpBehaviourSuite {
    @Override
    protected String uriFor(final String iface) {
        return "efvi:" + iface;
    }
}
