package io.bypass.tcp;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine's pieces on their own: receive reassembly, the send ring, congestion control and RTO, ISNs. */
class TcpEngineTest {
    private static UnsafeBuffer direct(final int capacity) {
        return new UnsafeBuffer(BufferUtil.allocateDirectAligned(capacity, 64));
    }

    private static UnsafeBuffer bytes(final int from, final int length) {
        final byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (from + i);
        }
        return new UnsafeBuffer(b);
    }

    private static byte[] drain(final TcpReceiveBuffer r) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        r.deliver((b, o, l) -> {
            final byte[] x = new byte[l];
            b.getBytes(o, x);
            out.write(x, 0, l);
        }, 16);
        return out.toByteArray();
    }

    @Test
    void outOfOrderSegmentsAreHeldAndDeliveredInOrderOnceTheHoleFills() {
        final TcpReceiveBuffer r = new TcpReceiveBuffer(direct(4096));
        assertEquals(0, r.write(200, bytes(200, 100), 0, 100), "ahead of a hole: held");
        assertEquals(0, r.write(400, bytes(400, 50), 0, 50));
        assertTrue(r.hasOutOfOrder());
        assertEquals(2, r.ranges());
        final int[] order = new int[3];
        assertEquals(2, r.sackOrder(order, 3));
        assertEquals(400, r.rangeStart(order[0]), "the latest range is the first SACK block");
        assertEquals(200, r.rangeStart(order[1]));
        assertEquals(0, r.buffered());
        assertEquals(1, r.write(0, bytes(0, 200), 0, 200), "fills the first hole");
        assertEquals(300, r.nextOffset());
        assertEquals(1, r.write(300, bytes(300, 100), 0, 100), "fills the second");
        assertEquals(450, r.nextOffset());
        assertFalse(r.hasOutOfOrder());
        assertArrayEquals(bytes(0, 450).byteArray(), drain(r));
        assertEquals(4096, r.window());
    }

    @Test
    void aSegmentBridgingHeldRangesJoinsThemAndSackBlocksGoMostRecentFirst() {
        final TcpReceiveBuffer r = new TcpReceiveBuffer(direct(8192));
        for (int at = 100; at < 1000; at += 200) { // [100,200) [300,400) ... [900,1000)
            assertEquals(0, r.write(at, bytes(at, 100), 0, 100));
        }
        assertEquals(5, r.ranges());
        assertEquals(0, r.write(150, bytes(150, 600), 0, 600), "covers [150,750): joins the first four ranges");
        assertEquals(2, r.ranges());
        assertEquals(100, r.rangeStart(0));
        assertEquals(800, r.rangeEnd(0), "[700,800) touched the new bytes' end");
        assertEquals(0, r.write(1000, bytes(1000, 10), 0, 10), "touches [900,1000)");
        assertEquals(2, r.ranges());
        final int[] order = new int[3];
        assertEquals(2, r.sackOrder(order, 3));
        assertEquals(900, r.rangeStart(order[0]));
        assertEquals(1010, r.rangeEnd(order[0]));
        assertEquals(100, r.rangeStart(order[1]));
        assertEquals(1, r.write(0, bytes(0, 100), 0, 100));
        assertEquals(800, r.nextOffset(), "the hole filled: in order up to the next hole");
        assertEquals(1, r.write(800, bytes(800, 100), 0, 100));
        assertEquals(1010, r.nextOffset());
        assertFalse(r.hasOutOfOrder());
        assertArrayEquals(bytes(0, 1010).byteArray(), drain(r));
    }

    @Test
    void aSegmentNeedingOneRangeTooManyIsDroppedAndTheHeldOnesStay() {
        final TcpReceiveBuffer r = new TcpReceiveBuffer(direct(1 << 20));
        for (int i = 0; i < TcpReceiveBuffer.MAX_RANGES; i++) {
            assertEquals(0, r.write(100 + 200L * i, bytes(i, 100), 0, 100));
        }
        assertEquals(-1, r.write(100 + 200L * TcpReceiveBuffer.MAX_RANGES, bytes(0, 100), 0, 100), "no range left: dropped");
        assertEquals(0, r.write(200, bytes(0, 10), 0, 10), "extending a held range still works");
        assertEquals(TcpReceiveBuffer.MAX_RANGES, r.ranges());
    }

    @Test
    void duplicatesAndOverlapsAreTrimmedAndTheWindowBoundsWhatIsHeld() {
        final TcpReceiveBuffer r = new TcpReceiveBuffer(direct(4096));
        assertEquals(1, r.write(0, bytes(0, 100), 0, 100));
        assertEquals(-1, r.write(0, bytes(0, 100), 0, 100), "a duplicate adds nothing");
        assertEquals(1, r.write(50, bytes(50, 100), 0, 100), "an overlap adds only its new part");
        assertEquals(150, r.nextOffset());
        assertEquals(1, r.write(150, bytes(150, 8000), 0, 8000), "trimmed to the window");
        assertEquals(4096, r.nextOffset());
        assertEquals(0, r.window());
        assertEquals(-1, r.write(4096, bytes(0, 10), 0, 10), "nothing past the window");
        assertArrayEquals(bytes(0, 4096).byteArray(), drain(r));
    }

    @Test
    void theReceiveRingWrapsAndBytesDeliveredInPlaceAreSkipped() {
        final TcpReceiveBuffer r = new TcpReceiveBuffer(direct(4096));
        r.consumedInPlace(4000); // delivered from the frame, never copied
        assertEquals(1, r.write(4000, bytes(7, 200), 0, 200));
        assertArrayEquals(bytes(7, 200).byteArray(), drain(r), "across the ring's end");
    }

    @Test
    void claimsThatWouldWrapGoThroughScratchAndComeOutIntact() {
        final TcpSendBuffer s = new TcpSendBuffer(direct(4096), direct(1024));
        assertEquals(1024, s.maxClaim());
        s.append(bytes(0, 4000), 0, 4000);
        s.acknowledge(3900);
        assertEquals(3996, s.room());
        final long address = s.claimAddress(500);
        new UnsafeBuffer(address, 500).putBytes(0, bytes(9, 500), 0, 500);
        s.commit(500);
        final UnsafeBuffer out = new UnsafeBuffer(new byte[500]);
        s.copyOut(4000, out, 0, 500);
        assertArrayEquals(bytes(9, 500).byteArray(), out.byteArray());
        assertEquals(4500, s.end());
    }

    @Test
    void slowStartThenCongestionAvoidanceThenFastRecoveryThenTimeout() {
        final TcpCongestion cc = new TcpCongestion();
        cc.start(1460);
        assertEquals(3 * 1460, cc.cwnd, "RFC 5681 3.1 initial window for an MSS of 1460");
        cc.ssthresh = 8 * 1460;
        cc.onNewAck(1460, 1460, 0);
        assertEquals(4 * 1460, cc.cwnd, "slow start: one MSS per ACK");
        cc.onNewAck(3 * 1460, 4 * 1460, 0);
        assertEquals(7 * 1460, cc.cwnd, "slow start counts every byte a stretch ACK covers");
        cc.cwnd = 10 * 1460;
        cc.onNewAck(6 * 1460, 10 * 1460, 0);
        assertEquals(10 * 1460, cc.cwnd, "congestion avoidance: less than a window acknowledged");
        cc.onNewAck(4 * 1460, 14 * 1460, 0);
        assertEquals(11 * 1460, cc.cwnd, "congestion avoidance: an MSS per window acknowledged");
        assertFalse(cc.onDuplicateAck(10 * 1460, 20_000, false));
        assertEquals(cc.cwnd + 1460, cc.sendWindow(), "limited transmit: a segment per early duplicate");
        assertFalse(cc.onDuplicateAck(10 * 1460, 20_000, false));
        assertTrue(cc.onDuplicateAck(10 * 1460, 20_000, false), "the third duplicate: fast retransmit");
        assertEquals(5 * 1460, cc.ssthresh);
        assertEquals(8 * 1460, cc.cwnd, "ssthresh + 3 MSS");
        assertTrue(cc.onNewAck(1460, 10_000, 8 * 1460), "a partial ACK keeps recovery going (RFC 6582)");
        assertFalse(cc.onNewAck(10_000, 20_000, 0), "a full ACK ends it");
        assertFalse(cc.inRecovery);
        cc.onTimeout(6 * 1460);
        assertEquals(1460, cc.cwnd, "a timeout: one segment");
        assertEquals(3 * 1460, cc.ssthresh);
        cc.cwnd = 4 * 1460;
        assertTrue(cc.onDuplicateAck(4 * 1460, 30_000, true), "SACK blocks showing the first segment lost: at once (RFC 6675)");
        assertTrue(cc.inRecovery);
    }

    @Test
    void rtoFollowsRfc6298AndBacksOff() {
        final TcpCongestion cc = new TcpCongestion();
        assertEquals(1_000_000_000L, cc.currentRto(), "1 s before any sample");
        cc.sample(100_000_000L);
        assertEquals(100_000_000L, cc.srtt());
        assertEquals(300_000_000L, cc.currentRto(), "SRTT + 4 * RTTVAR, RTTVAR = R/2");
        cc.backoff = 2;
        assertEquals(1_200_000_000L, cc.currentRto(), "doubled per timeout");
        cc.sample(50_000L);
        assertEquals(TcpCongestion.MIN_RTO_NANOS, Math.min(TcpCongestion.MIN_RTO_NANOS, cc.currentRto()));
        assertEquals(0, cc.backoff, "a sample ends the back-off");
    }

    @Test
    void initialSequenceNumbersAreKeyedPerTupleAndAdvanceWithTheClock() {
        final TcpIsn a = new TcpIsn();
        final TcpIsn b = new TcpIsn();
        final int one = a.isn(1, 2, 3, 4, 0);
        assertEquals(one + 250, a.isn(1, 2, 3, 4, 1_000_000), "M ticks every 4 us");
        assertTrue(one != a.isn(1, 2, 3, 5, 0), "another tuple, another offset");
        assertTrue(one != b.isn(1, 2, 3, 4, 0), "another key, another offset");
        assertEquals(TcpConnection.OK, 0);
    }

    @Test
    void theSackScoreboardMergesRangesTrimsOnAcksAndNamesTheHoles() {
        final TcpLossRecovery sb = new TcpLossRecovery();
        sb.add(300, 400);
        sb.add(100, 200);
        sb.add(200, 250); // touches [100, 200): merged
        assertEquals(2, sb.ranges());
        assertEquals(400, sb.highest());
        assertEquals(0, sb.nextHole(0), "below the first range: lost");
        assertEquals(100, sb.holeEnd(0));
        assertEquals(250, sb.nextHole(100), "past a held range, the next hole");
        assertEquals(300, sb.holeEnd(250));
        assertEquals(-1, sb.nextHole(300), "nothing above the highest range is presumed lost");
        assertTrue(sb.holds(120));
        assertFalse(sb.holds(260));
        assertEquals(400, sb.endOfRangeAt(350));
        sb.add(240, 310); // bridges both
        assertEquals(1, sb.ranges());
        sb.acknowledge(150);
        assertEquals(-1, sb.nextHole(150), "a cumulative ACK into a range trims it");
        assertTrue(sb.holds(150));
        sb.acknowledge(400);
        assertEquals(0, sb.ranges());
        for (int k = 0; k < TcpLossRecovery.MAX_RANGES; k++) {
            sb.add(1000 + 100L * k, 1050 + 100L * k);
        }
        sb.add(5000, 5100);
        assertEquals(1000 + 100L * (TcpLossRecovery.MAX_RANGES - 1) + 50, sb.highest(), "full: a higher range is dropped");
        sb.add(900, 950);
        assertEquals(900, sb.nextHole(0) == 0 ? sb.holeEnd(0) : -1, "full: a lower range takes the highest's place");
        assertEquals(TcpLossRecovery.MAX_RANGES, sb.ranges());
        assertEquals(1000 + 100L * (TcpLossRecovery.MAX_RANGES - 2) + 50, sb.highest());
    }
}
