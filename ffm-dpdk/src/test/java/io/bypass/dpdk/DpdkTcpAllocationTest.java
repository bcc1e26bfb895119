package io.bypass.dpdk;

import io.bypass.Bypass;
import io.bypass.Counter;
import io.bypass.tcp.TcpClaim;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.tcp.TcpHandler;
import io.bypass.tcp.TcpState;
import io.bypass.testing.Allocations;
import io.bypass.testing.Requirements;
import io.bypass.testkit.TestPorts;
import io.bypass.testkit.VethPair;
import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bypass's own TCP allocates nothing in steady state: round trips of a 64-byte message from a
 * {@code dpdk:} (net_af_packet) connection to the kernel's TCP echoing in the peer namespace, each one
 * {@code tryClaim}, commit, {@code flush}, then the connection's {@code poll} (RX burst, ACK
 * processing, delivery in place, timers) until the echo is back, counted with
 * {@code ThreadMXBean.getCurrentThreadAllocatedBytes}.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DpdkTcpAllocationTest {
    private static final int MESSAGE = 64;

    private static AssertionError broken(final int what, final long value) {
        return new AssertionError(List.of("claim refused", "flush short", "echo came back as").get(what) + " (" + value + ")");
    }

    /** The loop under test; no string constant. */
    private static final class RoundTrips {
        private final TcpConnection c;
        private final TcpClaim claim = new TcpClaim();
        private int got;
        private long echoed;
        private final TcpHandler back = this::back;

        RoundTrips(final TcpConnection c) {
            this.c = c;
        }

        private void back(final DirectBuffer b, final int o, final int l) {
            if (got == 0 && l >= 8) {
                echoed = b.getLong(o);
            }
            got += l;
        }

        void run(final int trips) {
            for (int i = 0; i < trips; i++) {
                if (c.tryClaim(MESSAGE, claim) != TcpConnection.OK) {
                    throw broken(0, i);
                }
                claim.buffer().putLong(claim.offset(), i);
                claim.commit();
                if (c.flush() != MESSAGE) {
                    throw broken(1, i);
                }
                got = 0;
                while (got < MESSAGE) {
                    c.poll(back, 16);
                }
                if (echoed != i) {
                    throw broken(2, echoed);
                }
            }
        }
    }

    @Test
    void roundTripsWithTheKernelsTcpAllocateNothing() throws Exception {
        Requirements.requireNetns();
        Requirements.requireBackendAvailable("dpdk");
        assertTrue(Allocations.isSupported(), "this JVM must count per-thread allocation");
        final int port = TestPorts.random();
        try (VethPair veth = VethPair.create()) {
            veth.a().ip("addr", "flush", "dev", veth.ifaceA()); // DPDK owns the DUT's address: its kernel never answers
            final ServerSocketChannel server = veth.executorB().call(() -> {
                final ServerSocketChannel s = ServerSocketChannel.open();
                s.bind(new InetSocketAddress(veth.addressBText(), port));
                return s;
            });
            final CompletableFuture<Long> echoed = CompletableFuture.supplyAsync(() -> {
                try (server; SocketChannel ch = server.accept()) {
                    ch.socket().setTcpNoDelay(true);
                    final ByteBuffer b = ByteBuffer.allocateDirect(64 * 1024);
                    long total = 0;
                    for (int n; (n = ch.read(b.clear())) >= 0; total += n) {
                        b.flip();
                        while (b.hasRemaining()) {
                            ch.write(b);
                        }
                    }
                    return total;
                } catch (final Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            final String uri = "dpdk:net_af_packet" + DpdkTestSupport.nextVdevIndex() + ",iface=" + veth.ifaceA()
                + "?hugepages=false&ip=" + veth.addressAText() + "/" + VethPair.PREFIX_LENGTH;
            final long[] out = new long[1];
            veth.executorA().run(() -> {
                try (TcpEndpoint ep = Bypass.openTcp(uri)) {
                    final TcpConnection c = ep.connect(veth.addressB(), port);
                    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (c.state() == TcpState.SYN_SENT && System.nanoTime() < deadline) {
                        ep.poll(16);
                    }
                    assertEquals(TcpState.ESTABLISHED, c.state(), String.valueOf(c.closeReason()));
                    final RoundTrips trips = new RoundTrips(c);
                    trips.run(30_000); // JIT warm-up
                    // windows of 20,000 round trips until one allocates nothing (at most 5), then the fewest bytes of 3
                    // more: one allocation per trip would cost every window at least 320 KB
                    final long bytes = Allocations.steadyState(() -> trips.run(20_000), 5, 3);
                    assertEquals(0, bytes, "bytes allocated by 20,000 round trips with the kernel's TCP on the polling thread");
                    out[0] = c.counters().get(Counter.TCP_BYTES_OUT);
                    assertEquals(out[0], c.counters().get(Counter.TCP_BYTES_IN));
                    c.close();
                    final long closing = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (c.state() != TcpState.CLOSED && System.nanoTime() < closing) {
                        ep.poll(16);
                    }
                }
            });
            assertEquals(out[0], echoed.get(10, TimeUnit.SECONDS), "bytes the kernel echoed");
            assertTrue(out[0] >= 50_000L * MESSAGE, "bytes sent: " + out[0]);
        }
    }
}
