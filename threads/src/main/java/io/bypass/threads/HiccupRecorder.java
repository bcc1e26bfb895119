package io.bypass.threads;

/**
 * Records the stalls of a polling loop, in the spirit of jHiccup and sysjitter: call
 * {@link #onPoll(long)} once per loop iteration with {@link System#nanoTime()}, and the gap
 * since the previous call goes into a histogram. A gap is the loop's own work plus anything
 * that stopped the thread: preemption by another thread or the kernel, an interrupt, a
 * safepoint (GC, deoptimisation), a page fault. Gaps at or over a threshold (1 ms by
 * default) are stalls: counted exactly, summed, and kept in a second histogram; the
 * {@value #LONGEST} longest gaps are kept with when they happened.
 *
 * <p>Allocation-free: everything is allocated in the constructor; {@code onPoll} is a
 * subtraction, a histogram increment and two compares. One thread records; read the
 * figures after it stops.
 */
public final class HiccupRecorder {
    /** Default stall threshold: 1 ms, jHiccup's resolution. */
    public static final long DEFAULT_THRESHOLD_NANOS = 1_000_000L;
    /** How many of the longest gaps are kept. */
    public static final int LONGEST = 8;

    private final long threshold;
    private final GapHistogram gaps = new GapHistogram();
    private final GapHistogram stalls = new GapHistogram();
    /** Longest gaps, descending, and when each ended (nanos since the first poll). */
    private final long[] longest = new long[LONGEST];
    private final long[] longestAt = new long[LONGEST];
    private int longestCount;
    private boolean started;
    private long first;
    private long last;
    private long stallCount;
    private long stallNanos;

    /** A recorder with the 1 ms stall threshold. */
    public HiccupRecorder() {
        this(DEFAULT_THRESHOLD_NANOS);
    }

    /**
     * @param thresholdNanos gaps at or over this are stalls (sysjitter's {@code --threshold})
     */
    public HiccupRecorder(final long thresholdNanos) {
        if (thresholdNanos <= 0) {
            throw new IllegalArgumentException("threshold must be positive: " + thresholdNanos);
        }
        threshold = thresholdNanos;
    }

    /**
     * Records the gap since the previous call; the first call only starts the clock.
     *
     * @param nowNanos {@link System#nanoTime()}, read by the loop anyway
     */
    public void onPoll(final long nowNanos) {
        if (!started) {
            started = true;
            first = nowNanos;
            last = nowNanos;
            return;
        }
        final long gap = nowNanos - last;
        last = nowNanos;
        gaps.record(gap);
        if (gap >= threshold) {
            stallCount++;
            stallNanos += gap;
            stalls.record(gap);
        }
        if (longestCount < LONGEST || gap > longest[LONGEST - 1]) {
            keepLongest(gap, nowNanos - first);
        }
    }

    private void keepLongest(final long gap, final long at) {
        int i = Math.min(longestCount, LONGEST - 1);
        while (i > 0 && longest[i - 1] < gap) {
            longest[i] = longest[i - 1];
            longestAt[i] = longestAt[i - 1];
            i--;
        }
        longest[i] = gap;
        longestAt[i] = at;
        if (longestCount < LONGEST) {
            longestCount++;
        }
    }

    /**
     * Restarts the gap clock without recording: for a pause the loop chose (waiting for the
     * user, a deliberate sleep), which is not a stall.
     *
     * @param nowNanos {@link System#nanoTime()}
     */
    public void restart(final long nowNanos) {
        if (!started) {
            onPoll(nowNanos);
        } else {
            last = nowNanos;
        }
    }

    /** Forgets everything; the next {@link #onPoll(long)} starts the clock again. */
    public void reset() {
        gaps.reset();
        stalls.reset();
        longestCount = 0;
        started = false;
        stallCount = 0;
        stallNanos = 0;
    }

    /** @return the stall threshold in nanoseconds */
    public long thresholdNanos() {
        return threshold;
    }

    /** @return every gap recorded */
    public GapHistogram gaps() {
        return gaps;
    }

    /** @return the gaps at or over the threshold */
    public GapHistogram stalls() {
        return stalls;
    }

    /** @return how many gaps were recorded (polls minus one) */
    public long gapCount() {
        return gaps.totalCount();
    }

    /** @return the longest gap, nanoseconds */
    public long maxGapNanos() {
        return gaps.max();
    }

    /**
     * @param percentile 0 to 100
     * @return the gap at that percentile, nanoseconds (within 6.25%)
     */
    public long gapAtPercentile(final double percentile) {
        return gaps.valueAtPercentile(percentile);
    }

    /** @return how many gaps were at or over the threshold, exact */
    public long stallCount() {
        return stallCount;
    }

    /** @return the sum of those gaps, nanoseconds: time the loop did not poll */
    public long stallNanos() {
        return stallNanos;
    }

    /** @return nanoseconds from the first to the last {@link #onPoll(long)} */
    public long elapsedNanos() {
        return started ? last - first : 0;
    }

    /** @return the share of the elapsed time lost in stalls, 0 to 1 */
    public double stallFraction() {
        final long e = elapsedNanos();
        return e <= 0 ? 0 : (double) stallNanos / e;
    }

    /** @return how many longest gaps are kept so far, at most {@value #LONGEST} */
    public int longestCount() {
        return longestCount;
    }

    /**
     * @param rank 0 for the longest
     * @return that gap, nanoseconds
     */
    public long longestGapNanos(final int rank) {
        checkRank(rank);
        return longest[rank];
    }

    /**
     * @param rank 0 for the longest
     * @return when that gap ended, nanoseconds after the first poll
     */
    public long longestGapEndNanos(final int rank) {
        checkRank(rank);
        return longestAt[rank];
    }

    private void checkRank(final int rank) {
        if (rank < 0 || rank >= longestCount) {
            throw new IndexOutOfBoundsException("rank " + rank + " of " + longestCount + " longest gaps");
        }
    }
}
