package io.bypass.net;

import io.bypass.Counter;
import io.bypass.Counters;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.bypass.net.RefFrames.IP_PEER;
import static io.bypass.net.RefFrames.IP_US;
import static io.bypass.net.RefFrames.MAC_PEER;
import static io.bypass.net.RefFrames.MAC_US;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The TCP flyweight and the classifier's TCP checks, on segments crafted byte by byte. */
class TcpSegmentTest {
    private static final int IP = Ethernet.HEADER_LENGTH;
    private static final int L4 = IP + Ipv4Header.MIN_HEADER_LENGTH;

    private Counters counters;
    private FrameClassifier classifier;

    @BeforeEach
    void setUp() {
        counters = new Counters();
        classifier = new FrameClassifier(counters).localMac(MAC_US).localAddress(IP_US).handleTcp(true);
    }

    /** A frame from the peer to us: Ethernet, IPv4, a TCP header with {@code options}, {@code payload} bytes. */
    private static UnsafeBuffer segment(final byte[] options, final int payload, final int flags) {
        final int tcpLength = Tcp.HEADER_LENGTH + options.length + payload;
        final int frameLength = L4 + tcpLength;
        final UnsafeBuffer b = new UnsafeBuffer(new byte[frameLength]);
        new Ethernet().wrap(b, 0, frameLength).header(MAC_US, MAC_PEER, Ethernet.ETHERTYPE_IPV4);
        new Ipv4Header().wrap(b, IP, frameLength - IP).header(20, 0, frameLength - IP, 1, Ipv4Header.FLAG_DF, 64,
            Ipv4Header.PROTOCOL_TCP, IP_PEER, IP_US).computeChecksum();
        final Tcp t = new Tcp().wrap(b, L4, tcpLength).header(40000, 9000, 0x8000_0001, 0x1234_5678,
            Tcp.HEADER_LENGTH + options.length, flags, 65535);
        b.putBytes(L4 + Tcp.HEADER_LENGTH, options);
        for (int i = 0; i < payload; i++) {
            b.putByte(L4 + Tcp.HEADER_LENGTH + options.length + i, (byte) i);
        }
        t.computeChecksum(IP_PEER, IP_US);
        return b;
    }

    private static byte[] synOptions() {
        final UnsafeBuffer o = new UnsafeBuffer(new byte[24]);
        int n = Tcp.writeSynOptions(o, 0, 1460, 7, true);
        n += Tcp.writeTimestamps(o, n, 111, 222);
        final byte[] out = new byte[n];
        o.getBytes(0, out);
        return out;
    }

    private void assertDrop(final Counter expected, final UnsafeBuffer frame) {
        long before = 0;
        for (final Counter c : Counter.values()) {
            before += counters.get(c);
        }
        assertEquals(FrameClassifier.DROPPED, classifier.classify(frame, 0, frame.capacity()), expected.name());
        assertEquals(expected, classifier.lastDrop());
        long after = 0;
        for (final Counter c : Counter.values()) {
            after += counters.get(c);
        }
        assertEquals(1, counters.get(expected));
        assertEquals(before + 1, after, "exactly one counter moved");
    }

    @Test
    void aSynWithEveryOptionIsReadField() {
        final UnsafeBuffer f = segment(synOptions(), 0, Tcp.SYN);
        assertEquals(FrameClassifier.TCP, classifier.classify(f, 0, f.capacity()));
        final Tcp t = classifier.tcp();
        assertEquals(40000, t.sourcePort());
        assertEquals(9000, t.destinationPort());
        assertEquals(0x8000_0001, t.sequence());
        assertEquals(0x1234_5678, t.acknowledgement());
        assertEquals(Tcp.SYN, t.flags());
        assertTrue(t.isSyn());
        assertEquals(65535, t.window());
        assertEquals(0, t.urgentPointer());
        assertEquals(1460, t.mss());
        assertEquals(7, t.windowScale());
        assertTrue(t.sackPermitted());
        assertTrue(t.hasTimestamps());
        assertEquals(111, t.timestampValue());
        assertEquals(222, t.timestampEcho());
        assertEquals(Tcp.HEADER_LENGTH + 24, t.headerLength());
        assertEquals(0, t.payloadLength());
        assertTrue(t.isChecksumValid(IP_PEER, IP_US));
        assertEquals(0, counters.get(Counter.DROP_BAD_TCP_HEADER));
    }

    @Test
    void dataAfterOptionsIsWhereTheOffsetSays() {
        final UnsafeBuffer f = segment(new byte[] {1, 1, 1, 0}, 100, Tcp.ACK | Tcp.PSH);
        assertEquals(FrameClassifier.TCP, classifier.classify(f, 0, f.capacity()));
        final Tcp t = classifier.tcp();
        assertEquals(L4 + 24, t.payloadOffset());
        assertEquals(100, t.payloadLength());
        assertEquals(99, f.getByte(t.payloadOffset() + 99));
        assertEquals(-1, t.mss());
        assertEquals(-1, t.windowScale());
        assertFalse(t.sackPermitted());
    }

