package io.bypass.bench.net;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What every Java worker JVM of the network scenarios shares ({@link JavaWorker}, {@link TcpWorker}):
 * {@code key=value} arguments, a stop on SIGTERM that lets loops end and ports close properly, the
 * polling thread's allocated bytes, and the round-trip samples file the harness reads.
 */
final class WorkerSupport {
    /**
     * Set by SIGTERM (the harness stopping a peer): loops end and the port is closed properly, so a
     * backend whose XDP program outlives its process (DPDK's af_xdp PMD) leaves nothing attached.
     */
    static volatile boolean stopping;
    private static volatile boolean finished;
    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** A worker's body. */
    interface Body {
        /** Runs the worker to its end. */
        void run() throws Exception;
    }

    private WorkerSupport() {
    }

    /**
     * @param argv {@code key=value} arguments
     * @return them as a map
     */
    static Map<String, String> parseArgs(final String[] argv) {
        final Map<String, String> args = new HashMap<>();
        for (final String a : argv) {
            final int eq = a.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("argument '" + a + "' is not key=value");
            }
            args.put(a.substring(0, eq), a.substring(eq + 1));
        }
        return args;
    }

    /**
     * @param def the value when absent, or null if the argument is required
     * @return the argument's value
     */
    static String arg(final Map<String, String> args, final String key, final String def) {
        final String v = args.get(key);
        if (v == null) {
            if (def == null) {
                throw new IllegalArgumentException("missing argument " + key + "=...");
            }
            return def;
        }
        return v;
    }

    /**
     * Runs {@code body} on this (main) thread with a shutdown hook that sets {@link #stopping} and
     * waits for the body to end, then exits: backends' helper threads must not keep the worker alive.
     */
    static void runUntilStopped(final String hookName, final Body body) throws Exception {
        final Thread main = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopping = true;
            if (!finished) {
                try {
                    main.join(10_000);
                } catch (final InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }, hookName));
        body.run();
        finished = true;
        if (!stopping) {
            System.exit(0);
        }
    }

    /** @return bytes the calling thread has allocated so far */
    static long allocated() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }

    /** Writes {@code count} round-trip samples, little-endian longs, to {@code path} (nothing if null or empty). */
    static void writeSamples(final String path, final long[] samples, final int count) throws IOException {
        if (path == null || path.isEmpty()) {
            return;
        }
        final ByteBuffer bb = ByteBuffer.allocate(count * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            bb.putLong(samples[i]);
        }
        bb.flip();
        try (FileChannel ch = FileChannel.open(Path.of(path), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
            while (bb.hasRemaining()) {
                ch.write(bb);
            }
        }
    }

    /** Prints the worker's {@code RESULT {json}} line, the fields the C baselines print. */
    static void result(final String m, final long packets, final long windowNs, final String extraName, final long extra,
                       final long allocBytes) {
        result(m, packets, windowNs, extraName, extra, allocBytes, 0);
    }

    /** As above, with the number of round-trip samples written. */
    static void result(final String m, final long packets, final long windowNs, final String extraName, final long extra,
                       final long allocBytes, final long samples) {
        final double secs = windowNs / 1e9;
        System.out.println(String.format(Locale.ROOT,
            "RESULT {\"mode\":\"%s\",\"packets\":%d,\"seconds\":%.6f,\"pps\":%.1f,\"%s\":%d,\"samples\":%d,\"alloc_bytes\":%d}",
            m, packets, secs, secs > 0 ? packets / secs : 0.0, extraName, extra, samples, allocBytes));
        System.out.flush();
    }
}
