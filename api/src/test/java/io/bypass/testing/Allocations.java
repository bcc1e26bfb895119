package io.bypass.testing;

import java.lang.management.ManagementFactory;

/**
 * Counts the bytes a piece of code allocates on the current thread, with
 * {@link com.sun.management.ThreadMXBean#getCurrentThreadAllocatedBytes()}: an exact
 * count of TLAB and out-of-TLAB allocation, not a timing, so the result does not
 * depend on the machine's speed.
 *
 * <pre>{@code
 * long bytes = Allocations.measure(() -> endpoint.poll(handler, 64), 10_000);
 * assertEquals(0, bytes);
 * }</pre>
 */
public final class Allocations {
    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private Allocations() {
    }

    /**
     * @return true if this JVM counts per-thread allocation
     */
    public static boolean isSupported() {
        return THREADS.isThreadAllocatedMemorySupported() && THREADS.isThreadAllocatedMemoryEnabled();
    }

    /**
     * @return bytes allocated so far by the current thread
     */
    public static long currentThreadAllocatedBytes() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }

    /**
     * Runs {@code action} {@code warmups} times (so the JIT compiles it and lazy
     * initialisation is over), then once more while counting.
     *
     * @param action  the code under test; run on the current thread
     * @param warmups runs before the counted one
     * @return bytes allocated by the counted run, less the cost of measuring (normally 0)
     */
    public static long measure(final Runnable action, final int warmups) {
        if (!isSupported()) {
            throw new IllegalStateException("this JVM does not count per-thread allocation");
        }
        for (int i = 0; i < warmups; i++) {
            action.run();
        }
        final long overhead = overhead();
        final long before = THREADS.getCurrentThreadAllocatedBytes();
        action.run();
        final long after = THREADS.getCurrentThreadAllocatedBytes();
        return Math.max(0, after - before - overhead);
    }

    /**
     * Counts the bytes {@code action} allocates, without warm-up (for code already warm).
     *
     * @param action the code under test
     * @return bytes allocated, less the cost of measuring
     */
    public static long measure(final Runnable action) {
        return measure(action, 0);
    }

    /**
     * Steady-state allocation of a loop: runs {@code chunk} until one run allocates
     * nothing (JIT warm-up, at most {@code maxWarmups} runs), then counts {@code windows}
     * further runs and returns the smallest count. A one-off deoptimisation or a lazy
     * JDK initialisation shows in one window; an allocation per packet shows in every
     * window, so a result of 0 proves the hot path allocates nothing.
     *
     * @param chunk      a bounded run of the hot loop (thousands of iterations)
     * @param maxWarmups most warm-up runs
     * @param windows    counted runs, at least 1
     * @return the fewest bytes any counted run allocated
     */
    public static long steadyState(final Runnable chunk, final int maxWarmups, final int windows) {
        for (int i = 0; i < maxWarmups && measure(chunk) != 0; i++) {
            // warming up until a run is clean
        }
        long best = Long.MAX_VALUE;
        for (int i = 0; i < windows && best != 0; i++) {
            best = Math.min(best, measure(chunk));
        }
        return best;
    }

    private static long overhead() {
        long min = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            final long a = THREADS.getCurrentThreadAllocatedBytes();
            final long b = THREADS.getCurrentThreadAllocatedBytes();
            min = Math.min(min, b - a);
        }
        return min;
    }
}
