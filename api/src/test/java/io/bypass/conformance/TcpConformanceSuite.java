package io.bypass.conformance;

import io.bypass.BypassException;
import io.bypass.BypassUriException;
import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.testing.Capture;
import io.bypass.tcp.TcpClaim;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.tcp.TcpListener;
import io.bypass.tcp.TcpState;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ArgumentsSource;

import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The TCP conformance suite every backend's {@link TcpEndpoint} passes, against the kernel's TCP
 * in the peer namespace (blocking Java sockets there, {@code nft} for loss, a route for a small MSS,
 * tshark to see keepalive probes): connect and exchange, refused, 100 MB each way byte-exact,
 * orderly close from either side, a RST from the peer and one from us, a peer that stops reading, keepalive, a small
 * MSS, 1,000 short connections with nothing leaked, passive open, loss, and URI refusals.
 *
 * <pre>{@code
 * class NioTcpConformanceTest extends TcpConformanceSuite {
 *     protected String uriFor(String iface) { return "nio:" + iface; }
 *     protected long dutRetransmittedSegments(TcpEndpoint ep) { return KernelTcpPeer.retransmittedSegments(site().dutNamespace()); }
 * }
 * }</pre>
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
public abstract class TcpConformanceSuite extends TcpSiteSuite {
    /** Bytes each way of the bulk case. */
    protected static final long BULK_BYTES = 100L * 1024 * 1024;
    /** Bytes each way of each loss case. */
    protected static final long LOSS_BYTES = 20L * 1024 * 1024;

