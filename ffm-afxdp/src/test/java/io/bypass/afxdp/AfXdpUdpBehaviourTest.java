package io.bypass.afxdp;

import io.bypass.conformance.UdpBehaviourSuite;

/** {@link UdpBehaviourSuite} on {@code afxdp:} (generic XDP) over a veth pair. */
class AfXdpUdpBehaviourTest extends UdpBehaviourSuite {
    @Override
    protected String uriFor(final String iface) {
        return "afxdp:" + iface + "?xdp=skb";
    }
}
