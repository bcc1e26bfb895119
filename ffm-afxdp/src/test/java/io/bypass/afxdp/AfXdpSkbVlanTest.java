package io.bypass.afxdp;

import io.bypass.conformance.VlanConformanceSuite;

/** {@link VlanConformanceSuite} over AF_XDP with generic (skb) XDP on veth. */
class AfXdpSkbVlanTest extends VlanConformanceSuite {
    @Override
    protected String uriFor(final String iface) {
        return "afxdp:" + iface + "?xdp=skb";
    }
}