    private static byte[] ascii(final String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    // 1
    @Test
    void connectsToAKernelServerAndExchangesBytesBothWays() throws Exception {
        final KernelTcpPeer peer = peer();
        final int port = freshPort();
        final Future<SocketChannel> accepted = peer.accept(peer.listen(port));
        final TcpEndpoint ep = open();
        final TcpConnection c = site().dut().call(() -> ep.connect(site().peerAddress(), port));
        assertTrue(c.state() == TcpState.SYN_SENT || c.state() == TcpState.ESTABLISHED, c.state().name());
        assertNull(c.closeReason());
        onDut(() -> assertEquals(TcpState.ESTABLISHED, TcpStreams.await(ep, c, TcpState.ESTABLISHED, 5_000, IGNORE)));
        final SocketChannel k = accepted.get(5, TimeUnit.SECONDS);
        final InetSocketAddress dutSeenByPeer = (InetSocketAddress) k.getRemoteAddress();
        assertEquals(site().dutAddress(), c.localAddress());
        assertEquals(dutSeenByPeer.getPort(), c.localPort());
        assertEquals(site().peerAddress(), c.remoteAddress());
        assertEquals(port, c.remotePort());
        final byte[] order = ascii("order 1: buy 100 @ 42");
        onDut(() -> {
            assertEquals(TcpConnection.OK, c.send(new UnsafeBuffer(order), 0, order.length));
            assertEquals(order.length, c.queuedBytes());
            assertEquals(order.length, c.flush());
            assertEquals(0, c.queuedBytes());
        });
        assertArrayEquals(order, peer.async(() -> KernelTcpPeer.readExactly(k, order.length)).get(5, TimeUnit.SECONDS));
        final byte[] ack = ascii("ack 1: filled");
        k.write(ByteBuffer.wrap(ack));
        assertArrayEquals(ack, site().dut().call(() -> receive(ep, c, ack.length)));
        for (final Counters counters : List.of(c.counters(), ep.counters())) {
            assertEquals(1, counters.get(Counter.TCP_ACTIVE_OPENS));
            assertEquals(1, counters.get(Counter.TCP_ESTABLISHED));
            assertEquals(order.length, counters.get(Counter.TCP_BYTES_OUT));
            assertEquals(ack.length, counters.get(Counter.TCP_BYTES_IN));
        }
    }

    // 2
    @Test
    void aRefusedConnectEndsClosedRefusedAndCounted() throws Exception {
        final TcpEndpoint ep = open();
        final int port = freshPort(); // nothing listens there
        final TcpConnection c = site().dut().call(() -> ep.connect(site().peerAddress(), port));
        onDut(() -> {
            assertEquals(TcpState.CLOSED, TcpStreams.await(ep, c, TcpState.CLOSED, 5_000, IGNORE));
            assertEquals("refused", c.closeReason());
            assertEquals(TcpConnection.CLOSED, c.poll(IGNORE, 16));
            assertEquals(TcpConnection.CLOSED, c.tryClaim(8, new TcpClaim()));
            assertEquals(TcpConnection.CLOSED, c.flush());
            c.close(); // no exception, idempotent
            c.abort();
        });
        for (final Counters counters : List.of(c.counters(), ep.counters())) {
            assertEquals(1, counters.get(Counter.TCP_CONNECT_REFUSED));
            assertEquals(0, counters.get(Counter.TCP_ESTABLISHED));
            assertEquals(1, counters.get(Counter.TCP_CLOSED));
        }
    }

    // 3
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void hundredMegabytesEachWayAtOnceArriveByteExact() throws Exception {
        final KernelTcpPeer peer = peer();
        final int port = freshPort();
        final Future<SocketChannel> accepted = peer.accept(peer.listen(port));
        final TcpEndpoint ep = open();
        final TcpConnection c = connect(ep, port);
        final SocketChannel k = accepted.get(5, TimeUnit.SECONDS);
        final Future<long[]> kernelGot = peer.drain(k, -1);
        final Future<Long> kernelSent = peer.write(k, BULK_BYTES);
        final long start = System.nanoTime();
        final TcpStreams.Tally t = site().dut().call(() -> TcpStreams.pump(ep, c, BULK_BYTES, BULK_BYTES, 110));
        final double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("TCP %s: %d MB each way at once in %.2f s (%.0f Mb/s each way)%n", ep.backend(), BULK_BYTES >> 20,
            seconds, BULK_BYTES * 8 / seconds / 1e6);
        onDut(c::close);
        final long[] got = site().dut().call(() -> TcpStreams.pollUntilDone(ep, c, kernelGot, 30));
        k.close();
        onDut(() -> assertEquals(TcpState.CLOSED, TcpStreams.await(ep, c, TcpState.CLOSED, 5_000, IGNORE)));
        assertEquals(BULK_BYTES, got[0], "bytes the kernel received");
        assertEquals(TcpStreams.crcOf(BULK_BYTES), got[1], "CRC32 of what the kernel received");
        assertEquals(1, got[2], "the kernel read our FIN after the stream");
        assertEquals(TcpStreams.crcOf(BULK_BYTES), kernelSent.get(5, TimeUnit.SECONDS));
        assertEquals(BULK_BYTES, t.bytesIn(), "bytes we received");
        assertEquals(TcpStreams.crcOf(BULK_BYTES), t.crcIn(), "CRC32 of what we received");
        assertEquals(BULK_BYTES, c.counters().get(Counter.TCP_BYTES_IN));
        assertEquals(BULK_BYTES, c.counters().get(Counter.TCP_BYTES_OUT));
    }

    // 4a
    @Test
    void anOrderlyCloseFromUsSendsQueuedBytesThenFin() throws Exception {
        final KernelTcpPeer peer = peer();
        final int port = freshPort();
        final Future<SocketChannel> accepted = peer.accept(peer.listen(port));
        final TcpEndpoint ep = open();
        final TcpConnection c = connect(ep, port);
        final SocketChannel k = accepted.get(5, TimeUnit.SECONDS);
        final Future<long[]> kernelGot = peer.drain(k, -1);
        final byte[] last = ascii("logout");
        onDut(() -> {
            assertEquals(TcpConnection.OK, c.send(new UnsafeBuffer(last), 0, last.length)); // queued, not flushed
            c.close();
            assertEquals(TcpState.FIN_WAIT_1, c.state(), "after close(), before the peer's FIN");
            assertEquals("closed", c.closeReason());
            assertEquals(TcpConnection.CLOSED, c.tryClaim(1, new TcpClaim()), "nothing more after close()");
        });
        final long[] got = kernelGot.get(5, TimeUnit.SECONDS);
        assertEquals(last.length, got[0], "the queued bytes went before the FIN");
        assertEquals(1, got[2], "the kernel read end of stream");
        k.close(); // the peer's FIN
        onDut(() -> assertEquals(TcpState.CLOSED, TcpStreams.await(ep, c, TcpState.CLOSED, 5_000, IGNORE)));
        assertEquals("closed", c.closeReason());
        assertEquals(1, c.counters().get(Counter.TCP_FINS_RECEIVED));
        assertEquals(1, ep.counters().get(Counter.TCP_CLOSED));
        assertEquals(0, ep.counters().get(Counter.TCP_RESETS_RECEIVED));
    }

    // 4b
    @Test
    void anOrderlyCloseFromThePeerLeavesUsAbleToSendThenClose() throws Exception {
        final KernelTcpPeer peer = peer();
        final int port = freshPort();
        final Future<SocketChannel> accepted = peer.accept(peer.listen(port));
        final TcpEndpoint ep = open();
        final TcpConnection c = connect(ep, port);
        final SocketChannel k = accepted.get(5, TimeUnit.SECONDS);
        final byte[] bye = ascii("end of session");
        k.write(ByteBuffer.wrap(bye));
        k.shutdownOutput(); // FIN after the bytes
        assertArrayEquals(bye, site().dut().call(() -> receive(ep, c, bye.length)));
        onDut(() -> assertEquals(TcpState.CLOSE_WAIT, TcpStreams.await(ep, c, TcpState.CLOSE_WAIT, 5_000, IGNORE)));
        assertEquals("closed by peer", c.closeReason());
        assertEquals(1, ep.counters().get(Counter.TCP_FINS_RECEIVED));
        final Future<long[]> kernelGot = peer.drain(k, -1);
        final byte[] after = ascii("still sending after your FIN");
        onDut(() -> {
            assertEquals(0, c.poll(IGNORE, 16), "nothing more arrives in CLOSE_WAIT");
            assertEquals(TcpConnection.OK, c.send(new UnsafeBuffer(after), 0, after.length));
            assertEquals(after.length, c.flush());
            c.close();
            assertEquals(TcpState.CLOSED, TcpStreams.await(ep, c, TcpState.CLOSED, 5_000, IGNORE));
        });
        final long[] got = kernelGot.get(5, TimeUnit.SECONDS);
        assertEquals(after.length, got[0]);
        assertEquals(1, got[2], "the kernel read our FIN");
        assertEquals("closed by peer", c.closeReason());
        assertEquals(1, ep.counters().get(Counter.TCP_CLOSED));
    }

    // 4c
    @Test
    void aHalfCloseFromUsStillReceivesThePeersBytesUntilItsFin() throws Exception {
        final KernelTcpPeer peer = peer();
        final int port = freshPort();
        final Future<SocketChannel> accepted = peer.accept(peer.listen(port));
        final TcpEndpoint ep = open();
        final TcpConnection c = connect(ep, port);
        final SocketChannel k = accepted.get(5, TimeUnit.SECONDS);
        final Future<long[]> kernelGot = peer.drain(k, -1);
        final byte[] request = ascii("send me the day's trades, then close");
        onDut(() -> {
            assertEquals(TcpConnection.OK, c.send(new UnsafeBuffer(request), 0, request.length)); // queued, not flushed
            assertEquals(TcpConnection.OK, c.shutdownOutput());
            assertEquals(TcpConnection.OK, c.shutdownOutput(), "idempotent");
            assertEquals(TcpConnection.CLOSED, c.tryClaim(1, new TcpClaim()), "nothing more to send after a half-close");
        });
        final long[] got = site().dut().call(() -> TcpStreams.pollUntilDone(ep, c, kernelGot, 5));
        assertEquals(request.length, got[0], "the queued bytes went before the FIN");
        assertEquals(1, got[2], "the kernel read end of stream");
        final long reply = 1 << 20;
        final Future<Long> kernelSent = peer.write(k, reply);
        final TcpStreams.Tally t = site().dut().call(() -> TcpStreams.pump(ep, c, 0, reply, 30));
        assertEquals(reply, t.bytesIn(), "the peer's bytes after our FIN are delivered, not discarded");
        assertEquals(kernelSent.get(5, TimeUnit.SECONDS), t.crcIn());
        k.close(); // the peer's FIN
        onDut(() -> assertEquals(TcpState.CLOSED, TcpStreams.await(ep, c, TcpState.CLOSED, 5_000, IGNORE)));
        assertEquals("closed", c.closeReason());
        assertEquals(0, ep.counters().get(Counter.TCP_BYTES_DISCARDED));
        assertEquals(0, ep.counters().get(Counter.TCP_RESETS_RECEIVED));
        assertEquals(1, ep.counters().get(Counter.TCP_CLOSED));
    }

    // 5
    @Test
    void aResetFromThePeerEndsClosedResetAndCounted() throws Exception {
        final KernelTcpPeer peer = peer();
        final int port = freshPort();
        final Future<SocketChannel> accepted = peer.accept(peer.listen(port));
        final TcpEndpoint ep = open();
        final TcpConnection c = connect(ep, port);
        final SocketChannel k = accepted.get(5, TimeUnit.SECONDS);
        k.setOption(StandardSocketOptions.SO_LINGER, 0);
        k.close(); // RST
        onDut(() -> {
            assertEquals(TcpState.CLOSED, TcpStreams.await(ep, c, TcpState.CLOSED, 5_000, IGNORE));
            assertEquals("reset by peer", c.closeReason());
            assertEquals(TcpConnection.CLOSED, c.flush());
            assertEquals(TcpConnection.CLOSED, c.poll(IGNORE, 1));
        });
        assertEquals(1, c.counters().get(Counter.TCP_RESETS_RECEIVED));
        assertEquals(1, ep.counters().get(Counter.TCP_RESETS_RECEIVED));
        assertEquals(1, ep.counters().get(Counter.TCP_CLOSED));
    }

    // 5b
    @Test
    void anAbortResetsTheConnectionAndThePeerSeesTheReset() throws Exception {
        final KernelTcpPeer peer = peer();
        final int port = freshPort();
        final Future<SocketChannel> accepted = peer.accept(peer.listen(port));
        final TcpEndpoint ep = open();
        final TcpConnection c = connect(ep, port);
        final SocketChannel k = accepted.get(5, TimeUnit.SECONDS);
        final Future<long[]> kernelRead = peer.drain(k, -1);
        onDut(() -> {
            c.abort();
            assertEquals(TcpState.CLOSED, c.state());
            assertEquals("aborted", c.closeReason());
            assertEquals(TcpConnection.CLOSED, c.poll(IGNORE, 1));
            c.abort(); // idempotent
        });
        final ExecutionException reset = assertThrows(ExecutionException.class, () -> kernelRead.get(5, TimeUnit.SECONDS),
            "the kernel's read ends with an error, not end of stream");
        assertTrue(String.valueOf(reset.getCause().getMessage()).contains("reset"), String.valueOf(reset.getCause()));
        assertEquals(1, ep.counters().get(Counter.TCP_RESETS_SENT));
        assertEquals(1, ep.counters().get(Counter.TCP_CLOSED));
    }

    // 6
    @Test
    void aPeerThatStopsReadingBackPressuresWithNothingLost() throws Exception {
        final KernelTcpPeer peer = peer();
        final int port = freshPort();
        final Future<SocketChannel> accepted = peer.accept(peer.listen(port));
        final TcpEndpoint ep = open();
        final TcpConnection c = connect(ep, port);
        final SocketChannel k = accepted.get(5, TimeUnit.SECONDS);
        final long committed = site().dut().call(() -> BackPressure.fill(ep, c, 256L * 1024 * 1024));
        onDut(() -> BackPressure.assertStalled(ep, c, 300));
        final Future<long[]> kernelGot = peer.drain(k, committed);
        onDut(() -> flushAll(ep, c));
        final long[] got = site().dut().call(() -> TcpStreams.pollUntilDone(ep, c, kernelGot, 30));
        assertEquals(committed, got[0], "every byte committed arrived");
        assertEquals(TcpStreams.crcOf(committed), got[1], "byte-exact");
        assertTrue(c.counters().get(Counter.TCP_SEND_BACK_PRESSURED) > 0, c.counters().toString());
        assertTrue(c.counters().get(Counter.TX_BACK_PRESSURED) > 0, c.counters().toString());
        assertEquals(committed, c.counters().get(Counter.TCP_BYTES_OUT));
        assertEquals(TcpState.ESTABLISHED, c.state());
    }

    // 7
    @Test
    void keepAliveProbesAnIdleConnectionAndOnlyWhenAsked() throws Exception {
        // one endpoint at a time: two DPDK af_packet ports on one interface in one process share a packet
        // fanout group, which splits the frames between them instead of copying them to both
        final KernelTcpPeer peer = peer();
        final int port = freshPort();
        final ServerSocketChannel server = peer.listen(port);
        final Future<SocketChannel> first = peer.accept(server);
        final TcpEndpoint withKeepAlive = open("keepAliveMs=1000");
        final TcpConnection probed = connect(withKeepAlive, port);
        first.get(5, TimeUnit.SECONDS);
        final List<String> seen = idleCapture(withKeepAlive);
        final long probes = seen.stream().filter(l -> l.startsWith(probed.localPort() + ",")).count();
        assertTrue(probes >= 2, "keepalive probes from port " + probed.localPort() + " in 4 s of idleness: " + seen);
        assertTrue(seen.stream().filter(l -> l.startsWith(probed.localPort() + ","))
            .allMatch(l -> Integer.parseInt(l.split(",")[1]) <= 1), "a probe carries at most one byte: " + seen);
        assertEquals(TcpState.ESTABLISHED, probed.state());
        onDut(withKeepAlive::close);
        final Future<SocketChannel> second = peer.accept(server);
        final TcpEndpoint plain = open();
        final TcpConnection quiet = connect(plain, port);
        second.get(5, TimeUnit.SECONDS);
        final List<String> quietSeen = idleCapture(plain);
        assertTrue(quietSeen.stream().noneMatch(l -> l.startsWith(quiet.localPort() + ",")), "no probes without keepAliveMs: "
            + quietSeen);
        assertEquals(TcpState.ESTABLISHED, quiet.state());
    }

    /**
     * Captures what the DUT sends for 4 s of an idle link while the endpoint is polled as an application's
     * loop polls it (a backend whose TCP is its own runs its timers, keepalive's included, in poll).
     */
    private List<String> idleCapture(final TcpEndpoint ep) throws Exception {
        try (Capture capture = Capture.start(site().peerNamespace().name(), site().peerIface(),
            "tcp and src host " + io.bypass.net.Ipv4.toString(site().dutAddress()), 100, 4, "tcp.srcport", "tcp.len")) {
            onDut(() -> {
                final long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(4_500);
                while (System.nanoTime() < end) {
                    if (ep.poll(16) == 0) {
                        Thread.sleep(1);
                    }
                }
            });
            return capture.await();
        }
    }

    // 8
    @Test
    void aPeerWithASmallMssStillGetsAByteExactStream() throws Exception {
        final KernelTcpPeer peer = peer();
        final int port = freshPort();
        peer.smallMss(true);
        try {
            final Future<SocketChannel> accepted = peer.accept(peer.listen(port));
            final TcpEndpoint ep = open();
            final List<String> mss;
            final TcpConnection c;
            try (Capture capture = Capture.start(site().peerNamespace().name(), site().peerIface(),
                "tcp port " + port + " and tcp[tcpflags] & tcp-syn != 0", 2, 10, "ip.src", "tcp.options.mss_val")) {
                c = connect(ep, port);
                mss = capture.await();
            }
            assertTrue(mss.contains(io.bypass.net.Ipv4.toString(site().peerAddress()) + ",536"),
                "the peer's SYN-ACK advertises MSS 536: " + mss);
            final SocketChannel k = accepted.get(5, TimeUnit.SECONDS);
            final long bytes = 8L * 1024 * 1024;
            final Future<long[]> kernelGot = peer.drain(k, bytes);
            final Future<Long> kernelSent = peer.write(k, bytes);
            final TcpStreams.Tally t = site().dut().call(() -> TcpStreams.pump(ep, c, bytes, bytes, 60));
            assertEquals(TcpStreams.crcOf(bytes), site().dut().call(() -> TcpStreams.pollUntilDone(ep, c, kernelGot, 30))[1]);
            assertEquals(TcpStreams.crcOf(bytes), kernelSent.get(5, TimeUnit.SECONDS));
            assertEquals(TcpStreams.crcOf(bytes), t.crcIn());
        } finally {
            peer.smallMss(false);
        }
    }

    // 9
    @Test
    void aThousandShortConnectionsInARowLeakNothing() throws Exception {
        final int connections = 1_000;
        final KernelTcpPeer peer = peer();
        final int port = freshPort();
        final Future<Integer> served = peer.echo(peer.listen(port), connections);
        final TcpEndpoint ep = open();
        final int fdsBefore = openFileDescriptors();
        onDut(() -> ShortConnections.run(ep, site().peerAddress(), port, connections));
        assertEquals(connections, served.get(30, TimeUnit.SECONDS));
        assertEquals(fdsBefore, openFileDescriptors(), "file descriptors after " + connections + " connections");
        final Counters c = ep.counters();
        assertEquals(connections, c.get(Counter.TCP_ACTIVE_OPENS));
        assertEquals(connections, c.get(Counter.TCP_ESTABLISHED));
        assertEquals(connections, c.get(Counter.TCP_FINS_RECEIVED));
        assertEquals(connections, c.get(Counter.TCP_CLOSED));
        assertEquals((long) connections * ShortConnections.MESSAGE, c.get(Counter.TCP_BYTES_OUT));
        assertEquals((long) connections * ShortConnections.MESSAGE, c.get(Counter.TCP_BYTES_IN));
        for (final Counter none : List.of(Counter.TCP_RESETS_RECEIVED, Counter.TCP_RESETS_SENT, Counter.TCP_CONNECT_REFUSED,
            Counter.TCP_CONNECT_FAILED, Counter.TCP_TIMEOUTS, Counter.TCP_BYTES_DISCARDED)) {
            assertEquals(0, c.get(none), none.name());
        }
    }

    // 10
    @Test
    void aKernelClientConnectsToOurListenerAndIsEchoed() throws Exception {
        final KernelTcpPeer peer = peer();
        final int port = freshPort();
        final TcpEndpoint ep = open();
        final TcpListener listener = site().dut().call(() -> ep.listen(port));
        assertEquals(port, listener.localPort());
        final SocketChannel k = peer.client();
        final InetSocketAddress dut = new InetSocketAddress(InetAddress.getByAddress(io.bypass.net.Ipv4.toBytes(site().dutAddress())), port);
        final Future<Boolean> connected = peer.async(() -> k.connect(dut));
        final TcpConnection c = site().dut().call(() -> ShortConnections.accept(ep, listener, 5_000));
        assertTrue(connected.get(5, TimeUnit.SECONDS));
        assertEquals(TcpState.ESTABLISHED, c.state());
        assertEquals(site().peerAddress(), c.remoteAddress());
        assertEquals(((InetSocketAddress) k.getLocalAddress()).getPort(), c.remotePort());
        assertEquals(port, c.localPort());
        final byte[] ping = ascii("ping 0123456789");
        k.write(ByteBuffer.wrap(ping));
        onDut(() -> ShortConnections.echo(ep, c, ping.length));
        assertArrayEquals(ping, peer.async(() -> KernelTcpPeer.readExactly(k, ping.length)).get(5, TimeUnit.SECONDS));
        k.close();
        onDut(() -> {
            assertEquals(TcpState.CLOSE_WAIT, TcpStreams.await(ep, c, TcpState.CLOSE_WAIT, 5_000, IGNORE));
            c.close();
            assertEquals(TcpState.CLOSED, TcpStreams.await(ep, c, TcpState.CLOSED, 5_000, IGNORE));
            listener.close();
        });
        assertEquals(1, ep.counters().get(Counter.TCP_PASSIVE_OPENS));
        final SocketChannel late = peer.client();
        final Future<Boolean> lateConnect = peer.async(() -> late.connect(dut));
        onDut(() -> { // the endpoint is polled meanwhile, as an application polls it: a user-space TCP answers only then
            final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!lateConnect.isDone() && System.nanoTime() < end) {
                if (ep.poll(16) == 0) {
                    Thread.yield();
                }
            }
        });
        final ExecutionException refused = assertThrows(ExecutionException.class,
            () -> lateConnect.get(5, TimeUnit.SECONDS), "the listener is closed");
        assertInstanceOf(ConnectException.class, refused.getCause());
    }

