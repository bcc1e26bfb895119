package io.bypass.net;

import io.bypass.testing.MemoryPort;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The headers a link writes for its datagrams, byte for byte against {@link RefFrames}' own
 * encoder, tagged and untagged, in heap and native memory, with full and offloaded checksums.
 */
class Ipv4UdpHeadersTest {
    private static final int IDENTIFICATION = 0x1234;
    private static final int TTL = 64;
    private final List<MemoryPort.Pair> pairs = new ArrayList<>();

    @AfterEach
    void close() {
        for (final MemoryPort.Pair pair : pairs) {
            pair.a().close();
            pair.b().close();
        }
    }

    private Ipv4UdpHeaders headers(final int vlan) {
        final MemoryPort.Pair pair = MemoryPort.pair(
            new MemoryPort.Config().mac("02:00:00:00:00:0b").ipv4("10.0.0.2", 24).uri("memory:a"),
            new MemoryPort.Config().uri("memory:b"));
        pairs.add(pair);
        return new Ipv4UdpHeaders(new Ipv4Link(pair.a(), vlan, 0));
    }

    /** Writes one datagram at {@code at} in {@code buffer} and returns its bytes. */
    private static byte[] datagram(final Ipv4UdpHeaders headers, final UnsafeBuffer buffer, final int at, final byte[] payload,
                                   final int destination, final boolean offload) {
        buffer.setMemory(0, buffer.capacity(), (byte) 0x5A); // what a reused frame held before
        final int frameLength = headers.length() + payload.length;
        final long ipSum = headers.write(buffer, at, frameLength, RefFrames.MAC_US, IDENTIFICATION, TTL, destination, 40000, 9000);
        buffer.putBytes(at + headers.length(), payload);
        assertEquals(frameLength, headers.finish(buffer, at, payload.length, ipSum, destination, offload));
        final byte[] frame = new byte[frameLength];
        buffer.getBytes(at, frame);
        return frame;
    }

    @Test
    void writesWhatTheReferenceEncoderWritesTaggedOrNot() {
        final SplittableRandom random = new SplittableRandom(17);
        for (final int vlan : new int[] {0, 100}) {
            final Ipv4UdpHeaders headers = headers(vlan);
            assertEquals(vlan == 0 ? 42 : 46, headers.length());
            for (final UnsafeBuffer buffer : new UnsafeBuffer[] {
                new UnsafeBuffer(new byte[2048]), new UnsafeBuffer(ByteBuffer.allocateDirect(2048))}) {
                for (int n = 0; n < 200; n++) {
                    final byte[] payload = new byte[random.nextInt(0, 1400)];
                    random.nextBytes(payload);
                    final int destination = random.nextBoolean() ? RefFrames.IP_US : 0xE000_0000 | random.nextInt(1 << 28);
                    final int at = random.nextInt(0, 64);
                    final byte[] expected = RefFrames.udp(RefFrames.MAC_US, vlan == 0 ? -1 : vlan, RefFrames.IP_PEER, destination,
                        40000, 9000, payload);
                    assertArrayEquals(expected, datagram(headers, buffer, at, payload, destination, false),
                        "vlan " + vlan + ", " + payload.length + " bytes to " + Ipv4.toString(destination));
                }
            }
        }
    }

    @Test
    void offloadLeavesTheFoldedPseudoHeaderSumForTheNic() {
        final Ipv4UdpHeaders headers = headers(0);
        final byte[] payload = "order 42".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        final byte[] frame = datagram(headers, new UnsafeBuffer(new byte[256]), 0, payload, RefFrames.IP_US, true);
        final byte[] full = RefFrames.udp(RefFrames.MAC_US, -1, RefFrames.IP_PEER, RefFrames.IP_US, 40000, 9000, payload);
        assertArrayEquals(Arrays.copyOf(full, 40), Arrays.copyOf(frame, 40), "all but the UDP checksum as the full one");
        final int udpLength = 8 + payload.length;
        final UnsafeBuffer view = new UnsafeBuffer(frame);
        assertTrue(Checksums.isUdpPartial(view, 34, udpLength, RefFrames.IP_PEER, RefFrames.IP_US));
        assertEquals(0, Checksums.ipv4Header(view, 14, 20), "the IPv4 checksum is always complete");
    }

    @Test
    void refusesHeadersOrDatagramsThatDoNotFitTheBuffer() {
        final Ipv4UdpHeaders headers = headers(0);
        final UnsafeBuffer small = new UnsafeBuffer(new byte[100]);
        small.setMemory(0, 100, (byte) 7);
        assertThrows(IndexOutOfBoundsException.class,
            () -> headers.write(small, 60, 60, RefFrames.MAC_US, 1, TTL, RefFrames.IP_US, 1, 2));
        assertThrows(IndexOutOfBoundsException.class,
            () -> headers.write(small, -1, 60, RefFrames.MAC_US, 1, TTL, RefFrames.IP_US, 1, 2));
        final long ipSum = headers.write(small, 0, 60, RefFrames.MAC_US, 1, TTL, RefFrames.IP_US, 1, 2);
        assertThrows(IndexOutOfBoundsException.class, () -> headers.finish(small, 0, 59, ipSum, RefFrames.IP_US, false));
        for (int i = 60; i < 100; i++) {
            assertEquals(7, small.getByte(i), "nothing written past the frame");
        }
    }
}
