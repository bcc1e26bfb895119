package io.bypass.nio;

import io.bypass.Bypass;
import io.bypass.net.Ipv4;
import io.bypass.spi.HotPathStrings;
import io.bypass.tcp.TcpClaim;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.tcp.TcpHandler;
import io.bypass.tcp.TcpListener;
import io.bypass.tcp.TcpState;
import io.bypass.testing.Allocations;
import io.bypass.testing.Requirements;
import io.bypass.testkit.Netns;
import io.bypass.testkit.TestPorts;
import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * nio's TCP hot path allocates nothing: 100,000 round trips of a 64-byte message between two of our
 * own connections over loopback (in a namespace of the test's), each one {@code tryClaim}, commit,
 * {@code flush} on one side, {@code poll} and an echo through a claim on the other, and the
 * endpoint's {@code poll}, counted with {@code ThreadMXBean.getCurrentThreadAllocatedBytes}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NioTcpAllocationTest {
    private static final int MESSAGE = 64;

    /**
     * The failure of a round trip, built here: the loop's class holds no string constant, since C2
     * compiling it would resolve them on this thread and count as an allocation of the loop.
     */
    private static AssertionError broken(final int what, final long value) {
        return new AssertionError(List.of("server claim refused", "client claim refused", "client flush short",
            "server flush short", "echo came back as").get(what) + " (" + value + ")");
    }

    /** The loop under test; its handlers are made once, with the connections. No string constant. */
    private static final class RoundTrips {
        private final TcpEndpoint ep;
        private final TcpConnection client;
        private final TcpConnection server;
        private final TcpClaim clientClaim = new TcpClaim();
        private final TcpClaim serverClaim = new TcpClaim();
        private int atServer;
        private int atClient;
        private long echoedValue;
        private final TcpHandler echo = this::echo;
        private final TcpHandler back = this::back;

        RoundTrips(final TcpEndpoint ep, final TcpConnection client, final TcpConnection server) {
            this.ep = ep;
            this.client = client;
            this.server = server;
        }

        private void echo(final DirectBuffer b, final int o, final int l) {
            if (server.tryClaim(l, serverClaim) != TcpConnection.OK) {
                throw broken(0, 0);
            }
            serverClaim.buffer().putBytes(serverClaim.offset(), b, o, l);
            serverClaim.commit();
            atServer += l;
        }

        private void back(final DirectBuffer b, final int o, final int l) {
            if (atClient == 0 && l >= 8) {
                echoedValue = b.getLong(o);
            }
            atClient += l;
        }

        void run(final int trips) {
            for (int i = 0; i < trips; i++) {
                if (client.tryClaim(MESSAGE, clientClaim) != TcpConnection.OK) {
                    throw broken(1, i);
                }
                clientClaim.buffer().putLong(clientClaim.offset(), i);
                clientClaim.commit();
                if (client.flush() != MESSAGE) {
                    throw broken(2, i);
                }
                atServer = 0;
                while (atServer < MESSAGE) {
                    server.poll(echo, 16);
                }
                if (server.flush() != MESSAGE) {
                    throw broken(3, i);
                }
                atClient = 0;
                while (atClient < MESSAGE) {
                    client.poll(back, 16);
                    ep.poll(16);
                }
                if (echoedValue != i) {
                    throw broken(4, echoedValue);
                }
            }
        }
    }

    /** Polls until {@code listener} has accepted {@code client}'s connection and both are ESTABLISHED. */
    private static TcpConnection accepted(final TcpEndpoint ep, final TcpListener listener, final TcpConnection client) {
        TcpConnection server = null;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while ((server == null || client.state() != TcpState.ESTABLISHED) && System.nanoTime() < deadline) {
            ep.poll(16);
            if (server == null) {
                server = listener.accept();
            }
        }
        assertNotNull(server, "accepted");
        assertEquals(TcpState.ESTABLISHED, client.state());
        return server;
    }

    @Test
    void roundTripsOnAnEstablishedConnectionAllocateNothing() throws Exception {
        Requirements.requireNetns();
        assertTrue(Allocations.isSupported(), "this JVM must count per-thread allocation");
        final int port = TestPorts.random();
        try (Netns ns = Netns.createLoopback()) {
            ns.executor().run(() -> {
                try (TcpEndpoint ep = Bypass.openTcp("nio:lo")) {
                    final TcpListener listener = ep.listen(port);
                    final TcpConnection client = ep.connect(Ipv4.parse("127.0.0.1"), port);
                    final TcpConnection server = accepted(ep, listener, client);
                    final RoundTrips trips = new RoundTrips(ep, client, server);
                    trips.run(50_000); // JIT warm-up
                    // Windows of 100,000 round trips until one allocates nothing (at most 5), then the fewest bytes of
                    // 3 more: a late C2 compile on a loaded host can cost one window a few hundred bytes once; an
                    // allocation per trip would cost every window at least 1.6 MB.
                    final long bytes = Allocations.steadyState(() -> trips.run(100_000), 5, 3);
                    assertEquals(0, bytes, "bytes allocated by 100,000 round trips on the polling thread");
                    assertTrue(client.counters().get(io.bypass.Counter.TCP_BYTES_OUT) >= 250_000L * MESSAGE);
                    assertEquals(client.counters().get(io.bypass.Counter.TCP_BYTES_OUT),
                        server.counters().get(io.bypass.Counter.TCP_BYTES_IN));
                }
            });
        }
    }

    @Test
    void anIdleListenerAllocatesNothingWhenAskedForConnections() throws Exception {
        Requirements.requireNetns();
        final int port = TestPorts.random();
        try (Netns ns = Netns.createLoopback()) {
            ns.executor().run(() -> {
                try (TcpEndpoint ep = Bypass.openTcp("nio:lo")) {
                    final TcpListener listener = ep.listen(port);
                    final Runnable asks = () -> {
                        for (int i = 0; i < 100_000; i++) {
                            if (listener.accept() != null || ep.poll(16) < 0) {
                                throw broken(4, i);
                            }
                        }
                    };
                    asks.run(); // JIT warm-up
                    assertEquals(0, Allocations.steadyState(asks, 5, 3), "bytes allocated by 100,000 accept() and poll() with no one connecting");
                    accepted(ep, listener, ep.connect(Ipv4.parse("127.0.0.1"), port)); // a connection that comes is still accepted
                }
            });
        }
    }

    /** The classes of the poll and send paths keep no string constant (see {@link io.bypass.spi.HotPathErrors}). */
    @Test
    void pollAndSendPathsHoldNoStringConstant() {
        for (final Class<?> type : List.of(NioTcpConnection.class, NioTcpTable.class, NioTcpBuffers.class, NioTcpSendQueue.class)) {
            assertEquals(List.of(), HotPathStrings.stringConstants(type), type.getName());
        }
    }
}
