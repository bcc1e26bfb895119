package io.bypass.testkit;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for the listeners and bound sockets of tests, picked below Linux's ephemeral range
 * (32768-60999, the range every new network namespace starts with and the one Bypass's own TCP
 * table hands out). A port in that range can be the local port of a connection an earlier test
 * left in TIME_WAIT on the same address, and binding a listener to it then fails with "Address
 * already in use".
 *
 * <pre>{@code
 * private final AtomicInteger nextPort = new AtomicInteger(TestPorts.random());
 * ...
 * final int port = nextPort.getAndIncrement();
 * }</pre>
 */
public final class TestPorts {
    /** The lowest port {@link #random()} returns. */
    public static final int LOW = 10_000;
    /** How many ports {@link #random()} chooses from; a test may count up some 2,700 ports from one it got. */
    public static final int SPREAD = 20_000;

    private TestPorts() {
    }

    /**
     * @return a random port in {@code LOW..LOW + SPREAD - 1}, below the ephemeral range
     */
    public static int random() {
        return LOW + ThreadLocalRandom.current().nextInt(SPREAD);
    }
}
