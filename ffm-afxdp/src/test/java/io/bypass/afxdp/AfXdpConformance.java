package io.bypass.afxdp;

import io.bypass.Counter;
import io.bypass.testing.Frames;
import io.bypass.testing.Netns;

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
     * Frames our XDP program does not redirect never reach the endpoint, so no Bypass
     * counter can see them: an IPv4 header cut short or with IHL below 5, fragments, and
     * ports no flow was added for all go to the kernel (XDP_PASS).
     */
    static Counter expectedDropCounter(final Frames.Malformation m) {
        return switch (m) {
            case TRUNCATED, BAD_IHL, FRAGMENT, WRONG_PORT -> null;
            case BAD_TOTAL_LENGTH -> Counter.DROP_BAD_IP_LENGTH;
            case BAD_UDP_LENGTH -> Counter.DROP_BAD_UDP_LENGTH;
            case BAD_IP_CHECKSUM -> Counter.DROP_BAD_IP_CHECKSUM;
            case BAD_UDP_CHECKSUM -> Counter.DROP_BAD_UDP_CHECKSUM;
            case WRONG_MAC -> Counter.DROP_NOT_OURS;
        };
    }

    /**
     * No XDP program left on the interface (the bpf_link was closed). Run on a thread in
     * the interface's namespace; an {@code ip} that cannot see the interface fails the
     * check instead of passing it with empty output.
     */
    static void assertNoXdp(final String iface) {
        final Netns.Result r = Netns.runUnchecked("ip", "link", "show", "dev", iface);
        assertEquals(0, r.exitCode(), "ip link show dev " + iface + ": " + r.stderr());
        assertTrue(r.stdout().contains(iface), r.stdout());
        assertFalse(r.stdout().contains("xdp"), "XDP program still attached after close: " + r.stdout());
    }
}
