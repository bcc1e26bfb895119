package io.bypass.conformance;

import io.bypass.Bypass;
import io.bypass.testing.Requirements;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.tcp.TcpHandler;
import io.bypass.tcp.TcpState;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What {@link TcpConformanceSuite} stands on: the hooks a backend fills in, the endpoint opened on
 * the DUT namespace's thread, the kernel peer, and small helpers. Backend-neutral: it knows the
 * backend only through {@link #uriFor(String)}, {@link #openEndpoint(String)} and
 * {@link #dutRetransmittedSegments(TcpEndpoint)}.
 */
public abstract class TcpSiteSuite extends SiteSuite {
    /** A handler that ignores what it gets. */
    protected static final TcpHandler IGNORE = (buffer, offset, length) -> { };

    /** For subclasses. */
    protected TcpSiteSuite() {
        super(0);
    }

    /**
     * Opens the endpoint under test; called on the DUT namespace's thread.
     *
     * @param uri {@link #uriFor(String)} of the DUT interface, with any keys a test adds
     * @return the endpoint
     */
    protected TcpEndpoint openEndpoint(final String uri) {
        return Bypass.openTcp(uri);
    }

    /**
     * Segments the DUT's TCP has retransmitted so far: the backend's own counter, or for a backend
     * whose TCP is the kernel's ({@code nio:}), the DUT namespace's {@code TcpRetransSegs}.
     *
     * @param endpoint the endpoint under test
     * @return the count
     */
    protected abstract long dutRetransmittedSegments(TcpEndpoint endpoint);

    /**
     * Drops {@code percent} of the TCP frames the DUT receives from the peer (0: none), so the peer's
     * TCP sees loss on the wire and the DUT's receive side sees holes ({@link TcpLossRules}). Default:
     * an {@code nft} netdev ingress rule on the DUT interface in the DUT namespace, which every frame
     * the kernel receives passes; a backend that reads frames before that hook (an XDP program, a
     * packet socket) overrides it to drop in a bridge in front of its interface ({@link BridgedDutLoss}).
     *
     * @param percent 0..100
     */
    protected void dutIngressLoss(final int percent) {
        KernelTcpPeer.ingressLoss(site().dutNamespace(), site().dutIface(), percent);
    }

    /** @return frames {@link #dutIngressLoss(int)} dropped so far */
    protected TcpLossRules.Drops dutIngressLossDrops() {
        return KernelTcpPeer.lossDrops(site().dutNamespace());
    }

    /** Adds {@code nft} and {@code tshark} to what the site needs. */
    @Override
    protected void requireHost() {
        super.requireHost();
        Requirements.requireCommand("nft");
        Requirements.requireCommand("tshark");
    }

    /**
     * @param keys {@code key=value} pairs to add
     * @return the DUT interface's URI with them
     */
    protected final String uri(final String... keys) {
        String u = uriFor(site().dutIface());
        for (final String k : keys) {
            u += (u.contains("?") ? "&" : "?") + k;
        }
        return u;
    }

    /**
     * Opens an endpoint on the DUT's thread; closed after the test.
     *
     * @param keys URI keys to add
     * @return the endpoint
     * @throws Exception if it cannot be opened
     */
    protected final TcpEndpoint open(final String... keys) throws Exception {
        return closeAfterTest(site().dut().call(() -> openEndpoint(uri(keys))));
    }

    /** @return a kernel peer, closed after the test */
    protected final KernelTcpPeer peer() {
        return closeAfterTest(new KernelTcpPeer(site()));
    }

    /**
     * Connects on the DUT's thread and polls until established.
     *
     * @param ep   the endpoint
     * @param port the peer's port
     * @return the connection, ESTABLISHED
     * @throws Exception if it is not established in 5 s
     */
    protected final TcpConnection connect(final TcpEndpoint ep, final int port) throws Exception {
        return site().dut().call(() -> {
            final TcpConnection c = ep.connect(site().peerAddress(), port);
            assertEquals(TcpState.ESTABLISHED, TcpStreams.await(ep, c, TcpState.ESTABLISHED, 5_000, IGNORE),
                "connect to the kernel peer: " + c.closeReason());
            return c;
        });
    }

    /**
     * Polls {@code c} until {@code n} bytes have come (or it ended, or 5 s passed).
     *
     * @param ep the endpoint
     * @param c  the connection
     * @param n  bytes wanted
     * @return what came
     */
    protected static byte[] receive(final TcpEndpoint ep, final TcpConnection c, final int n) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final TcpHandler h = (b, o, l) -> {
            final byte[] x = new byte[l];
            b.getBytes(o, x);
            out.write(x, 0, l);
        };
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (out.size() < n && System.nanoTime() < deadline && c.state() != TcpState.CLOSED) {
            if (ep.poll(16) + Math.max(0, c.poll(h, 16)) == 0) {
                Thread.yield();
            }
        }
        return out.toByteArray();
    }

    /**
     * Sends everything queued, polling meanwhile.
     *
     * @param ep the endpoint
     * @param c  the connection
     */
    protected static void flushAll(final TcpEndpoint ep, final TcpConnection c) {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (c.queuedBytes() > 0 && System.nanoTime() < deadline) {
            if (c.flush() <= 0) {
                ep.poll(16);
                Thread.yield();
            }
        }
        assertEquals(0, c.queuedBytes(), "queued bytes not sent in 10 s: " + c.state() + " " + c.closeReason());
    }

    /** @return this process's open file descriptors */
    protected static int openFileDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        }
    }
}
