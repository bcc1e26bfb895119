package io.bypass.afxdp;

import io.bypass.conformance.VlanConformanceSuite;

/**
 * {@link VlanConformanceSuite} over AF_XDP with native (driver) XDP on veth: the XDP program
 * leaves other VLANs' frames to the kernel and counts those addressed to our flows.
 */
class AfXdpDrvVlanTest extends VlanConformanceSuite {
    @Override
    protected String uriFor(final String iface) {
        return "afxdp:" + iface + "?xdp=drv&mode=copy";
    }
}
