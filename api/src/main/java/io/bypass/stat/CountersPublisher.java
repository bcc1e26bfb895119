package io.bypass.stat;

import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.PortUri;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static io.bypass.stat.CountersDescriptor.COMMAND_LENGTH_OFFSET;
import static io.bypass.stat.CountersDescriptor.DEFAULT_FILE_LENGTH;
import static io.bypass.stat.CountersDescriptor.DIR_ENV;
import static io.bypass.stat.CountersDescriptor.DIR_PROPERTY;
import static io.bypass.stat.CountersDescriptor.FILE_LENGTH_OFFSET;
import static io.bypass.stat.CountersDescriptor.HEADER_LENGTH;
import static io.bypass.stat.CountersDescriptor.HEADER_LENGTH_OFFSET;
import static io.bypass.stat.CountersDescriptor.HEARTBEAT_OFFSET;
import static io.bypass.stat.CountersDescriptor.MAGIC;
import static io.bypass.stat.CountersDescriptor.MAGIC_OFFSET;
import static io.bypass.stat.CountersDescriptor.MAX_COMMAND_LENGTH;
import static io.bypass.stat.CountersDescriptor.MAX_LABEL_LENGTH;
import static io.bypass.stat.CountersDescriptor.MAX_NAME_LENGTH;
import static io.bypass.stat.CountersDescriptor.PID_OFFSET;
import static io.bypass.stat.CountersDescriptor.RECORD_ACTIVE;
import static io.bypass.stat.CountersDescriptor.RECORD_CLOSED;
import static io.bypass.stat.CountersDescriptor.RECORD_COUNT_OFFSET;
import static io.bypass.stat.CountersDescriptor.RECORD_HEADER_LENGTH;
import static io.bypass.stat.CountersDescriptor.RECORD_LABEL_LENGTH_OFFSET;
import static io.bypass.stat.CountersDescriptor.RECORD_LENGTH_OFFSET;
import static io.bypass.stat.CountersDescriptor.RECORD_SLOTS_OFFSET;
import static io.bypass.stat.CountersDescriptor.RECORD_STATE_OFFSET;
import static io.bypass.stat.CountersDescriptor.SLOT_LENGTH;
import static io.bypass.stat.CountersDescriptor.SLOT_NAME_LENGTH_OFFSET;
import static io.bypass.stat.CountersDescriptor.SLOT_VALUE_OFFSET;
import static io.bypass.stat.CountersDescriptor.START_MILLIS_OFFSET;
import static io.bypass.stat.CountersDescriptor.VERSION;
import static io.bypass.stat.CountersDescriptor.VERSION_OFFSET;
import static io.bypass.stat.CountersDescriptor.directory;
import static io.bypass.stat.CountersDescriptor.recordLength;
import static io.bypass.stat.CountersDescriptor.fileName;

/**
 * Publishes this process's counters in its counters file (layout: {@link CountersDescriptor}),
 * so {@code bypass stat} in another process can read them while the application runs.
 *
 * <p>Every port and endpoint {@link io.bypass.Bypass} opens is published by itself; an
 * application adds its own counters with {@link #register}. One daemon thread,
 * {@code bypass-counters}, samples every source each {@value #DEFAULT_PERIOD_MS} ms
 * (system property {@code bypass.counters.periodMs}): it copies each value into the file with a
 * release store and stores the heartbeat; every {@value #DEFAULT_REFRESH_MS} ms
 * ({@code bypass.counters.refreshMs}) it first refreshes the kernel and NIC statistics
 * ({@link Counters#refresh()}): those are syscalls, and a second is fresh enough for them; the last sample, at
 * close, always refreshes. The hot path is untouched: it writes its {@link Counters.Writer}s as
 * before, and only this thread reads them, so a published value is at most one period old.
 *
 * <p>The file is created on the first registration, in {@link CountersDescriptor#directory()},
 * and deleted when the JVM exits normally; a file left by a crash is reported stale by
 * {@code bypass stat} and removed by {@code bypass stat --clean}. Publishing is turned off with
 * {@code -Dbypass.counters.publish=false}; a failure to create the file is logged once and
 * never fails an open.
 *
 * <pre>{@code
 * CountersPublisher.Registration r = CountersPublisher.register(
 *     Map.of("type", "app", "name", "feed"), List.of("messages", "gaps"),
 *     values -> { values[0] = handler.messages(); values[1] = handler.gaps(); return true; });
 * }</pre>
 */
