package io.bypass.efvi;

import io.bypass.FrameMeta;
import io.bypass.efvi.internal.NicChecksumVerdict;
import io.bypass.testing.Frames;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Which sum an ef_vi {@code CSUM_BAD} discard blames, told by the IPv4 header's own sum,
 * untagged and 802.1Q-tagged, and what it blames where there is no IPv4 header to check.
 */
class NicChecksumVerdictTest {
    private static final Frames.Udp SPEC = Frames.udp().macs(0x02_00_00_00_00_02L, 0x02_00_00_00_00_01L)
        .addresses(0x0a_00_00_02, 0x0a_00_00_01).ports(40_000, 9_000).payload(new byte[24]);

    private static int verdict(final byte[] frame, final int offset) {
        return NicChecksumVerdict.ofCsumBad(new UnsafeBuffer(frame), offset, frame.length - offset);
    }

    /** The frame with an 802.1Q tag (VLAN 7) inserted after the MACs, behind {@code lead} bytes of something else. */
    private static byte[] tagged(final byte[] frame, final int lead) {
        final byte[] t = new byte[lead + frame.length + 4];
        System.arraycopy(frame, 0, t, lead, 12);
        t[lead + 12] = (byte) 0x81;
        t[lead + 13] = 0x00;
        t[lead + 15] = 7;
        System.arraycopy(frame, 12, t, lead + 16, frame.length - 12);
        return t;
    }

    @Test
    void blamesTheIpv4HeaderOnlyWhenItsSumIsWrong() {
        assertEquals(FrameMeta.L4_CHECKSUM_BAD, verdict(Frames.Malformation.BAD_UDP_CHECKSUM.apply(SPEC.copy()), 0));
        assertEquals(FrameMeta.IP_CHECKSUM_BAD, verdict(Frames.Malformation.BAD_IP_CHECKSUM.apply(SPEC.copy()), 0));
        assertEquals(FrameMeta.L4_CHECKSUM_BAD, verdict(tagged(Frames.Malformation.BAD_UDP_CHECKSUM.apply(SPEC.copy()), 3), 3));
        assertEquals(FrameMeta.IP_CHECKSUM_BAD, verdict(tagged(Frames.Malformation.BAD_IP_CHECKSUM.apply(SPEC.copy()), 3), 3));
    }

    @Test
    void blamesTheDatagramWhereNoIpv4HeaderCanBeChecked() {
        final byte[] ipv6 = SPEC.build();
        ipv6[12] = (byte) 0x86;
        ipv6[13] = (byte) 0xDD;
        assertEquals(FrameMeta.L4_CHECKSUM_BAD, verdict(ipv6, 0), "IPv6 has no header sum");
        assertEquals(FrameMeta.L4_CHECKSUM_BAD, verdict(new byte[10], 0), "shorter than Ethernet");
        final byte[] shortIp = java.util.Arrays.copyOf(Frames.Malformation.BAD_IP_CHECKSUM.apply(SPEC.copy()), 14 + 19);
        assertEquals(FrameMeta.L4_CHECKSUM_BAD, verdict(shortIp, 0), "IPv4 header cut short");
        final byte[] badIhl = Frames.Malformation.BAD_IHL.apply(SPEC.copy());
        assertEquals(FrameMeta.L4_CHECKSUM_BAD, verdict(badIhl, 0), "IHL below 5: dropped as unsound before any sum");
    }
}
