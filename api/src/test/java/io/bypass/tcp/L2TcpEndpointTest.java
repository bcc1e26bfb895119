package io.bypass.tcp;

import io.bypass.Counter;
import io.bypass.FrameClaim;
import io.bypass.PortUri;
import io.bypass.net.Arp;
import io.bypass.net.Ethernet;
import io.bypass.net.Ipv4;
import io.bypass.net.Ipv4Header;
import io.bypass.net.Mac;
import io.bypass.net.Tcp;
import io.bypass.testing.MemoryPort;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link L2TcpEndpoint} against segments crafted byte by byte on the other end of an in-memory wire:
 * RSTs for SYNs to closed ports, malformed segments counted once each, the passive handshake's options,
 * duplicate ACKs with SACK blocks for a hole, in-order delivery once it is filled, the window's edge.
 */
class L2TcpEndpointTest {
    private static final long MAC_US = Mac.parse("02:00:00:00:00:0a");
    private static final long MAC_PEER = Mac.parse("02:00:00:00:00:0b");
    private static final int US = Ipv4.parse("10.0.0.1");
    private static final int PEER = Ipv4.parse("10.0.0.2");
    private static final int L4 = Ethernet.HEADER_LENGTH + Ipv4Header.MIN_HEADER_LENGTH;

    private final CachedNanoClock clock = new CachedNanoClock();
    private MemoryPort peer;
    private L2TcpEndpoint ep;

    @BeforeEach
    void setUp() {
        final MemoryPort.Pair pair = MemoryPort.pair(new MemoryPort.Config().mac("02:00:00:00:00:0a").ipv4("10.0.0.1", 24)
            .uri("memory:a"), new MemoryPort.Config().mac("02:00:00:00:00:0b").ipv4("10.0.0.2", 24).uri("memory:b"));
        peer = pair.b();
        ep = new L2TcpEndpoint(pair.a(), PortUri.parse("memory:a?rcvbuf=65536"), true, clock);
    }

    @AfterEach
    void tearDown() {
        ep.close();
        peer.close();
    }

    private void send(final byte[] frame) {
        final FrameClaim c = new FrameClaim();
        assertTrue(peer.txQueue(0).tryClaim(frame.length, c));
        c.buffer().putBytes(c.offset(), frame);
        c.commit();
        peer.txQueue(0).flush();
    }

    /** A segment from the peer: {@code options} as written, {@code payload} bytes from {@code first}. */
    private static byte[] segment(final int srcPort, final int dstPort, final int seq, final int ack, final int flags,
                                  final byte[] options, final int payload, final int first) {
        final int tcpLength = Tcp.HEADER_LENGTH + options.length + payload;
        final UnsafeBuffer b = new UnsafeBuffer(new byte[Math.max(60, L4 + tcpLength)]);
        new Ethernet().wrap(b, 0, b.capacity()).header(MAC_US, MAC_PEER, Ethernet.ETHERTYPE_IPV4);
        new Ipv4Header().wrap(b, Ethernet.HEADER_LENGTH, 20 + tcpLength).header(20, 0, 20 + tcpLength, 7, Ipv4Header.FLAG_DF, 64,
            Ipv4Header.PROTOCOL_TCP, PEER, US).computeChecksum();
        final Tcp t = new Tcp().wrap(b, L4, tcpLength).header(srcPort, dstPort, seq, ack, Tcp.HEADER_LENGTH + options.length, flags,
            65535);
        b.putBytes(L4 + Tcp.HEADER_LENGTH, options);
        for (int i = 0; i < payload; i++) {
            b.putByte(L4 + Tcp.HEADER_LENGTH + options.length + i, (byte) (first + i));
        }
        t.computeChecksum(PEER, US);
        return b.byteArray();
    }

    private static Tcp parse(final byte[] frame) {
        final UnsafeBuffer b = new UnsafeBuffer(frame);
        final int ipLength = new Ipv4Header().wrap(b, Ethernet.HEADER_LENGTH, frame.length - Ethernet.HEADER_LENGTH).totalLength();
        final Tcp t = new Tcp().wrap(b, L4, ipLength - 20);
        assertEquals(Tcp.OK, t.parse());
        assertTrue(t.isChecksumValid(US, PEER), "our checksum verifies");
        return t;
    }

    private List<byte[]> replies() {
        ep.poll(16);
        return peer.drain();
    }

