package io.bypass.threads;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HiccupRecorderTest {
    @Test
    void syntheticGapsLandInTheirBucketsAndStallsAreCountedExactly() {
        final HiccupRecorder r = new HiccupRecorder(1_000_000);
        long t = 5_000;
        r.onPoll(t);
        // 1000 gaps of 100 ns, 9 of 50 us, one of 3 ms, one of exactly the threshold
        for (int i = 0; i < 1000; i++) {
            r.onPoll(t += 100);
        }
        for (int i = 0; i < 9; i++) {
            r.onPoll(t += 50_000);
        }
        r.onPoll(t += 3_000_000);
        final long endOfLongest = t - 5_000;
        r.onPoll(t += 1_000_000);
        assertEquals(1011, r.gapCount());
        assertEquals(2, r.stallCount());
        assertEquals(4_000_000, r.stallNanos());
        assertEquals(3_000_000, r.maxGapNanos());
        assertEquals(t - 5_000, r.elapsedNanos());
        assertEquals(4_000_000.0 / (t - 5_000), r.stallFraction(), 1e-12);
        // p50 and p98: the 100 ns bucket (within 6.25%); p99.9: one of the 50 us gaps
        assertInBucket(100, r.gapAtPercentile(50));
        assertInBucket(100, r.gapAtPercentile(98));
        assertInBucket(50_000, r.gapAtPercentile(99.5));
        assertEquals(3_000_000, r.gapAtPercentile(100));
        assertEquals(2, r.stalls().totalCount());
        assertEquals(1_000_000, r.stalls().min());
        // longest first, with when it ended
        assertEquals(3_000_000, r.longestGapNanos(0));
        assertEquals(endOfLongest, r.longestGapEndNanos(0));
        assertEquals(1_000_000, r.longestGapNanos(1));
        assertEquals(50_000, r.longestGapNanos(2));
        assertEquals(HiccupRecorder.LONGEST, r.longestCount());
        assertEquals(50_000, r.longestGapNanos(HiccupRecorder.LONGEST - 1), "the last kept is one of the 50 us gaps");
        r.reset();
        assertEquals(0, r.gapCount());
        assertEquals(0, r.stallCount());
        assertEquals(0, r.longestCount());
    }

    private static void assertInBucket(final long truth, final long reported) {
        assertTrue(reported >= truth && reported - truth <= truth / 16 + 1, "reported " + reported + " for " + truth);
    }

    @Test
    void everyValueIsReportedWithinASixteenthAboveItself() {
        final SplittableRandom rnd = new SplittableRandom(7);
        int previous = -1;
        for (long v = 0; v < 5000; v++) {
            final int i = GapHistogram.index(v);
            assertTrue(i >= previous, "index is monotonic at " + v);
            previous = i;
            assertInBucket(v, GapHistogram.highestEquivalent(i));
        }
        for (int k = 0; k < 100_000; k++) {
            final long v = rnd.nextLong(Long.MAX_VALUE);
            assertInBucket(v, Math.min(Long.MAX_VALUE, GapHistogram.highestEquivalent(GapHistogram.index(v))));
        }
        assertEquals(Long.MAX_VALUE, GapHistogram.highestEquivalent(GapHistogram.index(Long.MAX_VALUE)));
        // powers of two start a bucket, so counting from one is exact
        final GapHistogram h = new GapHistogram();
        h.record(1023);
        h.record(1024);
        h.record(-5);
        assertEquals(1, h.countAtOrAbove(1024));
        assertEquals(3, h.countAtOrAbove(0));
        assertEquals(0, h.min());
    }

    /** The recorder's per-poll path allocates nothing, read from the thread's allocation counter. */
    @Test
    void onPollAllocatesNothing() {
        final com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        final HiccupRecorder r = new HiccupRecorder(10_000);
        long t = 0;
        // warm up to C2, with gaps over and under the threshold and new longest gaps
        for (int i = 0; i < 2_000_000; i++) {
            r.onPoll(t += (i % 1000 == 0) ? 20_000 + i : 37);
        }
        final long before = mx.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 10_000_000; i++) {
            r.onPoll(t += (i % 997 == 0) ? 3_000_000 + i : 41 + (i & 63));
        }
        final long bytes = mx.getCurrentThreadAllocatedBytes() - before;
        // Zero per call; the slack admits a one-off deoptimisation, not one object per 100k calls.
        assertTrue(bytes < 2048, "allocated " + bytes + " bytes over 10M onPoll calls");
        assertEquals(12_000_000 - 1, r.gapCount());
        assertTrue(r.longestGapNanos(0) >= 3_000_000 + 9_000_000, "longest kept: " + r.longestGapNanos(0));
    }
}
