package io.bypass.threads;

/**
 * A fixed-size histogram of non-negative nanosecond values, log-linear: exact below 32 ns,
 * then 16 buckets per power of two, so every value is reported within 1/16 (6.25%) above
 * its true value, from 0 to {@link Long#MAX_VALUE}. 960 counters allocated once; recording
 * is a few shifts and one increment, no allocation, no exception. Not thread-safe: one
 * writer, read after it stops (or tolerate a torn read).
 */
public final class GapHistogram {
    private static final int SUB_BITS = 4;
    private static final int SUB = 1 << SUB_BITS;
    /** Index of {@link Long#MAX_VALUE}'s bucket, plus one. */
    private static final int BUCKETS = SUB + ((62 - SUB_BITS) << SUB_BITS) + SUB;

    private final long[] counts = new long[BUCKETS];
    private long total;
    private long min = Long.MAX_VALUE;
    private long max;

    /** Creates an empty histogram. */
    public GapHistogram() {
    }

    static int index(final long value) {
        if (value < SUB) {
            return (int) value;
        }
        final int e = 63 - Long.numberOfLeadingZeros(value);
        return SUB + ((e - SUB_BITS) << SUB_BITS) + (int) ((value >>> (e - SUB_BITS)) & (SUB - 1));
    }

    static long highestEquivalent(final int index) {
        if (index < SUB) {
            return index;
        }
        final int e = ((index - SUB) >>> SUB_BITS) + SUB_BITS;
        final long sub = (index - SUB) & (SUB - 1);
        final long next = (SUB + sub + 1) << (e - SUB_BITS);
        return next <= 0 ? Long.MAX_VALUE : next - 1;
    }

    /**
     * Records one value; a negative one counts as 0.
     *
     * @param nanos the value
     */
    public void record(final long nanos) {
        final long v = Math.max(0, nanos);
        counts[index(v)]++;
        total++;
        if (v > max) {
            max = v;
        }
        if (v < min) {
            min = v;
        }
    }

    /** @return how many values were recorded */
    public long totalCount() {
        return total;
    }

    /** @return the largest value recorded, exact; 0 if none */
    public long max() {
        return max;
    }

    /** @return the smallest value recorded, exact; 0 if none */
    public long min() {
        return total == 0 ? 0 : min;
    }

    /**
     * @param percentile 0 to 100
     * @return the value at or below which {@code percentile}% of the recorded values lie,
     *         as its bucket's upper end (at most 6.25% above), never above {@link #max()};
     *         0 if empty
     */
    public long valueAtPercentile(final double percentile) {
        if (total == 0) {
            return 0;
        }
        final double p = Math.min(100.0, Math.max(0.0, percentile));
        final long target = Math.max(1, (long) Math.ceil(p / 100.0 * total));
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += counts[i];
            if (seen >= target) {
                return Math.min(Math.max(highestEquivalent(i), min), max);
            }
        }
        return max;
    }

    /**
     * @param nanos a value
     * @return how many recorded values fall in {@code nanos}'s bucket or above: exact when
     *         {@code nanos} is below 32 or a bucket boundary (a power of two is one), otherwise
     *         it may include values up to 6.25% below {@code nanos}
     */
    public long countAtOrAbove(final long nanos) {
        long n = 0;
        for (int i = index(Math.max(0, nanos)); i < BUCKETS; i++) {
            n += counts[i];
        }
        return n;
    }

    /**
     * Adds another histogram's counts to this one.
     *
     * @param other the other histogram
     */
    public void add(final GapHistogram other) {
        for (int i = 0; i < BUCKETS; i++) {
            counts[i] += other.counts[i];
        }
        total += other.total;
        max = Math.max(max, other.max);
        min = Math.min(min, other.min);
    }

    /** Forgets every value. */
    public void reset() {
        java.util.Arrays.fill(counts, 0);
        total = 0;
        min = Long.MAX_VALUE;
        max = 0;
    }
}
