package io.bypass.samples.tcpcat;

import java.io.IOException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * The two threads beside tcpcat's polling loop: one reads the input into chunks, one writes the
 * peer's chunks to the output. Both block in ordinary reads and writes, which is why they are not
 * the polling thread: stdin may be a terminal or a pipe (neither can be made non-blocking from Java:
 * {@code FileChannel} is not selectable), and a slow reader of stdout must not stop the TCP stack.
 */
final class StdioThreads {
    private StdioThreads() {
    }

    /**
     * Starts the reader: fills free chunks from {@code in} until end of file, then ends the pipe.
     *
     * @param in   the input
     * @param pipe where the chunks go
     * @return the started daemon thread
     */
    static Thread startReader(final ReadableByteChannel in, final ChunkPipe pipe) {
        final Thread t = new Thread(() -> {
            try {
                while (true) {
                    final ChunkPipe.Chunk c = pipe.awaitFree(() -> Thread.currentThread().isInterrupted());
                    if (c == null) {
                        pipe.fail("input reader stopped");
                        return;
                    }
                    c.bytes.clear();
                    final int n = in.read(c.bytes);
                    if (n < 0) {
                        pipe.recycle(c);
                        pipe.end();
                        return;
                    }
                    c.length = n;
                    if (n == 0) {
                        pipe.recycle(c);
                    } else {
                        pipe.put(c);
                    }
                }
            } catch (final IOException e) {
                pipe.fail("reading the input: " + e);
            }
        }, "tcpcat-in");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * Starts the writer: writes every chunk to {@code out} in order until the pipe is drained, then
     * closes {@code out} if asked (stdout closed on the peer's FIN) or flushes it.
     *
     * @param out      the output
     * @param pipe     where the chunks come from
     * @param closeOut close {@code out} at the end
     * @param failed   set to the reason if a write fails (the rest is then discarded)
     * @return the started daemon thread
     */
    static Thread startWriter(final WritableByteChannel out, final ChunkPipe pipe, final boolean closeOut,
        final java.util.concurrent.atomic.AtomicReference<String> failed) {
        final Thread t = new Thread(() -> {
            boolean ok = true;
            while (true) {
                final ChunkPipe.Chunk c = pipe.take();
                if (c == null) {
                    if (pipe.isDrained()) {
                        break;
                    }
                    java.util.concurrent.locks.LockSupport.parkNanos(20_000);
                    continue;
                }
                if (ok) {
                    try {
                        c.bytes.clear().limit(c.length);
                        while (c.bytes.hasRemaining()) {
                            out.write(c.bytes);
                        }
                    } catch (final IOException e) {
                        failed.compareAndSet(null, "writing the output: " + e);
                        ok = false;
                    }
                }
                pipe.recycle(c);
            }
            try {
                if (closeOut) {
                    out.close();
                }
            } catch (final IOException e) {
                failed.compareAndSet(null, "closing the output: " + e);
            }
        }, "tcpcat-out");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
