package io.bypass.afxdp;

import io.bypass.Counter;
import io.bypass.testing.Frames;
import io.bypass.testing.Netns;

import static org.junit.jupiter.api.Assertions.assertFalse;

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

    /** No XDP program left on the interface (the bpf_link was closed). */
    static void assertNoXdp(final String iface) {
        final String link = Netns.runUnchecked("ip", "link", "show", "dev", iface).stdout();
        assertFalse(link.contains("xdp"), "XDP program still attached after close: " + link);
    }
}