public final class CountersPublisher {
    /**
     * Default sampling period, ms. A second, as AeronStat's refresh: each sample wakes this thread on a CPU
     * the application shares (with {@code --isolate}, every CPU but the polling thread's), and until the JIT
     * has compiled it a sample costs about 100 us there. At 100 ms the samples took about 0.1% of that CPU and
     * lengthened a sockperf client's p99.9 beside {@code bypass pingpong server} by 10-20% (docs/benchmarks.md).
     */
    public static final long DEFAULT_PERIOD_MS = 1000;
    /** The longest sampling period {@code bypass.counters.periodMs} accepts, ms: readers may rely on a sample this often. */
    public static final long MAX_PERIOD_MS = 1000;
    /** Default period of the kernel and NIC statistics' refresh, ms. */
    public static final long DEFAULT_REFRESH_MS = 1000;
    /** System property: {@code false} turns publishing off. */
    public static final String PUBLISH_PROPERTY = "bypass.counters.publish";

    private static final System.Logger LOG = System.getLogger("io.bypass");
    private static final Counter[] ALL = Counter.values();
    private static final Registration NONE = new Registration(null);

    private static final Object LOCK = new Object();
    private static boolean initialised;
    private static UnsafeBuffer file;
    private static Path path;
    private static int nextOffset = HEADER_LENGTH;
    private static int recordCount;
    private static boolean fullLogged;
    private static volatile Entry[] entries = new Entry[0];
    /** Whether this sample refreshes the kernel's and NIC's statistics; under LOCK. */
    private static boolean refreshing = true;
    private static long refreshEveryTicks = 1;
    private static long ticks;

    /**
     * Where a record's values come from; called on the publisher thread only.
     */
    @FunctionalInterface
    public interface Source {
        /**
         * Copies the current values in.
         *
         * @param values one per counter name, in the order registered; keep the last value if unchanged
         * @return false once the source is closed: its record keeps the last values and is marked closed
         */
        boolean sample(long[] values);
    }

    private CountersPublisher() {
    }

    /**
     * Publishes a set of counters under a label.
     *
     * @param label  key=value pairs naming what is counted (type, backend, iface, queue, endpoint, name); a newline
     *               becomes a space, and '=' in a key a ':'
     * @param names  the counters' names, such as {@code messages}, at most {@value CountersDescriptor#MAX_NAME_LENGTH} bytes
     * @param source reads the values, on the publisher thread
     * @return the registration, whose {@link Registration#close()} marks the record closed; a no-op one when
     *         publishing is off or the file is full
     */
    public static Registration register(final Map<String, String> label, final List<String> names, final Source source) {
        synchronized (LOCK) {
            if (!initialised) {
                initialised = true;
                open();
            }
            if (file == null) {
                return NONE;
            }
            final int length = recordLength(names.size());
            if (nextOffset + length > file.capacity()) {
                if (!fullLogged) {
                    fullLogged = true;
                    LOG.log(System.Logger.Level.WARNING, "counters file " + path + " is full: " + recordCount
                        + " records; later ports and endpoints are not published");
                }
                return NONE;
            }
            final int offset = nextOffset;
            writeRecord(offset, label, names);
            nextOffset += length;
            recordCount++;
            final Entry e = new Entry(offset, names.size(), source);
            final Entry[] old = entries;
            final Entry[] grown = Arrays.copyOf(old, old.length + 1);
            grown[old.length] = e;
            entries = grown;
            file.putIntRelease(RECORD_COUNT_OFFSET, recordCount);
            sample(e, System.currentTimeMillis());
            return new Registration(e);
        }
    }

    /**
     * Publishes a port's or endpoint's counters, every {@link Counter} under its lower-case name,
     * refreshed from the kernel or NIC each period. {@link io.bypass.Bypass} calls this for
     * everything it opens.
     *
     * @param type     {@code port}, {@code udp} or {@code tcp}
     * @param backend  the backend's name
     * @param uri      the URI it was opened with
     * @param counters its counters
     * @param closed   true once it is closed (then its record is marked closed)
     * @return the registration
     */
    public static Registration publish(final String type, final String backend, final PortUri uri, final Counters counters,
                                       final BooleanSupplier closed) {
        final Map<String, String> label = new LinkedHashMap<>();
        label.put("type", type);
        label.put("backend", backend);
        label.put("iface", uri.target());
        String queue = uri.get("queue");
        if (queue == null) {
            queue = uri.get("nicQueue", "all");
        }
        label.put("queue", queue);
        label.put("endpoint", uri.text());
        final List<String> names = new ArrayList<>(ALL.length);
        for (final Counter c : ALL) {
            names.add(c.name().toLowerCase(Locale.ROOT));
        }
        return register(label, names, values -> {
            if (closed.getAsBoolean()) {
                return false;
            }
            if (refreshing) {
                counters.refresh();
            }
            for (int i = 0; i < ALL.length; i++) {
                values[i] = counters.get(ALL[i]);
            }
            return true;
        });
    }

