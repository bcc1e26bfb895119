package io.bypass.samples.cli;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;

/**
 * Maps {@code --idle spin|yield|backoff} to Agrona's idle strategies: what a polling
 * loop does when a poll returns zero.
 */
public final class Idle {
    private Idle() {
    }

    /**
     * @param name {@code spin} (lowest latency, burns a core), {@code yield}, or
     *             {@code backoff} (spin, then yield, then park up to 1 ms)
     * @return a new strategy
     */
    public static IdleStrategy of(final String name) {
        return switch (name) {
            case "spin" -> new BusySpinIdleStrategy();
            case "yield" -> new YieldingIdleStrategy();
            case "backoff" -> new BackoffIdleStrategy(100, 10, 1_000, 1_000_000);
            default -> throw new IllegalArgumentException("idle strategy " + name);
        };
    }
}