    // 11
    @ParameterizedTest(name = "{0}% loss")
    @ArgumentsSource(LossPercents.Provider.class)
    void lossIsRepairedAndTheStreamsStayByteExact(final int percent) throws Exception {
        final KernelTcpPeer peer = peer();
        final int port = freshPort();
        final Future<SocketChannel> accepted = peer.accept(peer.listen(port));
        final TcpEndpoint ep = open();
        final TcpConnection c = connect(ep, port);
        final SocketChannel k = accepted.get(5, TimeUnit.SECONDS);
        final long dutBefore = dutRetransmittedSegments(ep);
        final long peerBefore = KernelTcpPeer.retransmittedSegments(site().peerNamespace());
        peer.loss(percent);
        dutIngressLoss(percent);
        try {
            final Future<long[]> kernelGot = peer.drain(k, LOSS_BYTES);
            final Future<Long> kernelSent = peer.write(k, LOSS_BYTES);
            final long start = System.nanoTime();
            final TcpStreams.Tally t;
            try {
                t = site().dut().call(() -> TcpStreams.pump(ep, c, LOSS_BYTES, LOSS_BYTES, 100));
            } catch (final AssertionError | RuntimeException e) {
                System.out.println("the peer's sockets when the loss case failed:\n"
                    + site().peerNamespace().execUnchecked("ss", "-tinoe").stdout());
                throw e;
            }
            final TcpLossRules.Drops toPeer = KernelTcpPeer.lossDrops(site().peerNamespace());
            final TcpLossRules.Drops toDut = dutIngressLossDrops();
            System.out.printf("TCP %s: %d MB each way at %d%% loss in %.2f s; frames dropped: %s to the peer, %s to us; "
                    + "retransmitted: by us %d, by the peer %d%n", ep.backend(), LOSS_BYTES >> 20, percent,
                (System.nanoTime() - start) / 1e9, toPeer, toDut, dutRetransmittedSegments(ep) - dutBefore,
                KernelTcpPeer.retransmittedSegments(site().peerNamespace()) - peerBefore);
            // our last lost segments are retransmitted only while we poll
            final long[] got = site().dut().call(() -> TcpStreams.pollUntilDone(ep, c, kernelGot, 30));
            assertEquals(TcpStreams.crcOf(LOSS_BYTES), got[1], "what the kernel got");
            assertEquals(TcpStreams.crcOf(LOSS_BYTES), kernelSent.get(5, TimeUnit.SECONDS));
            assertEquals(LOSS_BYTES, t.bytesIn());
            assertEquals(TcpStreams.crcOf(LOSS_BYTES), t.crcIn(), "what we got");
            // data lost each way, so each side has something to repair
            assertTrue(toPeer.data() > 0 && toDut.data() > 0, "the rules dropped data both ways: " + toPeer + ", " + toDut);
        } finally {
            peer.loss(0);
            dutIngressLoss(0);
        }
        assertTrue(dutRetransmittedSegments(ep) > dutBefore, "our side retransmitted");
        assertTrue(KernelTcpPeer.retransmittedSegments(site().peerNamespace()) > peerBefore, "the peer retransmitted");
    }