    /**
     * Samples every source and stores the heartbeat now, on the caller's thread, rather than
     * at the next period: for an application that wants its final values published before it exits.
     */
    public static void publishNow() {
        synchronized (LOCK) {
            tick(true); // final values: the kernel's and NIC's statistics too
        }
    }

    /**
     * @return this process's counters file, or null if none was created (nothing registered yet, publishing off,
     *         or the file could not be created)
     */
    public static Path file() {
        synchronized (LOCK) {
            return path;
        }
    }

    private static void open() {
        if ("false".equalsIgnoreCase(System.getProperty(PUBLISH_PROPERTY))) {
            return;
        }
        final ProcessHandle self = ProcessHandle.current();
        final long pid = self.pid();
        final long start = self.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(System.currentTimeMillis());
        final Path dir = directory();
        final Path p = dir.resolve(fileName(pid, start));
        try {
            Files.createDirectories(dir);
            // A file of this name belongs to this very process (same pid, same start): nothing to keep.
            Files.deleteIfExists(p);
            final MappedByteBuffer mapped;
            try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
                raf.setLength(DEFAULT_FILE_LENGTH);
                mapped = raf.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, DEFAULT_FILE_LENGTH);
            }
            final UnsafeBuffer b = new UnsafeBuffer(mapped);
            b.putInt(VERSION_OFFSET, VERSION);
            b.putInt(HEADER_LENGTH_OFFSET, HEADER_LENGTH);
            b.putLong(PID_OFFSET, pid);
            b.putLong(START_MILLIS_OFFSET, start);
            b.putLong(HEARTBEAT_OFFSET, System.currentTimeMillis());
            b.putInt(FILE_LENGTH_OFFSET, DEFAULT_FILE_LENGTH);
            final byte[] cmd = truncate(commandLine(self).getBytes(StandardCharsets.UTF_8), MAX_COMMAND_LENGTH);
            b.putInt(COMMAND_LENGTH_OFFSET, cmd.length);
            b.putBytes(COMMAND_LENGTH_OFFSET + 4, cmd);
            // Magic last: a reader that sees it sees the whole header.
            b.putLongRelease(MAGIC_OFFSET, MAGIC);
            file = b;
            path = p;
        } catch (final IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "counters are not published for bypass stat: cannot create " + p + ": " + e
                + " (set -D" + DIR_PROPERTY + " or " + DIR_ENV + " to a writable directory, or -D" + PUBLISH_PROPERTY + "=false)");
            return;
        }
        final long period = Math.max(10, Math.min(Long.getLong("bypass.counters.periodMs", DEFAULT_PERIOD_MS), MAX_PERIOD_MS));
        final long refreshMs = Math.max(period, Long.getLong("bypass.counters.refreshMs", DEFAULT_REFRESH_MS));
        refreshEveryTicks = Math.max(1, refreshMs / period);
        final Thread t = new Thread(() -> run(period), "bypass-counters");
        t.setDaemon(true);
        t.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Files.deleteIfExists(p);
            } catch (final IOException ignored) {
                // bypass stat --clean removes it
            }
        }, "bypass-counters-delete"));
    }

    private static String commandLine(final ProcessHandle self) {
        final String sun = System.getProperty("sun.java.command");
        if (sun != null && !sun.isBlank()) {
            return sun;
        }
        return self.info().commandLine().orElse("java");
    }

    private static byte[] truncate(final byte[] bytes, final int max) {
        return bytes.length <= max ? bytes : Arrays.copyOf(bytes, max);
    }

    private static void writeRecord(final int offset, final Map<String, String> label, final List<String> names) {
        final StringBuilder sb = new StringBuilder();
        for (final Map.Entry<String, String> e : label.entrySet()) {
            sb.append(clean(e.getKey()).replace('=', ':')).append('=').append(clean(e.getValue())).append('\n');
        }
        final byte[] l = truncate(sb.toString().getBytes(StandardCharsets.UTF_8), MAX_LABEL_LENGTH);
        file.putInt(offset + RECORD_SLOTS_OFFSET, names.size());
        file.putInt(offset + RECORD_LENGTH_OFFSET, recordLength(names.size()));
        file.putInt(offset + RECORD_LABEL_LENGTH_OFFSET, l.length);
        file.putBytes(offset + RECORD_LABEL_LENGTH_OFFSET + 4, l);
        for (int i = 0; i < names.size(); i++) {
            final int slot = offset + RECORD_HEADER_LENGTH + i * SLOT_LENGTH;
            final byte[] n = truncate(names.get(i).getBytes(StandardCharsets.US_ASCII), MAX_NAME_LENGTH);
            file.putLong(slot + SLOT_VALUE_OFFSET, 0);
            file.putInt(slot + SLOT_NAME_LENGTH_OFFSET, n.length);
            file.putBytes(slot + SLOT_NAME_LENGTH_OFFSET + 4, n);
        }
        file.putIntRelease(offset + RECORD_STATE_OFFSET, RECORD_ACTIVE);
    }

    private static String clean(final String s) {
        return s == null ? "" : s.replace('\n', ' ');
    }

    /**
     * Samples taken one after another when the publisher thread starts, before its first period: enough for the
     * JIT to compile the sampling path. Sampled once a second from the start, that path ran in the interpreter for
     * minutes, on a CPU the application's peers may share (docs/stat.md).
     */
    static final int WARM_UP_SAMPLES = 3000;
    /**
     * One warm-up sample in this many refreshes the kernel's and NIC's statistics too: enough for the JIT to
     * compile the refresh, without reading them thousands of times (nio parses {@code /proc/net/udp}, whose
     * length grows with the host's sockets).
     */
    static final int WARM_UP_REFRESH_EVERY = 10;

    private static void run(final long periodMs) {
        warmUp();
        while (true) {
            try {
                Thread.sleep(periodMs);
            } catch (final InterruptedException e) {
                return;
            }
            synchronized (LOCK) {
                tick(false);
            }
        }
    }

    // Records registered meanwhile (a port's endpoint, the application's own) are sampled from the turn they appear.
    // The values written are current ones; the heartbeat is not, so a reader's first rate starts at the first tick.
    static void warmUp() {
        for (int i = 0; i < WARM_UP_SAMPLES; i++) {
            synchronized (LOCK) {
                if (file == null) {
                    return;
                }
                refreshing = i % WARM_UP_REFRESH_EVERY == 0;
                final long now = System.currentTimeMillis();
                for (final Entry e : entries) {
                    sample(e, now);
                }
                refreshing = true;
            }
        }
    }

    // Under LOCK. refresh: the kernel's and NIC's statistics too, whatever the refresh period says.
    private static void tick(final boolean refresh) {
        if (file == null) {
            return;
        }
        final long now = System.currentTimeMillis();
        refreshing = ticks++ % refreshEveryTicks == 0 || refresh;
        for (final Entry e : entries) {
            sample(e, now);
        }
        refreshing = true;
        file.putLongRelease(HEARTBEAT_OFFSET, now);
    }

    // Under LOCK.
    private static void sample(final Entry e, final long now) {
        if (e.closed) {
            return;
        }
        boolean open;
        try {
            open = !e.registrationClosed && e.source.sample(e.scratch);
        } catch (final RuntimeException ex) {
            LOG.log(System.Logger.Level.WARNING, "counters: a source failed and is no longer published: " + ex);
            open = false;
        }
        final long[] v = e.scratch;
        for (int i = 0; i < e.slots; i++) {
            file.putLongRelease(e.offset + RECORD_HEADER_LENGTH + i * SLOT_LENGTH + SLOT_VALUE_OFFSET, v[i]);
        }
        if (!open) {
            e.closed = true;
            file.putIntRelease(e.offset + RECORD_STATE_OFFSET, RECORD_CLOSED);
        }
    }

    private static final class Entry {
        final int offset;
        final int slots;
        final Source source;
        final long[] scratch;
        volatile boolean registrationClosed;
        boolean closed;

        Entry(final int offset, final int slots, final Source source) {
            this.offset = offset;
            this.slots = slots;
            this.source = source;
            this.scratch = new long[slots];
        }
    }

    /**
     * One published record. Closing it takes one last sample and marks the record closed;
     * the values stay readable until the process exits.
     */
    public static final class Registration implements AutoCloseable {
        private final Entry entry;

        private Registration(final Entry entry) {
            this.entry = entry;
        }

        /** @return true if the counters are in the file (false when publishing is off or the file was full) */
        public boolean isPublished() {
            return entry != null;
        }

        /** Takes a last sample and marks the record closed. Idempotent. */
        @Override
        public void close() {
            if (entry == null) {
                return;
            }
            synchronized (LOCK) {
                if (!entry.closed && file != null) {
                    sample(entry, System.currentTimeMillis());
                    entry.registrationClosed = true;
                    sample(entry, System.currentTimeMillis());
                }
            }
        }
    }
}
