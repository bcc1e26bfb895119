package io.bypass.conformance;

import io.bypass.tcp.TcpClaim;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.tcp.TcpHandler;
import io.bypass.tcp.TcpListener;
import io.bypass.tcp.TcpState;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/** The TCP suite's drills for many short connections and for echoing on an accepted one. */
final class ShortConnections {
    /** Bytes each short connection sends and gets back. */
    static final int MESSAGE = 100;

    private ShortConnections() {
    }

    /**
     * Connection after connection: connect, send {@value #MESSAGE} bytes, receive them echoed, close, await CLOSED.
     *
     * @param ep          the endpoint
     * @param address     the echo server's address
     * @param port        its port
     * @param connections how many
     */
    static void run(final TcpEndpoint ep, final int address, final int port, final int connections) {
        final UnsafeBuffer message = new UnsafeBuffer(new byte[MESSAGE]);
        final byte[] got = new byte[MESSAGE];
        final int[] received = new int[1];
        final TcpHandler collect = (b, o, l) -> {
            b.getBytes(o, got, received[0], Math.min(l, MESSAGE - received[0]));
            received[0] += l;
        };
        for (int i = 0; i < connections; i++) {
            for (int k = 0; k < MESSAGE; k++) {
                message.putByte(k, (byte) (i + k));
            }
            final TcpConnection c = ep.connect(address, port);
            if (TcpStreams.await(ep, c, TcpState.ESTABLISHED, 5_000, collect) != TcpState.ESTABLISHED) {
                fail("connection " + i + " not established: " + c.state() + " " + c.closeReason());
            }
            assertEquals(TcpConnection.OK, c.send(message, 0, MESSAGE), "connection " + i);
            assertEquals(MESSAGE, c.flush(), "connection " + i);
            received[0] = 0;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (received[0] < MESSAGE && System.nanoTime() < deadline) {
                c.poll(collect, 16);
            }
            assertEquals(MESSAGE, received[0], "connection " + i + " echo");
            for (int k = 0; k < MESSAGE; k++) {
                assertEquals((byte) (i + k), got[k], "connection " + i + " byte " + k);
            }
            c.close();
            if (TcpStreams.await(ep, c, TcpState.CLOSED, 5_000, collect) != TcpState.CLOSED) {
                fail("connection " + i + " not closed: " + c.state());
            }
            assertEquals("closed", c.closeReason(), "connection " + i);
        }
    }

    /**
     * Polls the endpoint until the listener has a connection.
     *
     * @param ep       the endpoint
     * @param listener the listener
     * @param millis   deadline
     * @return the connection
     */
    static TcpConnection accept(final TcpEndpoint ep, final TcpListener listener, final long millis) {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        TcpConnection c = listener.accept();
        while (c == null && System.nanoTime() < deadline) {
            ep.poll(16);
            Thread.yield();
            c = listener.accept();
        }
        assertNotNull(c, "nothing accepted in " + millis + " ms");
        return c;
    }

    /**
     * Echoes {@code n} bytes back through tryClaim / commit / flush.
     *
     * @param ep the endpoint
     * @param c  the connection
     * @param n  bytes to echo
     */
    static void echo(final TcpEndpoint ep, final TcpConnection c, final int n) {
        final TcpClaim claim = new TcpClaim();
        final int[] echoed = new int[1];
        final TcpHandler back = (DirectBuffer b, int o, int l) -> {
            assertEquals(TcpConnection.OK, c.tryClaim(l, claim));
            claim.buffer().putBytes(claim.offset(), b, o, l);
            claim.commit();
            echoed[0] += l;
        };
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (echoed[0] < n && System.nanoTime() < deadline) {
            ep.poll(16);
            c.poll(back, 16);
        }
        assertEquals(n, echoed[0]);
        TcpSiteSuite.flushAll(ep, c);
    }
}
