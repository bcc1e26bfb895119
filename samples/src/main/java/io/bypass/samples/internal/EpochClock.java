package io.bypass.samples.internal;

import java.time.Instant;

/**
 * Wall-clock nanoseconds without allocation: {@link System#nanoTime()} plus an offset
 * calibrated once against {@link Instant#now()}. Sender and receiver on one host (two
 * namespaces share the clock) then agree to about a microsecond, which is what the
 * feed's wire-to-handler latency needs; across hosts it is only as good as PTP.
 */
public final class EpochClock {
    private static final long OFFSET = calibrate();

    private EpochClock() {
    }

    private static long calibrate() {
        long best = Long.MAX_VALUE;
        long offset = 0;
        for (int i = 0; i < 50; i++) {
            final long before = System.nanoTime();
            final Instant now = Instant.now();
            final long after = System.nanoTime();
            // The tightest bracket gives the least uncertain offset.
            if (after - before < best) {
                best = after - before;
                offset = now.getEpochSecond() * 1_000_000_000L + now.getNano() - (before + (after - before) / 2);
            }
        }
        return offset;
    }

    /** @return nanoseconds since the epoch */
    public static long nanos() {
        return System.nanoTime() + OFFSET;
    }
}
