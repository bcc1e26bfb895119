package io.bypass.efvi;

import io.bypass.Counter;
import io.bypass.conformance.UdpConformanceSuite;
import io.bypass.testing.Frames;

/**
 * The UDP conformance suite against {@code efvi:} on a veth pair, driven through the shim
 * by Bypass's software libciul stand-in (surefire sets {@code bypass.efvi.libciul}).
 * This proves the Java backend, the shim and the ef_vi call sequence; it says nothing
 * about a Solarflare NIC, which is still to be verified on one.
 */
class EfviUdpConformanceTest extends UdpConformanceSuite {
    @Override
    protected String uriFor(final String iface) {
        return "efvi:" + iface;
    }

    /**
     * A NIC's ip4_local filter (and the stand-in's model of it) needs a readable IPv4
     * destination address and UDP port addressed to this host's MAC. Frames it cannot
     * match stay with the kernel and never reach the VI, so no counter of ours moves;
     * the suite still checks they are not delivered and the good frames around them are.
     */
    @Override
    protected Counter expectedDropCounter(final Frames.Malformation m) {
        return switch (m) {
            case TRUNCATED, BAD_IHL, WRONG_MAC, WRONG_PORT -> null;
            default -> super.expectedDropCounter(m);
        };
    }

    /** After close no packet socket of the stand-in's VI is left on the interface. */
    @Override
    protected void assertNothingLeft(final String iface) throws Exception {
        EfviConformance.assertNoVi(iface);
    }
}