    // 12
    @Test
    void badUriKeysAndValuesAreRefusedAtOpenNamingTheKey() throws Exception {
        for (final String[] bad : new String[][] {{"nagel=true", "nagel"}, {"nagle=maybe", "nagle"},
            {"delayedAck=2", "delayedAck"}, {"keepAliveMs=-5", "keepAliveMs"}, {"sndbuf=lots", "sndbuf"},
            {"rcvbuf=0", "rcvbuf"}}) {
            final BypassUriException e = assertThrows(BypassUriException.class,
                () -> site().dut().call(() -> openEndpoint(uri(bad[0]))), bad[0]);
            assertTrue(e.getMessage().contains(bad[1]), bad[0] + ": " + e.getMessage());
        }
        // every key at a good value opens
        open("nagle=true", "delayedAck=true", "sndbuf=262144", "rcvbuf=262144", "keepAliveMs=30000").close();
    }

    // and the endpoint's own close
    @Test
    void closingTheEndpointEndsItsConnectionsAndRefusesFurtherUse() throws Exception {
        final KernelTcpPeer peer = peer();
        final int port = freshPort();
        final Future<SocketChannel> accepted = peer.accept(peer.listen(port));
        final TcpEndpoint ep = open();
        final TcpConnection c = connect(ep, port);
        final Future<long[]> kernelGot = peer.drain(accepted.get(5, TimeUnit.SECONDS), -1);
        final byte[] last = ascii("queued at close");
        onDut(() -> {
            assertEquals(TcpConnection.OK, c.send(new UnsafeBuffer(last), 0, last.length));
            ep.close();
            ep.close(); // idempotent
        });
        assertTrue(ep.isClosed());
        assertEquals(TcpState.CLOSED, c.state());
        assertEquals("endpoint closed", c.closeReason());
        assertEquals(TcpConnection.CLOSED, c.poll(IGNORE, 1));
        final long[] got = kernelGot.get(5, TimeUnit.SECONDS);
        assertEquals(last.length, got[0], "the endpoint's close flushed the queue once");
        assertEquals(1, got[2]);
        assertThrows(BypassException.class, () -> ep.poll(1));
        assertThrows(BypassException.class, () -> ep.connect(site().peerAddress(), port));
        assertThrows(BypassException.class, () -> ep.listen(port));
    }

}
