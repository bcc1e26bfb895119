package io.bypass.spi;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A kernel statistics file ({@code /proc/net/udp}, {@code /sys/class/net/IFACE/statistics/*})
 * read again and again without allocating: the file stays open, each {@link #read()} fills one
 * reused direct buffer from offset 0, and the numbers are parsed in place.
 *
 * <p>Backends read such files when their counters refresh, on the {@code bypass-counters}
 * thread, once a second. JMH's {@code gc.alloc.rate.norm} counts every thread, so text read
 * through {@code String}s there showed as bytes per operation on the hot path
 * ({@code bypass stat}, issue 15). Not thread-safe: one reader at a time.
 *
 * <pre>{@code
 * StatisticsFile f = StatisticsFile.open(Path.of("/sys/class/net/eth0/statistics/rx_missed_errors"));
 * long missed = f.read() > 0 ? StatisticsFile.parseDecimal(f.bytes(), 0, f.bytes().limit()) : 0;
 * }</pre>
 */
public final class StatisticsFile implements AutoCloseable {
    private static final int INITIAL_CAPACITY = 4096;
    private static final int MAX_CAPACITY = 64 << 20;

    private final FileChannel channel;
    private ByteBuffer buffer = ByteBuffer.allocateDirect(INITIAL_CAPACITY);

    private StatisticsFile(final FileChannel channel) {
        this.channel = channel;
    }

    /**
     * Opens a statistics file. A procfs file opened here shows the opening thread's network
     * namespace (for {@code /proc/thread-self/net/...}) whichever thread reads it later.
     *
     * @param path the file
     * @return the open file
     * @throws IOException if it cannot be opened
     */
    public static StatisticsFile open(final Path path) throws IOException {
        return new StatisticsFile(FileChannel.open(path, StandardOpenOption.READ));
    }

    /**
     * Opens the first of several files that exists.
     *
     * @param paths candidates, in order
     * @return the open file, or null if none could be opened
     */
    public static StatisticsFile openFirst(final Path... paths) {
        for (final Path p : paths) {
            try {
                return open(p);
            } catch (final IOException | UnsupportedOperationException e) {
                // older kernel or no procfs: try the next
            }
        }
        return null;
    }

    /**
     * Reads the whole file again. The buffer grows (doubling, up to 64 MiB) only when the file
     * has outgrown it, which for a socket table means the host gained sockets.
     *
     * @return bytes read, now {@link #bytes()}' limit; -1 if the read failed
     */
    public int read() {
        try {
            while (true) {
                buffer.clear();
                long position = 0;
                int n;
                while (buffer.hasRemaining() && (n = channel.read(buffer, position)) > 0) {
                    position += n;
                }
                if (buffer.hasRemaining() || buffer.capacity() >= MAX_CAPACITY) {
                    buffer.flip();
                    return buffer.limit();
                }
                buffer = ByteBuffer.allocateDirect(buffer.capacity() * 2); // outgrown: read it all again
            }
        } catch (final IOException e) {
            buffer.clear().limit(0);
            return -1;
        }
    }

    /**
     * The bytes of the last {@link #read()}, from 0 to the limit. Valid until the next read.
     *
     * @return the reused buffer
     */
    public ByteBuffer bytes() {
        return buffer;
    }

    /**
     * Parses an unsigned decimal number at the start of {@code [from, to)}, after any spaces.
     *
     * @param b    the bytes
     * @param from first index
     * @param to   index after the last
     * @return the number, or -1 if there are no digits there or it overflows
     */
    public static long parseDecimal(final ByteBuffer b, final int from, final int to) {
        int i = from;
        while (i < to && (b.get(i) == ' ' || b.get(i) == '\t')) {
            i++;
        }
        final int start = i;
        long value = 0;
        for (; i < to; i++) {
            final int d = b.get(i) - '0';
            if (d < 0 || d > 9) {
                break;
            }
            if (value > (Long.MAX_VALUE - d) / 10) {
                return -1;
            }
            value = value * 10 + d;
        }
        return i == start ? -1 : value;
    }

    /** Closes the file. */
    @Override
    public void close() {
        try {
            channel.close();
        } catch (final IOException ignored) {
            // a read-only kernel file: nothing to flush
        }
    }
}