    @Test
    void sackBlocksAreReadAndABlockOfTheWrongLengthIsABadHeader() {
        final UnsafeBuffer f = segment(new byte[] {1, 1, 5, 18, 0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 40}, 0, Tcp.ACK);
        assertEquals(FrameClassifier.TCP, classifier.classify(f, 0, f.capacity()));
        final Tcp t = classifier.tcp();
        assertEquals(2, t.sackBlocks());
        assertEquals(10, t.sackLeft(0));
        assertEquals(20, t.sackRight(0));
        assertEquals(30, t.sackLeft(1));
        assertEquals(40, t.sackRight(1));
        final UnsafeBuffer bad = segment(new byte[] {1, 1, 5, 14, 0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30}, 0, Tcp.ACK);
        assertEquals(FrameClassifier.DROPPED, classifier.classify(bad, 0, bad.capacity()));
        assertEquals(1, counters.get(Counter.DROP_BAD_TCP_HEADER));
    }

    @Test
    void aWindowScaleAbove14IsTakenAs14() {
        final UnsafeBuffer f = segment(new byte[] {1, 3, 3, 20}, 0, Tcp.SYN);
        assertEquals(FrameClassifier.TCP, classifier.classify(f, 0, f.capacity()));
        assertEquals(14, classifier.tcp().windowScale());
    }

    @Test
    void aBadChecksumIsCountedAndDropped() {
        final UnsafeBuffer f = segment(new byte[0], 10, Tcp.ACK);
        f.putByte(f.capacity() - 1, (byte) 0x55);
        assertDrop(Counter.DROP_BAD_TCP_CHECKSUM, f);
    }

    @Test
    void aKernelPeersPartialChecksumIsAcceptedUnlessVerifying() {
        final UnsafeBuffer f = segment(new byte[0], 10, Tcp.ACK);
        final int len = f.capacity() - L4;
        f.putShort(L4 + Tcp.CHECKSUM_OFFSET, (short) Checksums.fold(Checksums.tcpPseudoHeaderSum(IP_PEER, IP_US, len)),
            java.nio.ByteOrder.BIG_ENDIAN);
        assertEquals(FrameClassifier.TCP, classifier.classify(f, 0, f.capacity()));
        assertEquals(1, counters.get(Counter.RX_PARTIAL_CHECKSUM));
        classifier.checksumPolicy(ChecksumPolicy.VERIFY);
        assertDrop(Counter.DROP_BAD_TCP_CHECKSUM, f);
    }

    @Test
    void aDataOffsetBelowFiveIsABadHeader() {
        final UnsafeBuffer f = segment(new byte[0], 10, Tcp.ACK);
        f.putByte(L4 + Tcp.DATA_OFFSET_OFFSET, (byte) (4 << 4));
        fixTcpChecksum(f);
        assertDrop(Counter.DROP_BAD_TCP_HEADER, f);
    }

    @Test
    void aDataOffsetPastTheSegmentIsABadHeader() {
        final UnsafeBuffer f = segment(new byte[0], 8, Tcp.ACK);
        f.putByte(L4 + Tcp.DATA_OFFSET_OFFSET, (byte) (15 << 4));
        fixTcpChecksum(f);
        assertDrop(Counter.DROP_BAD_TCP_HEADER, f);
    }

    @Test
    void anOptionRunningPastTheHeaderIsABadHeader() {
        assertDrop(Counter.DROP_BAD_TCP_HEADER, segment(new byte[] {1, 1, 2, 4}, 0, Tcp.SYN));
    }

    @Test
    void anOptionLengthOfOneIsABadHeader() {
        setUp();
        assertDrop(Counter.DROP_BAD_TCP_HEADER, segment(new byte[] {8, 1, 0, 0}, 0, Tcp.SYN));
    }

    @Test
    void aWrongLengthMssIsABadHeader() {
        assertDrop(Counter.DROP_BAD_TCP_HEADER, segment(new byte[] {2, 3, 5, 0}, 0, Tcp.SYN));
    }

    @Test
    void aSegmentShorterThanTheHeaderIsTruncated() {
        final UnsafeBuffer f = segment(new byte[0], 0, Tcp.ACK);
        final int ipLength = Ipv4Header.MIN_HEADER_LENGTH + 12;
        new Ipv4Header().wrap(f, IP, ipLength).totalLength(ipLength).computeChecksum();
        assertDrop(Counter.DROP_TRUNCATED, f);
    }

    @Test
    void aSegmentToAnotherAddressIsNotOurs() {
        classifier.localAddress(IP_US + 1);
        assertDrop(Counter.DROP_NOT_OURS, segment(new byte[0], 0, Tcp.ACK));
    }

    @Test
    void withoutATcpLayerEverySegmentIsNotOurs() {
        classifier.handleTcp(false);
        assertDrop(Counter.DROP_NOT_OURS, segment(new byte[0], 0, Tcp.ACK));
    }

    @Test
    void sequenceNumbersCompareModulo2To32() {
        assertTrue(Tcp.before(0xFFFF_FFF0, 5));
        assertFalse(Tcp.before(5, 0xFFFF_FFF0));
        assertTrue(Tcp.beforeOrAt(7, 7));
        assertNull(null);
    }

    private static void fixTcpChecksum(final UnsafeBuffer f) {
        final int len = f.capacity() - L4;
        f.putShort(L4 + Tcp.CHECKSUM_OFFSET, (short) 0);
        f.putShort(L4 + Tcp.CHECKSUM_OFFSET, (short) Checksums.tcp(f, L4, len, IP_PEER, IP_US), java.nio.ByteOrder.BIG_ENDIAN);
    }
}
