package io.bypass.samples.feed;

import io.bypass.samples.codec.MoldUdp64;
import io.bypass.samples.codec.MoldUdp64Encoder;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArbitratorTest {
    private static final byte[] SESSION = MoldUdp64Encoder.session("T");
    private final UnsafeBuffer buf = new UnsafeBuffer(new byte[4096]);
    private final MoldUdp64Encoder enc = new MoldUdp64Encoder();
    private final MoldUdp64 mold = new MoldUdp64();
    private final List<Long> delivered = new ArrayList<>();
    private final List<Boolean> recoveredFlags = new ArrayList<>();
    private final List<long[]> gaps = new ArrayList<>();
    private final Arbitrator arb = new Arbitrator(1, (b, o, l, seq, rec) -> {
        // The payload carries its own sequence: check the arbitrator hands over the right bytes.
        assertEquals(seq, b.getLong(o));
        delivered.add(seq);
        recoveredFlags.add(rec);
    }, (from, to, line) -> gaps.add(new long[] {from, to, line}));

    private void packet(final long seq, final int count, final int line) {
        enc.wrap(buf, 0, SESSION).sequence(seq);
        for (int i = 0; i < count; i++) {
            buf.putLong(enc.addMessage(8), seq + i);
        }
        assertEquals(MoldUdp64.VALID, mold.wrap(buf, 0, enc.length()));
        arb.onPacket(mold, line);
    }

    /** Duplicate, loss on A, recovery from B, from sequence number {@code s}. */
    private void crossingScenario(final long s) {
        packet(s, 4, 0);
        packet(s, 4, 1);                              // duplicate
        packet(s + 6, 2, 0);                          // s+4, s+5 missing on A
        packet(s + 4, 2, 1);                          // B fills them
    }

    @Test
    void sequenceNumbersPast2To63AreUnsigned() {
        final long s = Long.MAX_VALUE - 1;            // 2^63 - 2: the first packet's messages cross 2^63
        crossingScenario(s);
        final ArbitratorTest small = new ArbitratorTest();
        small.crossingScenario(10);                   // the same at small numbers, as the reference
        assertEquals(8, arb.messages(), "delivered " + delivered);
        assertEquals(List.of(s, s + 1, s + 2, s + 3, s + 6, s + 7, s + 4, s + 5), delivered);
        assertEquals(small.arb.duplicates(), arb.duplicates());
        assertEquals(small.arb.gaps(), arb.gaps());
        assertEquals(2, arb.recovered());
        assertEquals(s - 1, arb.lost(), "only 1..s-1 (this arbitrator expects 1 first) are missing");
    }

    @Test
    void firstCopyWinsDuplicateDropped() {
        for (long s = 1; s <= 30; s += 3) {
            packet(s, 3, 0);
            packet(s, 3, 1);
        }
        assertEquals(30, arb.messages());
        assertEquals(10, arb.duplicates());
        assertEquals(30, arb.duplicateMessages());
        assertEquals(0, arb.gaps());
        assertEquals(0, arb.lost());
        assertEquals(10, arb.wins(0));
        assertEquals(0, arb.wins(1));
        for (int i = 0; i < 30; i++) {
            assertEquals(i + 1, delivered.get(i));
        }
    }

    @Test
    void bLineFillsWhatALost() {
        packet(1, 1, 0);
        packet(1, 1, 1);
        packet(3, 1, 0);   // A lost 2: gap opens
        packet(2, 1, 1);   // B brings 2 late: recovered
        packet(3, 1, 1);   // duplicate
        assertEquals(3, arb.messages());
        assertEquals(1, arb.gaps());
        assertEquals(1, arb.recovered());
        assertEquals(0, arb.lost());
        assertEquals(List.of(1L, 3L, 2L), delivered);
        assertEquals(List.of(false, false, true), recoveredFlags);
        assertEquals(2, gaps.get(0)[0]);
        assertEquals(2, gaps.get(0)[1]);
        assertEquals(0, gaps.get(0)[2]);
    }

    @Test
    void gapOnBothLinesIsLostAndReportedOnce() {
        packet(1, 2, 0);
        packet(1, 2, 1);
        packet(7, 2, 0);   // 3..6 missing
        packet(7, 2, 1);
        assertEquals(1, arb.gaps());
        assertEquals(4, arb.lost());
        assertEquals(3, gaps.get(0)[0]);
        assertEquals(6, gaps.get(0)[1]);
        assertEquals(4, arb.messages());
    }

    @Test
    void partialFillSplitsAGap() {
        packet(1, 1, 0);
        packet(10, 1, 0);  // gap 2..9
        packet(5, 1, 1);   // fills 5: gaps 2..4 and 6..9
        assertEquals(7, arb.lost());
        packet(2, 3, 1);   // fills 2..4
        assertEquals(4, arb.lost());
        packet(6, 4, 1);   // fills 6..9
        assertEquals(0, arb.lost());
        assertEquals(8, arb.recovered());
        packet(6, 4, 0);   // now a duplicate
    }

    @Test
    void overlappingPacketDeliversOnlyNewMessages() {
        packet(1, 3, 0);
        packet(2, 4, 1);   // 2,3 old; 4,5 new
        assertEquals(5, arb.messages());
        assertEquals(2, arb.duplicateMessages());
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), delivered);
    }

    @Test
    void heartbeatAndEndOfSessionRevealTailLoss() {
        packet(1, 1, 0);
        enc.wrap(buf, 0, SESSION).sequence(4);   // heartbeat: next is 4, so 2..3 lost
        mold.wrap(buf, 0, enc.length());
        arb.onPacket(mold, 1);
        assertEquals(1, arb.heartbeats());
        assertEquals(2, arb.lost());
        enc.wrap(buf, 0, SESSION).sequence(4).endOfSession();
        mold.wrap(buf, 0, enc.length());
        assertFalse(arb.endOfSession(0));
        arb.onPacket(mold, 0);
        assertTrue(arb.endOfSession(0));
        assertEquals(1, arb.gaps());
    }

    @Test
    void learnsFirstSequenceWhenAskedTo() {
        final Arbitrator learning = new Arbitrator(0, (b, o, l, s, r) -> {
        }, (f, t, line) -> {
        });
        enc.wrap(buf, 0, SESSION).sequence(1000);
        buf.putLong(enc.addMessage(8), 1000);
        mold.wrap(buf, 0, enc.length());
        learning.onPacket(mold, 0);
        assertEquals(0, learning.gaps());
        assertEquals(1001, learning.nextSequence());
    }

    @Test
    void lateJoinWithStrictFirstSequenceIsAGap() {
        packet(100, 1, 0);
        assertEquals(1, arb.gaps());
        assertEquals(99, arb.lost());
    }

    @Test
    void gapFilledWithinTheTimeoutIsNotAGap() {
        final List<long[]> reported = new ArrayList<>();
        final Arbitrator timed = new Arbitrator(1, 1_000_000L, (b, o, l, seq, rec) -> {
        }, (from, to, line) -> reported.add(new long[] {from, to}));
        timedPacket(timed, 1, 0, 0);
        timedPacket(timed, 3, 0, 100);          // 2 missing on A...
        timedPacket(timed, 2, 1, 200_000);      // ...B brings it 0.2 ms later
        timed.checkGaps(5_000_000);
        timed.finish();
        assertEquals(0, timed.gaps());
        assertEquals(1, timed.recovered());
        assertEquals(0, timed.lost());
        assertTrue(reported.isEmpty());
    }

    @Test
    void gapReportedAfterTheTimeoutWithWhatIsStillMissing() {
        final List<long[]> reported = new ArrayList<>();
        final Arbitrator timed = new Arbitrator(1, 1_000_000L, (b, o, l, seq, rec) -> {
        }, (from, to, line) -> reported.add(new long[] {from, to}));
        timedPacket(timed, 1, 0, 0);
        timedPacket(timed, 10, 0, 100);         // 2..9 missing
        timedPacket(timed, 2, 1, 500_000);      // 2 filled in time
        timed.checkGaps(900_000);
        assertEquals(0, timed.gaps(), "not yet");
        timed.checkGaps(1_000_100);
        assertEquals(1, timed.gaps());
        assertEquals(3, reported.get(0)[0]);
        assertEquals(9, reported.get(0)[1]);
        timedPacket(timed, 20, 0, 2_000_000);   // 11..19 missing, never filled
        timed.finish();
        assertEquals(2, timed.gaps());
        assertEquals(7 + 9, timed.lost());
        assertEquals(11, reported.get(1)[0]);
    }

    private void timedPacket(final Arbitrator a, final long seq, final int line, final long now) {
        enc.wrap(buf, 0, SESSION).sequence(seq);
        buf.putLong(enc.addMessage(8), seq);
        mold.wrap(buf, 0, enc.length());
        a.onPacket(mold, line, now);
    }
}
