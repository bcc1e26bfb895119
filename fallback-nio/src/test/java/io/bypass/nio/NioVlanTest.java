package io.bypass.nio;

import io.bypass.conformance.VlanConformanceSuite;

/**
 * {@link VlanConformanceSuite} on {@code nio:} over a veth pair: the kernel drops a frame of a
 * VLAN it has no interface for before any socket sees it, so nothing is counted here; for a
 * VLAN, open the kernel's VLAN interface ({@code vlan=N} is refused, naming it).
 */
class NioVlanTest extends VlanConformanceSuite {
    @Override
    protected String uriFor(final String iface) {
        return "nio:" + iface;
    }

    @Override
    protected boolean countsWrongVlan() {
        return false;
    }

    @Override
    protected boolean takesVlans() {
        return false;
    }
}
