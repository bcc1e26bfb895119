package io.bypass.samples.cli;

import java.io.PrintStream;

/**
 * Prints one progress line a second on stderr, checked from the polling loop itself so
 * no second thread reads the counters. {@link #due(long)} is one comparison, cheap
 * enough to call every loop iteration.
 */
public final class Progress {
    private static final long INTERVAL = 1_000_000_000L;
    private final PrintStream err;
    private final boolean enabled;
    private final long interval;
    private long next;
    private long lastNanos;

    /**
     * @param err     where lines go
     * @param enabled false to print nothing
     * @param now     {@link System#nanoTime()} at start
     */
    public Progress(final PrintStream err, final boolean enabled, final long now) {
        this(err, enabled, now, INTERVAL);
    }

    /**
     * A line every {@code intervalNanos}: for a warm-up that runs the polling loop's
     * housekeeping too, into a stream that discards it, so the loop's first real line
     * takes a branch the JIT has seen.
     *
     * @param err           where lines go
     * @param enabled       false to print nothing
     * @param now           {@link System#nanoTime()} at start
     * @param intervalNanos time between lines
     */
    public Progress(final PrintStream err, final boolean enabled, final long now, final long intervalNanos) {
        this.err = err;
        this.enabled = enabled;
        this.interval = intervalNanos;
        this.next = now + intervalNanos;
        this.lastNanos = now;
    }

    /**
     * @param now {@link System#nanoTime()}
     * @return true once a second; the caller then calls {@link #print}
     */
    public boolean due(final long now) {
        return enabled && now >= next;
    }

    /**
     * @param now {@link System#nanoTime()}
     * @return seconds since the previous line, for rates
     */
    public double elapsedSeconds(final long now) {
        return (now - lastNanos) / 1e9;
    }

    /**
     * Prints a line and schedules the next one.
     *
     * @param now  {@link System#nanoTime()}
     * @param line the text
     */
    public void print(final long now, final String line) {
        err.println(line);
        lastNanos = now;
        next = now + interval;
    }
}
