package io.bypass.conformance;

import io.bypass.tcp.TcpClaim;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The TCP suite's drill for a peer that stops reading: fill everything, then check nothing moves. */
final class BackPressure {
    private BackPressure() {
    }

    /**
     * Commits the stream and flushes until nothing has moved for half a second: claims refused
     * BACK_PRESSURED with the queue full, flushes answering BACK_PRESSURED (the kernel's buffers
     * grow for a while before they are full, so one refusal is not yet the end).
     *
     * @param ep    the endpoint
     * @param c     the connection, whose peer does not read
     * @param limit most bytes to try before failing
     * @return bytes committed
     */
    static long fill(final TcpEndpoint ep, final TcpConnection c, final long limit) {
        final TcpClaim claim = new TcpClaim();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        final long quiet = TimeUnit.MILLISECONDS.toNanos(500);
        long committed = 0;
        long lastMoved = System.nanoTime();
        while (System.nanoTime() < deadline) {
            final int n = 16 * 1024;
            final int status = c.tryClaim(n, claim);
            if (status == TcpConnection.OK) {
                claim.buffer().putBytes(claim.offset(), TcpStreams.bytes(committed), TcpStreams.offset(committed), n);
                claim.commit();
                committed += n;
                lastMoved = System.nanoTime();
                if (committed > limit) {
                    fail(limit + " bytes accepted with the peer not reading: no back-pressure");
                }
            } else {
                assertEquals(TcpConnection.BACK_PRESSURED, status, "a full queue refuses a claim as BACK_PRESSURED");
            }
            final int flushed = c.flush();
            if (flushed > 0) {
                lastMoved = System.nanoTime();
            } else {
                assertTrue(flushed == TcpConnection.BACK_PRESSURED || flushed == 0, "flush answered " + flushed);
                if (status != TcpConnection.OK && System.nanoTime() - lastMoved > quiet) {
                    return committed;
                }
                Thread.yield();
            }
            ep.poll(16);
        }
        fail("no back-pressure in 60 s after " + committed + " bytes");
        return committed;
    }

    /**
     * For {@code millis}, flushes keep answering BACK_PRESSURED and the queue keeps every byte.
     *
     * @param ep     the endpoint
     * @param c      the connection
     * @param millis how long
     */
    static void assertStalled(final TcpEndpoint ep, final TcpConnection c, final long millis) {
        final int queued = c.queuedBytes();
        assertTrue(queued > 0, "bytes are queued");
        final long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < end) {
            assertEquals(TcpConnection.BACK_PRESSURED, c.flush(), "the peer still reads nothing");
            ep.poll(16);
            Thread.yield();
        }
        assertEquals(queued, c.queuedBytes(), "nothing dropped from the queue");
    }
}
