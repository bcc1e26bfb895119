package io.bypass.afxdp;

import io.bypass.Bypass;
import io.bypass.Counter;
import io.bypass.conformance.TcpStreams;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.tcp.TcpHandler;
import io.bypass.tcp.TcpListener;
import io.bypass.tcp.TcpState;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bypass's own TCP on {@code afxdp:} lives beside the kernel's on the same interface and address: while
 * a Bypass connection (active open, to a kernel echo server in B) and an accepted one (a kernel client in
 * B to our listener) exchange bytes, a kernel server in A serves a client in B and a kernel client in A
 * talks to a server in B, 1 MiB each way each, byte-exact, with no RST on any side. Afterwards the
 * endpoint's ports bind again in the kernel and no XDP program is left.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AfXdpTcpBesideKernelTest extends AfXdpVethTest {
    private static final int KERNEL_BYTES = 1 << 20;
    private static final int OUR_LISTEN_PORT = 7720;
    /** Its own threads: the common pool may have one thread on a 2-CPU host, and these tasks block. */
    private static final ExecutorService THREADS = Executors.newCachedThreadPool(r -> {
        final Thread t = new Thread(r, "beside-kernel");
        t.setDaemon(true);
        return t;
    });

    @Test
    void kernelTcpOnOtherPortsKeepsWorkingBothWaysWhileBypassTcpRuns() throws Exception {
        final InetAddress a = InetAddress.getByName(t.addressAText());
        final InetAddress b = InetAddress.getByName(t.addressBText());
        final TcpEndpoint ep = t.executorA().call(() -> Bypass.openTcp("afxdp:" + t.ifaceA() + "?xdp=drv&mode=copy"));
        int ourActivePort;
        try (ServerSocket echoB = t.executorB().call(() -> new ServerSocket(9200, 4, b));
             ServerSocket kernelServerA = t.executorA().call(() -> new ServerSocket(7711, 4, a));
             ServerSocket kernelServerB = t.executorB().call(() -> new ServerSocket(9201, 4, b));
             Socket kernelClientB = t.executorB().call(() -> boundSocket(b));
             Socket kernelClientA = t.executorA().call(() -> boundSocket(a));
             Socket clientOfOurs = t.executorB().call(() -> boundSocket(b))) {
            final Future<?> echo = CompletableFuture.runAsync(() -> echoUntilEof(echoB), THREADS);
            final TcpConnection ours = t.executorA().call(() -> {
                final TcpConnection c = ep.connect(t.addressB(), 9200);
                assertEquals(TcpState.ESTABLISHED, TcpStreams.await(ep, c, TcpState.ESTABLISHED, 5_000, (x, y, z) -> { }));
                return c;
            });
            ourActivePort = ours.localPort();
            final TcpListener listener = t.executorA().call(() -> ep.listen(OUR_LISTEN_PORT));
            final Future<?> clientConnect = CompletableFuture.runAsync(() -> connect(clientOfOurs, a, OUR_LISTEN_PORT), THREADS);
            final TcpConnection accepted = t.executorA().call(() -> {
                final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                TcpConnection c = null;
                while (c == null && System.nanoTime() < end) {
                    ep.poll(16);
                    c = listener.accept();
                }
                return c;
            });
            assertNotNull(accepted, () -> "our listener accepted the kernel client: " + clientConnect + " " + ep.counters());
            clientConnect.get(5, TimeUnit.SECONDS);

            // the kernel's own connections, both ways, while ours run
            final Future<byte[]> toServerA = CompletableFuture.supplyAsync(() -> echoThrough(kernelServerA, kernelClientB, a, 7711),
                THREADS);
            final Future<byte[]> toServerB = CompletableFuture.supplyAsync(() -> echoThrough(kernelServerB, kernelClientA, b, 9201),
                THREADS);
            final Future<byte[]> clientOfOursGot = CompletableFuture.supplyAsync(() -> sendAndRead(clientOfOurs, 64 * 1024), THREADS);
            final int[] roundTrips = t.executorA().call(() -> runOurs(ep, ours, accepted, toServerA, toServerB, clientOfOursGot));
            assertArrayEquals(pattern(KERNEL_BYTES, 1), toServerA.get(5, TimeUnit.SECONDS), "B to a kernel server in A");
            assertArrayEquals(pattern(KERNEL_BYTES, 1), toServerB.get(5, TimeUnit.SECONDS), "a kernel client in A to B");
            assertArrayEquals(pattern(64 * 1024, 2), clientOfOursGot.get(5, TimeUnit.SECONDS), "echoed by our accepted connection");
            assertTrue(roundTrips[0] > 10, "our active connection's round trips meanwhile: " + roundTrips[0]);
            assertEquals(0, ep.counters().get(Counter.TCP_RESETS_RECEIVED), ep.counters().toString());
            assertEquals(0, ep.counters().get(Counter.DROP_TCP_NO_CONNECTION), "no kernel segment was steered to us: " + ep.counters());
            assertEquals(TcpState.ESTABLISHED, ours.state());
            assertEquals(TcpState.ESTABLISHED, accepted.state());
            t.executorA().run(ep::close);
            echo.get(5, TimeUnit.SECONDS);
        } finally {
            t.executorA().run(ep::close);
        }
        // nothing left: our ports bind again in the kernel, no XDP program
        final int active = ourActivePort;
        t.executorA().run(() -> {
            for (final int p : new int[] {OUR_LISTEN_PORT, active}) {
                try (ServerSocket s = new ServerSocket()) {
                    s.bind(new InetSocketAddress(a, p));
                }
            }
            AfXdpConformance.assertNoXdp(t.ifaceA());
        });
    }

    /**
     * Our ephemeral ports are the kernel's choice, so they never collide with a kernel socket's: with the
     * DUT namespace's ip_local_port_range cut to two ports and one of them held by a kernel listener, our
     * connect gets the other; with both taken, connect throws, counts TCP_CONNECT_FAILED and steers nothing
     * (a kernel client to the peer is then refused a port too, as the kernel's own connect would be).
     */
    @Test
    void ourEphemeralPortsNeverCollideWithTheKernelsAndRunningOutIsCounted() throws Exception {
        final InetAddress a = InetAddress.getByName(t.addressAText());
        final InetAddress b = InetAddress.getByName(t.addressBText());
        t.a().exec("sysctl", "-qw", "net.ipv4.ip_local_port_range=40000 40001");
        final TcpEndpoint ep = t.executorA().call(() -> Bypass.openTcp("afxdp:" + t.ifaceA() + "?xdp=drv&mode=copy"));
        try (ServerSocket kernelHolds = t.executorA().call(() -> new ServerSocket(40000, 4, a));
             ServerSocket serverB = t.executorB().call(() -> new ServerSocket(9300, 4, b))) {
            final TcpConnection c = t.executorA().call(() -> {
                final TcpConnection x = ep.connect(t.addressB(), 9300);
                assertEquals(TcpState.ESTABLISHED, TcpStreams.await(ep, x, TcpState.ESTABLISHED, 5_000, (p, q, r) -> { }));
                return x;
            });
            assertEquals(40001, c.localPort(), "the one port of the range no kernel socket holds");
            try (Socket accepted = serverB.accept()) {
                assertEquals(40001, accepted.getPort(), "the peer sees the same port");
            }
            final io.bypass.BypassException e = t.executorA().call(() -> org.junit.jupiter.api.Assertions.assertThrows(
                io.bypass.BypassException.class, () -> ep.connect(t.addressB(), 9300)));
            assertTrue(e.getMessage().contains("no ephemeral port free"), e.getMessage());
            assertEquals(1, ep.counters().get(Counter.TCP_CONNECT_FAILED));
            assertEquals(1, ep.counters().get(Counter.TCP_ACTIVE_OPENS), "the failed connect opened nothing");
            t.executorA().run(() -> {
                try (Socket s = new Socket()) {
                    org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> s.bind(new InetSocketAddress(a, 40001)),
                        "our connection's port stays reserved in the kernel");
                }
            });
        } finally {
            t.executorA().run(ep::close);
        }
        t.executorA().run(() -> {
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(a, 40001)); // released with the endpoint
            }
        });
    }

    /** Polls our endpoint until the kernel exchanges are done: round trips on {@code ours}, echoes on {@code accepted}. */
    private static int[] runOurs(final TcpEndpoint ep, final TcpConnection ours, final TcpConnection accepted,
                                 final Future<?>... kernel) {
        final UnsafeBuffer ping = new UnsafeBuffer(new byte[64]);
        final int[] echoed = new int[1];
        final byte[] copy = new byte[65536];
        final TcpHandler onEcho = (buf, off, len) -> echoed[0] += len;
        final TcpHandler echoBack = (buf, off, len) -> {
            buf.getBytes(off, copy, 0, len);
            assertEquals(TcpConnection.OK, accepted.send(new UnsafeBuffer(copy), 0, len));
        };
        int roundTrips = 0;
        final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        boolean outstanding = false;
        while (System.nanoTime() < end && !(Arrays.stream(kernel).allMatch(Future::isDone) && roundTrips > 10)) {
            if (!outstanding) {
                assertEquals(TcpConnection.OK, ours.send(ping, 0, ping.capacity()));
                ours.flush();
                outstanding = true;
            }
            ours.poll(onEcho, 16);
            if (echoed[0] >= ping.capacity()) {
                echoed[0] -= ping.capacity();
                roundTrips++;
                outstanding = false;
            }
            accepted.poll(echoBack, 16);
            accepted.flush();
            ep.poll(16);
        }
        return new int[] {roundTrips};
    }

    /** A client socket made in the calling thread's namespace: bound now, so its fd is made now, here. */
    private static Socket boundSocket(final InetAddress local) throws IOException {
        final Socket s = new Socket();
        s.bind(new InetSocketAddress(local, 0));
        return s;
    }

    private static void connect(final Socket s, final InetAddress to, final int port) {
        try {
            s.connect(new InetSocketAddress(to, port), 5_000);
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] sendAndRead(final Socket s, final int n) {
        try {
            s.setSoTimeout(20_000);
            final byte[] sent = pattern(n, 2);
            s.getOutputStream().write(sent);
            return s.getInputStream().readNBytes(n);
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A kernel client sends {@value #KERNEL_BYTES} bytes to a kernel server that echoes them; what came back. */
    private static byte[] echoThrough(final ServerSocket server, final Socket client, final InetAddress to, final int port) {
        final CompletableFuture<Void> serving = CompletableFuture.runAsync(() -> echoOnce(server), THREADS);
        connect(client, to, port);
        final CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
            try {
                client.getOutputStream().write(pattern(KERNEL_BYTES, 1));
            } catch (final IOException e) {
                throw new UncheckedIOException(e);
            }
        }, THREADS);
        try {
            client.setSoTimeout(20_000);
            final byte[] got = client.getInputStream().readNBytes(KERNEL_BYTES);
            writing.join();
            serving.join();
            return got;
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void echoOnce(final ServerSocket server) {
        try (Socket s = server.accept()) {
            s.setSoTimeout(20_000);
            final InputStream in = s.getInputStream();
            final OutputStream out = s.getOutputStream();
            final byte[] buf = new byte[8192];
            int left = KERNEL_BYTES;
            while (left > 0) {
                final int n = in.read(buf, 0, Math.min(buf.length, left));
                if (n < 0) {
                    break;
                }
                out.write(buf, 0, n);
                left -= n;
            }
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void echoUntilEof(final ServerSocket server) {
        try (Socket s = server.accept()) {
            final InputStream in = s.getInputStream();
            final OutputStream out = s.getOutputStream();
            final byte[] buf = new byte[8192];
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                out.write(buf, 0, n);
            }
        } catch (final IOException e) {
            // our endpoint's close may reset it (a ping's echo unread): not what this test is about
        }
    }

    private static byte[] pattern(final int n, final long seed) {
        final byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