    private void learnPeer() {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[60]);
        new Ethernet().wrap(b, 0, 60).header(Mac.BROADCAST, MAC_PEER, Ethernet.ETHERTYPE_ARP);
        new Arp().wrap(b, Ethernet.HEADER_LENGTH, Arp.LENGTH).header(Arp.OP_REQUEST, MAC_PEER, PEER, Mac.ZERO, US);
        send(b.byteArray());
        assertEquals(1, replies().size(), "our ARP reply");
    }

    @Test
    void aSynToAClosedPortIsRefusedWithARstAndOtherStraysAreOnlyCounted() {
        send(segment(40000, 9000, 1000, 0, Tcp.SYN, new byte[0], 0, 0));
        final List<byte[]> out = replies();
        assertEquals(1, out.size());
        final Tcp rst = parse(out.get(0));
        assertEquals(Tcp.RST | Tcp.ACK, rst.flags());
        assertEquals(1001, rst.acknowledgement(), "ACK = SEG.SEQ + SEG.LEN (the SYN)");
        assertEquals(40000, rst.destinationPort());
        send(segment(40000, 9000, 1000, 5, Tcp.ACK, new byte[0], 10, 0));
        assertEquals(0, replies().size(), "no RST for a stray ACK: another endpoint on the wire may own it");
        assertEquals(2, ep.counters().get(Counter.DROP_TCP_NO_CONNECTION));
    }

    @Test
    void malformedSegmentsMoveExactlyOneCounterEach() {
        final byte[] bad = segment(40000, 9000, 1000, 0, Tcp.SYN, new byte[0], 4, 0);
        bad[L4 + Tcp.HEADER_LENGTH] ^= 0x5A; // the payload (the frame is padded to 60 bytes past it)
        send(bad);
        final byte[] offset = segment(40000, 9000, 1000, 0, Tcp.SYN, new byte[0], 0, 0);
        offset[L4 + Tcp.DATA_OFFSET_OFFSET] = (byte) (3 << 4);
        send(offset);
        assertEquals(0, replies().size());
        assertEquals(1, ep.counters().get(Counter.DROP_BAD_TCP_CHECKSUM));
        assertEquals(1, ep.counters().get(Counter.DROP_BAD_TCP_HEADER));
        assertEquals(0, ep.counters().get(Counter.DROP_TCP_NO_CONNECTION));
    }

    @Test
    void aPassiveOpenThenAHoleIsSackedAndTheBytesComeInOrder() {
        learnPeer();
        final TcpListener listener = ep.listen(9000);
        final byte[] syn = new byte[12];
        final UnsafeBuffer o = new UnsafeBuffer(syn);
        Tcp.writeSynOptions(o, 0, 1000, 7, true);
        send(segment(40000, 9000, 5000, 0, Tcp.SYN, syn, 0, 0));
        final List<byte[]> synAck = replies();
        assertEquals(1, synAck.size());
        final Tcp sa = parse(synAck.get(0));
        assertEquals(Tcp.SYN | Tcp.ACK, sa.flags());
        assertEquals(5001, sa.acknowledgement());
        assertEquals(1460, sa.mss(), "our MSS: the link's MTU less 40");
        assertTrue(sa.windowScale() >= 0 && sa.sackPermitted(), "window scale and SACK offered back");
        final int iss = sa.sequence();
        send(segment(40000, 9000, 5001, iss + 1, Tcp.ACK, new byte[0], 0, 0));
        assertEquals(0, replies().size());
        final TcpConnection c = listener.accept();
        assertNotNull(c);
        assertEquals(TcpState.ESTABLISHED, c.state());
        // bytes 100..199 arrive before 0..99: held, and a duplicate ACK with a SACK block goes at once
        send(segment(40000, 9000, 5101, iss + 1, Tcp.ACK, new byte[0], 100, 100));
        final List<byte[]> dup = replies();
        assertEquals(1, dup.size());
        final Tcp d = parse(dup.get(0));
        assertEquals(5001, d.acknowledgement());
        assertEquals(1, ep.counters().get(Counter.TCP_OUT_OF_ORDER_SEGMENTS));
        final UnsafeBuffer sack = new UnsafeBuffer(dup.get(0));
        final int at = L4 + Tcp.HEADER_LENGTH;
        assertEquals(Tcp.OPTION_SACK, sack.getByte(at + 2));
        assertEquals(5101, sack.getInt(at + 4, java.nio.ByteOrder.BIG_ENDIAN));
        assertEquals(5201, sack.getInt(at + 8, java.nio.ByteOrder.BIG_ENDIAN));
        send(segment(40000, 9000, 5001, iss + 1, Tcp.ACK, new byte[0], 100, 0));
        final ByteArrayOutputStream got = new ByteArrayOutputStream();
        final int calls = c.poll((b, off, len) -> {
            final byte[] x = new byte[len];
            b.getBytes(off, x);
            got.write(x, 0, len);
        }, 16);
        assertTrue(calls >= 1);
        final byte[] expected = new byte[200];
        for (int i = 0; i < 200; i++) {
            expected[i] = (byte) i;
        }
        assertArrayEquals(expected, got.toByteArray());
        final List<byte[]> acks = peer.drain();
        assertEquals(5201, parse(acks.get(acks.size() - 1)).acknowledgement(), "one ACK for everything");
        // beyond the 64 KiB window: answered with an ACK, counted, not taken
        send(segment(40000, 9000, 5201 + 70_000, iss + 1, Tcp.ACK, new byte[0], 10, 0));
        assertEquals(1, replies().size());
        assertEquals(1, ep.counters().get(Counter.DROP_TCP_OUT_OF_WINDOW));
        assertEquals(200, c.counters().get(Counter.TCP_BYTES_IN));
    }

    /** Connects to the crafted peer and completes the handshake; returns the connection and our ISS in {@code iss[0]}. */
    private TcpConnection established(final int[] iss) {
        learnPeer();
        final TcpConnection c = ep.connect(PEER, 9000);
        final List<byte[]> syn = peer.drain();
        assertEquals(1, syn.size());
        final Tcp s = parse(syn.get(0));
        assertEquals(Tcp.SYN, s.flags());
        assertEquals(1460, s.mss());
        iss[0] = s.sequence();
        send(segment(9000, c.localPort(), 7000, iss[0] + 1, Tcp.SYN | Tcp.ACK, new byte[0], 0, 0));
        assertEquals(1, replies().size(), "the handshake's ACK");
        assertEquals(TcpState.ESTABLISHED, c.state());
        return c;
    }

    @Test
    void aSimultaneousCloseWalksClosingAndTimeWait() {
        final int[] iss = new int[1];
        final TcpConnection c = established(iss);
        c.close();
        assertEquals(TcpState.FIN_WAIT_1, c.state());
        final List<byte[]> fin = peer.drain();
        assertEquals(Tcp.FIN | Tcp.ACK, parse(fin.get(0)).flags());
        // the peer's FIN crosses ours: it has not seen our FIN yet
        send(segment(9000, c.localPort(), 7001, iss[0] + 1, Tcp.FIN | Tcp.ACK, new byte[0], 0, 0));
        ep.poll(16);
        assertEquals(TcpState.CLOSING, c.state());
        send(segment(9000, c.localPort(), 7002, iss[0] + 2, Tcp.ACK, new byte[0], 0, 0));
        ep.poll(16);
        assertEquals(TcpState.TIME_WAIT, c.state());
        clock.advance(20_000_000L);
        ep.poll(16);
        assertEquals(TcpState.CLOSED, c.state(), "after timeWaitMs (10 ms by default)");
        assertEquals("closed", c.closeReason());
        assertEquals(1, ep.counters().get(Counter.TCP_CLOSED));
    }

    @Test
    void unacknowledgedDataIsResentWithBackOffThenTimesOut() {
        final int[] iss = new int[1];
        final TcpConnection c = established(iss);
        assertEquals(TcpConnection.OK, c.send(new UnsafeBuffer(new byte[100]), 0, 100));
        assertEquals(100, c.flush());
        assertEquals(1, peer.drain().size());
        long waited = 0;
        int resent = 0;
        for (int i = 0; i < 40 && c.state() != TcpState.CLOSED; i++) {
            final long step = 1_000_000_000L << Math.min(i, 6);
            clock.advance(step);
            waited += step;
            // the TCP frames only: ARP requests go too, as the peer's MAC ages past 30 s without an answer
            resent += (int) replies().stream().filter(f -> f[12] == 0x08 && f[13] == 0x00).count();
        }
        assertEquals(TcpState.CLOSED, c.state());
        assertEquals("timed out", c.closeReason());
        assertEquals(TcpTimers.DATA_RETRIES, resent, "each timeout resent the segment once");
        assertEquals(TcpTimers.DATA_RETRIES, c.counters().get(Counter.TCP_RETRANSMIT_TIMEOUTS));
        assertEquals(1, c.counters().get(Counter.TCP_TIMEOUTS));
        assertTrue(waited > 0);
    }
}
