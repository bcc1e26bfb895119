package io.bypass.afxdp;

import io.bypass.Counter;
import io.bypass.conformance.UdpConformanceSuite;
import io.bypass.testing.Frames;
import io.bypass.testkit.Cmd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every AF_XDP conformance run shares: which malformed frames reach the socket at
 * all (our XDP program passes the rest to the kernel), and the "nothing left" check.
 */
final class AfXdpConformance {
    private AfXdpConformance() {
    }

    /**
     * To our unicast address and a bound port. Our XDP program redirects the frames whose
     * UDP port it can read to a flow of ours (the protocol layer counts them) and counts the
     * rest in its bypass_malformed map when they are ours, which surfaces under the same
     * counters. Two kinds cannot be told ours on a unicast address, which the host shares
     * with every kernel socket, and go to the kernel uncounted: an IPv4 header cut short
     * (no destination address; the MAC is the host's) and a non-first fragment whose first
     * fragment was not ours (see AfXdpFragmentTest for one whose first fragment was). A port
     * no flow was added for stays with the kernel too.
     */
    static Counter expectedDropCounter(final Frames.Malformation m) {
        return switch (m) {
            case TRUNCATED, NON_FIRST_FRAGMENT, WRONG_PORT -> null;
            default -> UdpConformanceSuite.protocolLayerDropCounter(m);
        };
    }

    /**
     * To a joined group and port: every kind is ours but a port not joined. An IPv4 header
     * cut short is known by the group's MAC; a lone non-first fragment by the group address
     * (counted, and passed to the kernel in case a kernel socket on another port owns it).
     */
    static Counter expectedGroupDropCounter(final Frames.Malformation m) {
        return m == Frames.Malformation.WRONG_PORT ? null : UdpConformanceSuite.protocolLayerDropCounter(m);
    }

    /**
     * No XDP program left on the interface (the bpf_link was closed). Run on a thread in
     * the interface's namespace; an {@code ip} that cannot see the interface fails the
     * check instead of passing it with empty output.
     */
    static void assertNoXdp(final String iface) {
        final Cmd.Result r = Cmd.runUnchecked("ip", "link", "show", "dev", iface);
        assertEquals(0, r.exitCode(), "ip link show dev " + iface + ": " + r.stderr());
        assertTrue(r.stdout().contains(iface), r.stdout());
        assertFalse(r.stdout().contains("xdp"), "XDP program still attached after close: " + r.stdout());
    }
}
