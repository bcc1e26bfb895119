package io.bypass.nio;

import io.bypass.Bypass;
import io.bypass.net.Ipv4;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.tcp.TcpState;
import io.bypass.testing.Requirements;
import io.bypass.testkit.Netns;
import io.bypass.testkit.TestPorts;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Half-close against the kernel's TCP when the peer's FIN comes while our queue still holds bytes the
 * kernel has not taken: shutdownOutput() with bytes queued toward a peer that has already sent its FIN
 * and reads only later. Every byte must reach the peer before our FIN; the connection ends "closed".
 * (Found by TcpSamplesTest's tcpcat, where about 1 run in 4 lost the last ~170 KB: the peer's FIN
 * released the connection before its queue was flushed.)
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NioTcpHalfCloseTest {
    private static final int BYTES = 8 << 20;

    @Test
    void bytesQueuedAtShutdownOutputAllReachAPeerWhoseFinCameFirst() throws Exception {
        Requirements.requireNetns();
        final int port = TestPorts.random();
        try (Netns ns = Netns.createLoopback()) {
            ns.executor().run(() -> {
                try (ServerSocket server = new ServerSocket();
                     TcpEndpoint ep = Bypass.openTcp("nio:lo?sndbuf=65536")) {
                    // small kernel buffers both ends, so most of what we send waits in our own queue
                    server.setReceiveBufferSize(65536);
                    server.bind(new java.net.InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 1);
                    final CompletableFuture<Long> peerGot = CompletableFuture.supplyAsync(() -> {
                        try (Socket s = server.accept()) {
                            s.shutdownOutput(); // the peer's FIN first
                            Thread.sleep(500); // and it reads only later, so our bytes wait in our queue
                            long n = 0;
                            final byte[] b = new byte[1 << 16];
                            final InputStream in = s.getInputStream();
                            for (int r; (r = in.read(b)) >= 0; ) {
                                n += r;
                            }
                            return n;
                        } catch (final Exception e) {
                            throw new IllegalStateException(e);
                        }
                    });
                    final TcpConnection c = ep.connect(Ipv4.parse("127.0.0.1"), port);
                    final long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                    while (c.state() != TcpState.ESTABLISHED && System.nanoTime() < until) {
                        ep.poll(16);
                    }
                    // as much as the kernel and our queue take, without reading (so the peer's FIN stays unseen)
                    final UnsafeBuffer chunk = new UnsafeBuffer(new byte[1 << 16]);
                    long sent = 0;
                    while (sent < BYTES && c.send(chunk, 0, chunk.capacity()) == TcpConnection.OK) {
                        sent += chunk.capacity();
                    }
                    assertTrue(c.queuedBytes() > 65536, "bytes still queued at shutdownOutput: " + c.queuedBytes());
                    assertEquals(TcpConnection.OK, c.shutdownOutput());
                    while (c.state() != TcpState.CLOSED && System.nanoTime() < until) {
                        ep.poll(16);
                        c.poll((b, o, l) -> { }, 16);
                    }
                    assertEquals(sent, peerGot.get(20, TimeUnit.SECONDS), "bytes the peer read");
                    assertEquals(TcpState.CLOSED, c.state());
                    assertEquals("closed", c.closeReason());
                }
            });
        }
    }
}
