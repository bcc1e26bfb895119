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
     * The RX ring is capped at the NIC's 4096 descriptors, of which ef_vi posts
     * {@code ef_vi_receive_capacity} = 4095: 20.5 ms at 200 kpps, below the default budget.
     */
    @Override
    protected int stallFrames() {
        // Less a few for the link's own traffic (IPv6 neighbour discovery, IGMP) that may take a buffer meanwhile.
        return 4095 - 32;
    }

    /**
     * Past the stand-in's packet ring as well (49,600 frames, the wire in front of the modelled NIC's
     * descriptors): its own overflow (the kernel's tp_drops) must show in the counts with the
     * descriptors' (rx_nodesc), or frames would go missing uncounted.
     */
    @Override
    protected int overflowBurst() {
        return 80_000;
    }

    /**
     * What no counter of ours can see, to our unicast address and a bound port. An
     * ip4_local filter (and the stand-in's model of it) matches a sound, unfragmented
     * IPv4/UDP header on this host's MAC; the port's kernel-side tap (MalformedTap) counts
     * the frames for our flows the filter leaves to the kernel, except two that cannot be
     * told ours on a unicast address, which the host shares with every kernel socket: an
     * IPv4 header cut short (no destination address, and the MAC is the host's) and a
     * non-first fragment (no port). A frame for another MAC never reaches the host's queues,
     * and a port without a filter stays with the kernel.
     */
    @Override
    protected Counter expectedDropCounter(final Frames.Malformation m) {
        return switch (m) {
            case TRUNCATED, NON_FIRST_FRAGMENT, WRONG_MAC, WRONG_PORT -> null;
            default -> super.expectedDropCounter(m);
        };
    }

    /**
     * To a joined group every malformed kind is counted: an IPv4 header cut short by the
     * group's MAC, a non-first fragment by the group address.
     */
    @Override
    protected Counter expectedGroupDropCounter(final Frames.Malformation m) {
        return switch (m) {
            case WRONG_MAC, WRONG_PORT -> null;
            default -> super.expectedDropCounter(m);
        };
    }

    /** After close no packet socket of the stand-in's VI is left on the interface. */
    @Override
    protected void assertNothingLeft(final String iface) throws Exception {
        EfviConformance.assertNoVi(iface);
    }
}
