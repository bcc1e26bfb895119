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
        return established(iss, new byte[0]);
    }

    /** As {@link #established(int[])}, the peer's SYN-ACK carrying {@code synAckOptions}. */
    private TcpConnection established(final int[] iss, final byte[] synAckOptions) {
        learnPeer();
        final TcpConnection c = ep.connect(PEER, 9000);
        final List<byte[]> syn = peer.drain();
        assertEquals(1, syn.size());
        final Tcp s = parse(syn.get(0));
        assertEquals(Tcp.SYN, s.flags());
        assertEquals(1460, s.mss());
        iss[0] = s.sequence();
        send(segment(9000, c.localPort(), 7000, iss[0] + 1, Tcp.SYN | Tcp.ACK, synAckOptions, 0, 0));
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

    /**
     * A RST in TIME_WAIT (the peer's stack answering a late segment of ours after it deleted its side)
     * ends the wait early; the connection had ended normally (here a half-close, as tcpcat's, then the
     * peer's FIN, read), so it is "closed", not "reset by peer", and no reset is counted: tcpcat reported
     * a complete 20 MB exchange with socat as failed.
     */
    @Test
    void aResetInTimeWaitEndsTheWaitOfANormalClose() {
        final int[] iss = new int[1];
        final TcpConnection c = established(iss);
        c.shutdownOutput();
        peer.drain();
        send(segment(9000, c.localPort(), 7001, iss[0] + 2, Tcp.FIN | Tcp.ACK, new byte[0], 0, 0));
        ep.poll(16);
        assertEquals(TcpState.TIME_WAIT, c.state());
        send(segment(9000, c.localPort(), 7002, 0, Tcp.RST, new byte[0], 0, 0));
        ep.poll(16);
        assertEquals(TcpState.CLOSED, c.state());
        assertEquals("closed", c.closeReason());
        assertEquals(0, ep.counters().get(Counter.TCP_RESETS_RECEIVED));
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

    /** A duplicate ACK from the peer at {@code ack} carrying SACK blocks (sequence numbers, left then right edges). */
    private static byte[] sackAck(final int localPort, final int ack, final int... edges) {
        final byte[] options = new byte[4 + 4 * edges.length];
        final UnsafeBuffer o = new UnsafeBuffer(options);
        o.putByte(0, (byte) Tcp.OPTION_NOP);
        o.putByte(1, (byte) Tcp.OPTION_NOP);
        o.putByte(2, (byte) Tcp.OPTION_SACK);
        o.putByte(3, (byte) (2 + 4 * edges.length));
        for (int k = 0; k < edges.length; k++) {
            o.putInt(4 + 4 * k, edges[k], java.nio.ByteOrder.BIG_ENDIAN);
        }
        return segment(9000, localPort, 7001, ack, Tcp.ACK, options, 0, 0);
    }

    /** Sequence numbers of the data segments in {@code frames}. */
    private static List<Integer> dataSequences(final List<byte[]> frames) {
        return frames.stream().filter(f -> f[12] == 0x08 && f[13] == 0x00).map(L2TcpEndpointTest::parse)
            .filter(t -> t.payloadLength() > 0).map(Tcp::sequence).toList();
    }

    @Test
    void twoHolesTheSackBlocksShowAreBothResentWithinOneRoundTrip() {
        final int[] iss = new int[1];
        final byte[] synAck = new byte[8];
        Tcp.writeSynOptions(new UnsafeBuffer(synAck), 0, 536, -1, true); // SACK permitted, no window scaling
        final TcpConnection c = established(iss, synAck);
        final int mss = 536;
        final int base = iss[0] + 1;
        // the initial window is 4 segments of 536 (RFC 5681 3.1); each of two ACKs opens one more in slow start
        assertEquals(TcpConnection.OK, c.send(new UnsafeBuffer(new byte[10 * mss]), 0, 10 * mss));
        c.flush();
        send(segment(9000, c.localPort(), 7001, base + mss, Tcp.ACK, new byte[0], 0, 0));
        ep.poll(16);
        send(segment(9000, c.localPort(), 7001, base + 2 * mss, Tcp.ACK, new byte[0], 0, 0));
        ep.poll(16);
        peer.drain();
        // now segments 2..7 are out; 2 and 4 are lost: the peer holds 3, then 5..7
        final List<Integer> resent = new java.util.ArrayList<>();
        send(sackAck(c.localPort(), base + 2 * mss, base + 3 * mss, base + 4 * mss));
        resent.addAll(dataSequences(replies()));
        send(sackAck(c.localPort(), base + 2 * mss, base + 5 * mss, base + 6 * mss, base + 3 * mss, base + 4 * mss));
        resent.addAll(dataSequences(replies()));
        send(sackAck(c.localPort(), base + 2 * mss, base + 5 * mss, base + 7 * mss, base + 3 * mss, base + 4 * mss));
        resent.addAll(dataSequences(replies()));
        assertEquals(1, c.counters().get(Counter.TCP_FAST_RETRANSMITS), "the third duplicate: fast retransmit of the first hole");
        assertTrue(resent.contains(base + 2 * mss), "the first hole resent: " + resent);
        send(sackAck(c.localPort(), base + 2 * mss, base + 5 * mss, base + 8 * mss, base + 3 * mss, base + 4 * mss));
        resent.addAll(dataSequences(replies()));
        assertTrue(resent.contains(base + 4 * mss), "the second hole resent on the next duplicate, before any partial ACK: "
            + resent);
        assertEquals(1, c.counters().get(Counter.TCP_SACK_RETRANSMITS));
        assertEquals(0, c.counters().get(Counter.TCP_RETRANSMIT_TIMEOUTS));
        assertEquals(resent.size(), resent.stream().distinct().count(), "nothing the peer holds is resent: " + resent);
        // the first hole's repair arrives: a partial ACK to the second hole, already in flight, resends nothing more
        send(sackAck(c.localPort(), base + 4 * mss, base + 5 * mss, base + 8 * mss));
        final List<Integer> afterPartial = dataSequences(replies());
        assertTrue(!afterPartial.contains(base + 4 * mss), "the second hole is not resent twice: " + afterPartial);
        send(segment(9000, c.localPort(), 7001, base + 8 * mss, Tcp.ACK, new byte[0], 0, 0));
        replies();
        assertEquals(0, c.counters().get(Counter.TCP_RETRANSMIT_TIMEOUTS));
    }

    /** Connects with SACK permitted and queues {@code segments} segments of 536 bytes; returns the first sequence number. */
    private int establishedWithSack(final int[] iss, final TcpConnection[] conn, final int segments) {
        final byte[] synAck = new byte[8];
        Tcp.writeSynOptions(new UnsafeBuffer(synAck), 0, 536, -1, true);
        clock.update(1_000_000_000L); // a SYN sent at time 0 gives no RTT sample, and without one neither the 20 ms RTO nor a probe
        conn[0] = established(iss, synAck);
        assertEquals(TcpConnection.OK, conn[0].send(new UnsafeBuffer(new byte[segments * 536]), 0, segments * 536));
        conn[0].flush();
        assertEquals(4, dataSequences(peer.drain()).size(), "the initial window: 4 segments of 536");
        return iss[0] + 1;
    }

    @Test
    void aWindowWhoseAcksStopDrawsATailLossProbeBeforeTheTimer() {
        final TcpConnection[] c = new TcpConnection[1];
        final int base = establishedWithSack(new int[1], c, 10);
        clock.advance(TcpCongestion.MIN_PROBE_NANOS + 1);
        final List<Integer> probe = dataSequences(replies());
        assertEquals(List.of(base + 4 * 536), probe, "one new segment past the congestion window");
        assertEquals(1, c[0].counters().get(Counter.TCP_TAIL_LOSS_PROBES));
        clock.advance(TcpCongestion.MIN_PROBE_NANOS + 1);
        assertEquals(0, dataSequences(replies()).size(), "one probe until an ACK comes");
        assertEquals(0, c[0].counters().get(Counter.TCP_RETRANSMIT_TIMEOUTS));
    }

    @Test
    void aTimeoutThePeersDsackShowsSpuriousIsUndone() {
        final TcpConnection[] c = new TcpConnection[1];
        final int base = establishedWithSack(new int[1], c, 12);
        clock.advance(TcpCongestion.MIN_RTO_NANOS + 1);
        final List<Integer> resent = dataSequences(replies());
        assertTrue(resent.contains(base), "the timeout resent the first segment: " + resent);
        assertEquals(1, c[0].counters().get(Counter.TCP_RETRANSMIT_TIMEOUTS));
        // the peer had everything: it acknowledges the whole window, with a D-SACK for the resend
        send(sackAck(c[0].localPort(), base + 4 * 536, base, base + 536));
        final List<Integer> next = dataSequences(replies());
        assertEquals(1, c[0].counters().get(Counter.TCP_SPURIOUS_TIMEOUTS_UNDONE));
        assertTrue(next.size() >= 4, "the window came back (one segment after a real timeout, two after its ACK): " + next);
        assertEquals(base + 4 * 536, next.get(0), "nothing the peer had is resent");
    }

    @Test
    void aSmallWindowWithAllButItsFirstSegmentSackedRetransmitsEarly() {
        final TcpConnection[] c = new TcpConnection[1];
        final int base = establishedWithSack(new int[1], c, 4);
        // nothing more to send: segment 0 lost, 1..3 held; two duplicates, never three
        send(sackAck(c[0].localPort(), base, base + 536, base + 2 * 536));
        final List<Integer> out = new java.util.ArrayList<>(dataSequences(replies()));
        send(sackAck(c[0].localPort(), base, base + 536, base + 4 * 536));
        out.addAll(dataSequences(replies()));
        assertEquals(List.of(base), out, "the first segment resent at the second duplicate (RFC 5827)");
        assertEquals(1, c[0].counters().get(Counter.TCP_FAST_RETRANSMITS));
    }

    @Test
    void aDuplicateSegmentIsAnsweredWithADsackBlock() {
        final byte[] synAck = new byte[8];
        Tcp.writeSynOptions(new UnsafeBuffer(synAck), 0, 536, -1, true);
        final int[] iss = new int[1];
        final TcpConnection c = established(iss, synAck);
        send(segment(9000, c.localPort(), 7001, iss[0] + 1, Tcp.ACK, new byte[0], 100, 0));
        replies();
        send(segment(9000, c.localPort(), 7001, iss[0] + 1, Tcp.ACK, new byte[0], 100, 0));
        final List<byte[]> out = replies();
        assertEquals(1, out.size());
        final Tcp ack = parse(out.get(0));
        assertEquals(7101, ack.acknowledgement());
        assertEquals(1, ack.sackBlocks(), "one block: the duplicate");
        assertEquals(7001, ack.sackLeft(0), "a D-SACK block lies below the ACK (RFC 2883)");
        assertEquals(7101, ack.sackRight(0));
        send(segment(9000, c.localPort(), 7101, iss[0] + 1, Tcp.ACK, new byte[0], 10, 0));
        final List<byte[]> next = replies();
        assertEquals(0, parse(next.get(next.size() - 1)).sackBlocks(), "a D-SACK goes once");
    }
}
