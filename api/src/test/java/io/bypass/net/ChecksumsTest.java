package io.bypass.net;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Random;

import static io.bypass.net.RefFrames.checksum;
import static io.bypass.net.RefFrames.pseudo;
import static io.bypass.net.RefFrames.put16;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChecksumsTest {
    /** The IPv4 header from Wikipedia's "IPv4 header checksum" example: checksum b861. */
    private static final byte[] WIKI_HEADER = {
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
        (byte) 0xc0, (byte) 0xa8, 0x00, 0x01, (byte) 0xc0, (byte) 0xa8, 0x00, (byte) 0xc7};

    @Test
    void ipv4HeaderMatchesPublishedExample() {
        final byte[] h = WIKI_HEADER.clone();
        final UnsafeBuffer buffer = new UnsafeBuffer(h);
        assertEquals(0xB861, Checksums.ipv4Header(buffer, 0, 20));
        put16(h, 10, 0xB861);
        assertEquals(0, Checksums.ipv4Header(buffer, 0, 20));
        h[15] ^= 1;
        assertTrue(Checksums.ipv4Header(buffer, 0, 20) != 0);
    }

    @Test
    void rfc1071Example() {
        // RFC 1071 section 3: words 0001 f203 f4f5 f6f7 sum to ddf2 (folded)
        final byte[] b = {0x00, 0x01, (byte) 0xf2, 0x03, (byte) 0xf4, (byte) 0xf5, (byte) 0xf6, (byte) 0xf7};
        assertEquals(0xDDF2, Checksums.fold(Checksums.sum(new UnsafeBuffer(b), 0, 8, 0)));
        assertEquals(~0xDDF2 & 0xFFFF, Checksums.checksum(new UnsafeBuffer(b), 0, 8));
    }

    @Test
    void matchesReferenceForEveryLengthAndOffset() {
        final Random random = new Random(42);
        final byte[] data = new byte[1600];
        final UnsafeBuffer heap = new UnsafeBuffer(data);
        final UnsafeBuffer direct = new UnsafeBuffer(ByteBuffer.allocateDirect(1600));
        for (int round = 0; round < 20; round++) {
            random.nextBytes(data);
            direct.putBytes(0, data);
            for (int length = 0; length <= 80; length++) {
                for (int offset = 0; offset < 9; offset++) {
                    final int expected = checksum(data, offset, length, 0);
                    assertEquals(expected, Checksums.checksum(heap, offset, length), "len " + length + " off " + offset);
                    assertEquals(expected, Checksums.checksum(direct, offset, length), "direct len " + length + " off " + offset);
                }
            }
            final int len = 1 + random.nextInt(1590);
            assertEquals(checksum(data, 3, len, 0), Checksums.checksum(heap, 3, len));
        }
        // all 0xFF bytes exercise the carries
        java.util.Arrays.fill(data, (byte) 0xFF);
        assertEquals(checksum(data, 0, 1500, 0), Checksums.checksum(heap, 0, 1500));
    }

    @Test
    void piecesAddUp() {
        final Random random = new Random(7);
        final byte[] data = new byte[300];
        random.nextBytes(data);
        final UnsafeBuffer buffer = new UnsafeBuffer(data);
        final long s = Checksums.sum(buffer, 0, 100, 0);
        assertEquals(checksum(data, 0, 300, 0), ~Checksums.fold(Checksums.sum(buffer, 100, 200, s)) & 0xFFFF);
    }

    @Test
    void udpChecksumMatchesReferenceAndVerifies() {
        final Random random = new Random(1);
        for (int i = 0; i < 500; i++) {
            final byte[] payload = new byte[random.nextInt(200)];
            random.nextBytes(payload);
            final int src = random.nextInt();
            final int dst = random.nextInt();
            final byte[] frame = RefFrames.udp(RefFrames.MAC_US, -1, src, dst, 1234, 5678, payload);
            final UnsafeBuffer buffer = new UnsafeBuffer(frame);
            final int udpLen = 8 + payload.length;
            final int stored = RefFrames.get16(frame, 34 + 6);
            assertTrue(Checksums.isUdpValid(buffer, 34, udpLen, src, dst));
            put16(frame, 40, 0);
            assertEquals(stored, Checksums.udp(buffer, 34, udpLen, src, dst));
            put16(frame, 40, stored ^ 0x0100);
            assertFalse(Checksums.isUdpValid(buffer, 34, udpLen, src, dst));
            put16(frame, 40, 0);
            assertTrue(Checksums.isUdpValid(buffer, 34, udpLen, src, dst), "0 means no checksum");
        }
    }

    @Test
    void computedZeroIsSentAsFfff() {
        final byte[] udp = new byte[12];
        put16(udp, 0, 1000);
        put16(udp, 2, 2000);
        put16(udp, 4, 12);
        final int src = 0x0A000001;
        final int dst = 0x0A000002;
        // choose the last payload word so that the whole sum folds to 0xFFFF: checksum 0
        final int partial = ~checksum(udp, 0, 12, pseudo(src, dst, 12)) & 0xFFFF;
        put16(udp, 10, ~partial & 0xFFFF);
        assertEquals(0, checksum(udp, 0, 12, pseudo(src, dst, 12)));
        final UnsafeBuffer buffer = new UnsafeBuffer(udp);
        assertEquals(0xFFFF, Checksums.udp(buffer, 0, 12, src, dst));
        put16(udp, 6, 0xFFFF);
        assertTrue(Checksums.isUdpValid(buffer, 0, 12, src, dst));
    }

    @Test
    void igmpChecksumOfV2Report() {
        // 16 00 [cksum] ef 01 01 01: sum 1600 + ef01 + 0101 = 0x10602 -> 0x0603, complement f9fc
        final byte[] b = {0x16, 0, 0, 0, (byte) 0xef, 1, 1, 1};
        assertEquals(0xF9FC, Checksums.igmp(new UnsafeBuffer(b), 0, 8));
        assertEquals(checksum(b, 0, 8, 0), Checksums.igmp(new UnsafeBuffer(b), 0, 8));
    }
}
