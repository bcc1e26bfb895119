package io.bypass.conformance;

import io.bypass.tcp.TcpClaim;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.tcp.TcpHandler;
import io.bypass.tcp.TcpState;
import org.agrona.DirectBuffer;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The byte streams the TCP suite sends, and the loop that moves them through a connection under
 * test. A stream is a fixed random pattern repeated with a prime period ({@value #PERIOD} bytes),
 * so no buffer size lines up with it, and each side keeps the CRC32 and length of what it sent or
 * received: equal CRCs and lengths at both ends mean the stream arrived byte-exact.
 */
public final class TcpStreams {
    /** Period of the pattern: a prime a little under 1 MiB. */
    public static final int PERIOD = 1_048_573;
    /** Longest chunk copied out of the pattern at once. */
    public static final int MAX_CHUNK = 256 * 1024;
    private static final byte[] PATTERN = pattern();

    private TcpStreams() {
    }

    private static byte[] pattern() {
        final byte[] base = new byte[PERIOD];
        new Random(0x7C9L).nextBytes(base);
        final byte[] p = new byte[PERIOD + MAX_CHUNK];
        System.arraycopy(base, 0, p, 0, PERIOD);
        System.arraycopy(base, 0, p, PERIOD, MAX_CHUNK);
        return p;
    }

    /**
     * @param position where in the stream
     * @return the pattern array, to read {@code MAX_CHUNK} bytes from at {@link #offset(long)}
     */
    public static byte[] bytes(final long position) {
        return PATTERN;
    }

    /**
     * @param position where in the stream
     * @return where that position's byte is in {@link #bytes(long)}; the next {@value #MAX_CHUNK} follow it
     */
    public static int offset(final long position) {
        return (int) (position % PERIOD);
    }

    /**
     * @param length stream bytes
     * @return the CRC32 of the stream's first {@code length} bytes
     */
    public static long crcOf(final long length) {
        final CRC32 crc = new CRC32();
        for (long p = 0; p < length; ) {
            final int n = (int) Math.min(MAX_CHUNK, length - p);
            crc.update(PATTERN, offset(p), n);
            p += n;
        }
        return crc.getValue();
    }

    /** What one side moved: bytes and CRC32 each way. */
    public static final class Tally implements TcpHandler {
        private final CRC32 in = new CRC32();
        private final byte[] scratch = new byte[MAX_CHUNK * 2];
        long bytesIn;
        long bytesOut;
        int backPressured;

        @Override
        public void onData(final DirectBuffer buffer, final int offset, final int length) {
            for (int done = 0; done < length; ) {
                final int n = Math.min(scratch.length, length - done);
                buffer.getBytes(offset + done, scratch, 0, n);
                in.update(scratch, 0, n);
                done += n;
            }
            bytesIn += length;
        }

        /** @return bytes received */
        public long bytesIn() {
            return bytesIn;
        }

        /** @return CRC32 of the bytes received */
        public long crcIn() {
            return in.getValue();
        }

        /** @return stream bytes sent (committed and flushed) */
        public long bytesOut() {
            return bytesOut;
        }

        /** @return flushes or claims answered BACK_PRESSURED */
        public int backPressured() {
            return backPressured;
        }
    }

    /**
     * Moves the streams through a connection from the DUT's side: sends the first {@code send} bytes
     * of the stream with {@code tryClaim}/{@code commit}/{@code flush} while it receives
     * {@code receive} bytes into the tally, driving the endpoint as it goes.
     *
     * @param endpoint the endpoint, polled every round
     * @param c        an ESTABLISHED connection
     * @param send     bytes to send
     * @param receive  bytes to receive
     * @param seconds  deadline
     * @return the tally
     */
    public static Tally pump(final TcpEndpoint endpoint, final TcpConnection c, final long send, final long receive,
                             final int seconds) {
        final Tally t = new Tally();
        final TcpClaim claim = new TcpClaim();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long committed = 0;
        final int chunk = Math.min(64 * 1024, c.maxClaimLength());
        long lastIn = -1;
        long lastOut = -1;
        long lastMove = System.nanoTime();
        while (t.bytesIn < receive || committed < send || c.queuedBytes() > 0) {
            if (System.nanoTime() > deadline) {
                fail("stream not done after " + seconds + " s: sent " + t.bytesOut + " of " + send + " (" + c.queuedBytes()
                    + " queued), received " + t.bytesIn + " of " + receive + "; " + c.state() + " " + c.closeReason() + "; " + c + "; "
                    + endpoint.counters().toString().replace('\n', ' '));
            }
            if (c.state() == TcpState.CLOSED) {
                fail("connection ended mid-stream: " + c.closeReason() + "; sent " + t.bytesOut + ", received " + t.bytesIn);
            }
            if (t.bytesIn != lastIn || committed - c.queuedBytes() != lastOut) {
                lastIn = t.bytesIn;
                lastOut = committed - c.queuedBytes();
                lastMove = System.nanoTime();
            } else if (System.nanoTime() - lastMove > 2_000_000_000L) {
                System.out.println("STALL " + (System.nanoTime() / 1_000_000) + " in=" + t.bytesIn + " out=" + t.bytesOut + " " + c);
                lastMove = System.nanoTime();
            }
            int work = endpoint.poll(16);
            final int polled = c.poll(t, 16);
            work += Math.max(0, polled);
            while (committed < send) {
                final int n = (int) Math.min(chunk, send - committed);
                final int status = c.tryClaim(n, claim);
                if (status != TcpConnection.OK) {
                    if (status != TcpConnection.BACK_PRESSURED) {
                        fail("tryClaim answered " + status + " in " + c.state());
                    }
                    t.backPressured++;
                    break;
                }
                claim.buffer().putBytes(claim.offset(), bytes(committed), offset(committed), n);
                claim.commit();
                committed += n;
                work++;
            }
            if (c.queuedBytes() > 0) {
                final int sent = c.flush();
                if (sent > 0) {
                    t.bytesOut += sent;
                    work++;
                } else if (sent == TcpConnection.BACK_PRESSURED) {
                    t.backPressured++;
                } else if (sent < 0) {
                    fail("flush answered " + sent + " in " + c.state() + " " + c.closeReason());
                }
            }
            if (work == 0) {
                Thread.onSpinWait();
                Thread.yield();
            }
        }
        return t;
    }

    /**
     * Waits for what the kernel peer is doing to finish while driving the endpoint and the
     * connection: a user-space TCP retransmits only while polled, so the last lost segments of a
     * stream whose bytes have all left reach the peer only if someone keeps polling.
     *
     * @param endpoint the endpoint
     * @param c        the connection
     * @param peerWork the kernel side's future
     * @param seconds  deadline
     * @param <T>      its result
     * @return its result
     * @throws Exception if it failed or did not finish in time
     */
    public static <T> T pollUntilDone(final TcpEndpoint endpoint, final TcpConnection c, final java.util.concurrent.Future<T> peerWork,
                                      final int seconds) throws Exception {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        final TcpHandler discard = (buffer, offset, length) -> {
        };
        while (!peerWork.isDone() && System.nanoTime() < deadline) {
            int work = endpoint.poll(16);
            work += Math.max(0, c.poll(discard, 16));
            if (c.queuedBytes() > 0) {
                work += Math.max(0, c.flush());
            }
            if (work == 0) {
                Thread.yield();
            }
        }
        return peerWork.get(1, TimeUnit.SECONDS);
    }

    /**
     * Polls until the connection is in {@code state} (or ended), driving the endpoint.
     *
     * @param endpoint the endpoint
     * @param c        the connection
     * @param state    the state awaited
     * @param millis   deadline
     * @param handler  receives any bytes meanwhile
     * @return the state reached
     */
    public static TcpState await(final TcpEndpoint endpoint, final TcpConnection c, final TcpState state, final long millis,
                                 final TcpHandler handler) {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (c.state() != state && System.nanoTime() < deadline) {
            final int work = endpoint.poll(16) + Math.max(0, c.poll(handler, 16));
            if (c.state() == TcpState.CLOSED) {
                break;
            }
            if (work == 0) {
                Thread.yield();
            }
        }
        return c.state();
    }
}
