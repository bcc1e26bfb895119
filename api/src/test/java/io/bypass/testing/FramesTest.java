package io.bypass.testing;


import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checks the reference frame builder against published values and itself; and the small helpers. */
class FramesTest {
    @Test
    void ipChecksumMatchesTheTextbookExample() {
        // The IPv4 header from Wikipedia's "IPv4 header checksum" article: checksum 0xB861.
        final int[] header = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
            0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
        final byte[] b = new byte[header.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) header[i];
        }
        assertEquals(0xB861, Frames.internetChecksum(b, 0, b.length, 0));
    }

    @Test
    void validFrameVerifiesAndEachMalformationBreaksIt() {
        final Frames.Udp spec = Frames.udp().macs(0x020000000001L, 0x020000000002L)
            .addresses(0x0A010101, 0x0A010102).ports(1234, 5678).payload(new byte[] {1, 2, 3});
        final byte[] ok = spec.build();
        assertEquals(14 + 20 + 8 + 3, ok.length);
        assertTrue(Frames.ipChecksumOk(ok));
        assertTrue(Frames.udpChecksumOk(ok));
        assertNotEquals(0, Frames.getShort(ok, Frames.UDP_OFFSET + 6));
        assertEquals(24, Frames.Malformation.TRUNCATED.apply(spec).length);
        final byte[] shortUdp = Frames.Malformation.TRUNCATED_UDP.apply(spec);
        assertEquals(14 + 20 + 4, shortUdp.length);
        assertEquals(24, Frames.getShort(shortUdp, Frames.IP_OFFSET + 2));
        assertTrue(Frames.ipChecksumOk(shortUdp));
        final byte[] beyond = Frames.Malformation.IHL_BEYOND_FRAME.apply(spec);
        assertEquals(15, beyond[Frames.IP_OFFSET] & 0x0F);
        assertTrue(beyond.length - 14 < 60, "IHL must reach beyond the frame");
        final byte[] later = Frames.Malformation.NON_FIRST_FRAGMENT.apply(spec);
        assertTrue(Frames.ipChecksumOk(later));
        assertEquals(1480 / 8, Frames.getShort(later, Frames.IP_OFFSET + 6));
        final byte[] ihl = Frames.Malformation.BAD_IHL.apply(spec);
        assertEquals(4, ihl[Frames.IP_OFFSET] & 0x0F);
        final byte[] total = Frames.Malformation.BAD_TOTAL_LENGTH.apply(spec);
        assertTrue(Frames.ipChecksumOk(total));
        assertEquals(ok.length - 14 + 100, Frames.getShort(total, Frames.IP_OFFSET + 2));
        final byte[] udpLen = Frames.Malformation.BAD_UDP_LENGTH.apply(spec);
        assertEquals(11 + 8, Frames.getShort(udpLen, Frames.UDP_OFFSET + 4));
        assertEquals(0, Frames.getShort(udpLen, Frames.UDP_OFFSET + 6));
        assertFalse(Frames.ipChecksumOk(Frames.Malformation.BAD_IP_CHECKSUM.apply(spec)));
        final byte[] badUdp = Frames.Malformation.BAD_UDP_CHECKSUM.apply(spec);
        assertTrue(Frames.ipChecksumOk(badUdp));
        assertFalse(Frames.udpChecksumOk(badUdp));
        final byte[] frag = Frames.Malformation.FRAGMENT.apply(spec);
        assertTrue(Frames.ipChecksumOk(frag));
        assertEquals(0x2000, Frames.getShort(frag, Frames.IP_OFFSET + 6));
        assertEquals(Frames.STRANGER_MAC, Frames.getMac(Frames.Malformation.WRONG_MAC.apply(spec), 0));
        final byte[] port = Frames.Malformation.WRONG_PORT.apply(spec);
        assertEquals(5679, Frames.getShort(port, Frames.UDP_OFFSET + 2));
        assertTrue(Frames.udpChecksumOk(port));
        assertTrue(Frames.udpChecksumOk(spec.build()), "apply must not modify the spec");
    }

    @Test
    void allocationsCountsBytesAndNothingForNothing() {
        assertEquals(0, Allocations.measure(() -> { }, 1000));
        final Object[] sink = new Object[1];
        final long bytes = Allocations.measure(() -> sink[0] = new byte[4096], 10);
        assertTrue(bytes >= 4096, "counted " + bytes);
    }

    @Test
    void requireFailsUnderRequireAllAndAbortsOtherwise() {
        Requirements.require(true, "never shown");
        final String old = System.getProperty(Requirements.REQUIRE_ALL_PROPERTY);
        try {
            System.setProperty(Requirements.REQUIRE_ALL_PROPERTY, "true");
            final AssertionError e = assertThrows(AssertionError.class, () -> Requirements.require(false, "the reason"));
            assertEquals("required but unavailable: the reason", e.getMessage());
            if (!"true".equals(System.getenv("BYPASS_REQUIRE_ALL"))) {
                System.setProperty(Requirements.REQUIRE_ALL_PROPERTY, "false");
                assertThrows(org.opentest4j.TestAbortedException.class, () -> Requirements.require(false, "the reason"));
            }
        } finally {
            if (old == null) {
                System.clearProperty(Requirements.REQUIRE_ALL_PROPERTY);
            } else {
                System.setProperty(Requirements.REQUIRE_ALL_PROPERTY, old);
            }
        }
    }

    @Test
    void missingBackendIsNamed() {
        final String old = System.getProperty(Requirements.REQUIRE_ALL_PROPERTY);
        try {
            System.setProperty(Requirements.REQUIRE_ALL_PROPERTY, "true");
            final AssertionError e = assertThrows(AssertionError.class, () -> Requirements.requireBackendAvailable("nosuchbackend"));
            assertTrue(e.getMessage().contains("nosuchbackend"), e.getMessage());
        } finally {
            if (old == null) {
                System.clearProperty(Requirements.REQUIRE_ALL_PROPERTY);
            } else {
                System.setProperty(Requirements.REQUIRE_ALL_PROPERTY, old);
            }
        }
    }
}
