package io.bypass.bench.net;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The byte stream of the tcp-bulk scenario and its check, the same as {@code native/bench/bench_tcp.c}:
 * stream byte {@code i} is {@code pattern[i % 65521]} (a prime period, so a segment delivered at the wrong
 * place never matches), the pattern an xorshift32 sequence from a fixed seed. The receiver compares every
 * byte with it and both sides sum a CRC32C of what they sent or received, so the harness can assert a
 * byte-exact transfer. Allocates nothing per call.
 */
public final class TcpStreamCheck {
    /** Period of the pattern, bytes. */
    public static final int PERIOD = 65521;
    /** Most bytes compared or copied at once. */
    public static final int CHUNK = 65536;
    private static final byte[] PATTERN = pattern();

    private final byte[] scratch = new byte[CHUNK];
    private final CRC32C crc = new CRC32C();
    private long bytes;
    private long mismatches;
    private long firstMismatch = -1;

    /** A check at stream offset 0. */
    public TcpStreamCheck() {
    }

    private static byte[] pattern() {
        final byte[] p = new byte[PERIOD + CHUNK];
        int x = 0x9E3779B9;
        for (int i = 0; i < PERIOD; i++) {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            p[i] = (byte) x;
        }
        // byte by byte: the source and target overlap (CHUNK > PERIOD), and System.arraycopy would copy the
        // tail's zeros, not the pattern repeated, so a claim starting near the period's end wrote other bytes
        for (int i = PERIOD; i < p.length; i++) {
            p[i] = p[i - PERIOD];
        }
        return p;
    }

    /**
     * Checks received bytes: the next {@code length} bytes of the stream.
     *
     * @param buffer where they are
     * @param offset first byte
     * @param length how many
     */
    public void received(final DirectBuffer buffer, final int offset, final int length) {
        int done = 0;
        while (done < length) {
            final int n = Math.min(CHUNK, length - done);
            buffer.getBytes(offset + done, scratch, 0, n);
            final int at = (int) (bytes % PERIOD);
            if (Arrays.mismatch(scratch, 0, n, PATTERN, at, at + n) >= 0) {
                for (int i = 0; i < n; i++) {
                    if (scratch[i] != PATTERN[at + i]) {
                        if (firstMismatch < 0) {
                            firstMismatch = bytes + i;
                        }
                        mismatches++;
                    }
                }
            }
            crc.update(scratch, 0, n);
            bytes += n;
            done += n;
        }
    }

    /**
     * Writes the next {@code length} bytes of the stream (at most {@link #CHUNK}) and counts them as sent.
     *
     * @param buffer where to write
     * @param offset first byte
     * @param length how many, at most {@link #CHUNK}
     */
    public void fill(final MutableDirectBuffer buffer, final int offset, final int length) {
        final int at = (int) (bytes % PERIOD);
        buffer.putBytes(offset, PATTERN, at, length);
        crc.update(PATTERN, at, length);
        bytes += length;
    }

    /** @return bytes checked or written so far */
    public long bytes() {
        return bytes;
    }

    /** @return received bytes that differed from the pattern */
    public long mismatches() {
        return mismatches;
    }

    /** @return stream offset of the first byte that differed from the pattern, -1 if none */
    public long firstMismatch() {
        return firstMismatch;
    }

    /** @return CRC32C of the stream so far (as java.util.zip.CRC32C and bench_tcp.c give it) */
    public long crc() {
        return crc.getValue();
    }
}
