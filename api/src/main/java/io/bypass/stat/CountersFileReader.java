package io.bypass.stat;

import io.bypass.BypassException;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.bypass.stat.CountersDescriptor.COMMAND_LENGTH_OFFSET;
import static io.bypass.stat.CountersDescriptor.FILE_LENGTH_OFFSET;
import static io.bypass.stat.CountersDescriptor.HEADER_LENGTH;
import static io.bypass.stat.CountersDescriptor.HEARTBEAT_OFFSET;
import static io.bypass.stat.CountersDescriptor.MAGIC;
import static io.bypass.stat.CountersDescriptor.MAGIC_OFFSET;
import static io.bypass.stat.CountersDescriptor.MAX_COMMAND_LENGTH;
import static io.bypass.stat.CountersDescriptor.MAX_LABEL_LENGTH;
import static io.bypass.stat.CountersDescriptor.MAX_NAME_LENGTH;
import static io.bypass.stat.CountersDescriptor.PID_OFFSET;
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
import static io.bypass.stat.CountersDescriptor.STALE_HEARTBEAT_MS;
import static io.bypass.stat.CountersDescriptor.START_MILLIS_OFFSET;
import static io.bypass.stat.CountersDescriptor.SUFFIX;
import static io.bypass.stat.CountersDescriptor.VERSION;
import static io.bypass.stat.CountersDescriptor.VERSION_OFFSET;
import static io.bypass.stat.CountersDescriptor.recordLength;

/**
 * Reads counters files another process publishes ({@link CountersPublisher}), for
 * {@code bypass stat}. Maps each file read-only: a reader never writes to a live process's file.
 *
 * <pre>{@code
 * for (CountersFileReader.Snapshot s : CountersFileReader.readAll(CountersDescriptor.directory(), errors::add)) {
 *     System.out.println(s.pid() + " " + s.liveness(System.currentTimeMillis()));
 * }
 * }</pre>
 */
public final class CountersFileReader {
    private CountersFileReader() {
    }

    /**
     * One process's counters as read at one moment.
     *
     * @param file          the file read
     * @param pid           the publishing process
     * @param startMillis   its start time, epoch ms
     * @param heartbeatMillis its last heartbeat, epoch ms
     * @param command       its command line
     * @param records       its records, in file order
     */
    public record Snapshot(Path file, long pid, long startMillis, long heartbeatMillis, String command, List<Record> records) {
        /**
         * Whether the process that wrote the file still runs: its pid lives with the same start
         * time and its heartbeat is recent.
         *
         * @param nowMillis the current time, epoch ms
         * @return null if alive, else why the file is stale
         */
        public String staleReason(final long nowMillis) {
            final Optional<ProcessHandle> h = ProcessHandle.of(pid);
            if (h.isEmpty() || !h.get().isAlive()) {
                return "process " + pid + " has exited";
            }
            final Optional<Instant> start = h.get().info().startInstant();
            // The start time is derived from /proc in whole clock ticks; allow a second for rounding.
            if (start.isPresent() && Math.abs(start.get().toEpochMilli() - startMillis) > 1000) {
                return "pid " + pid + " now belongs to another process (started " + start.get() + ")";
            }
            final long age = nowMillis - heartbeatMillis;
            if (age > STALE_HEARTBEAT_MS) {
                return "no heartbeat for " + age + " ms (process hung or stopped)";
            }
            return null;
        }
    }

    /**
     * One port's, endpoint's or application's counters.
     *
     * @param index  its position in the file, stable for the file's life
     * @param closed true if its source was closed (values are its last)
     * @param label  what it counts: type, backend, iface, queue, endpoint, name
     * @param values counter name to value, in the order published
     */
    public record Record(int index, boolean closed, Map<String, String> label, Map<String, Long> values) {
    }

    /**
     * Reads every counters file in a directory. A file that cannot be read (another layout
     * version, not a counters file, being created) is reported to {@code errors} and skipped.
     *
     * @param dir    the directory, such as {@link CountersDescriptor#directory()}
     * @param errors receives one message per file skipped
     * @return the snapshots, by file name
     * @throws IOException if the directory cannot be listed
     */
    public static List<Snapshot> readAll(final Path dir, final java.util.function.Consumer<String> errors) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        final List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            ds.forEach(files::add);
        }
        Collections.sort(files);
        final List<Snapshot> out = new ArrayList<>();
        for (final Path f : files) {
            try {
                final Snapshot s = read(f);
                if (s != null) {
                    out.add(s);
                }
            } catch (final BypassException e) {
                errors.accept(e.getMessage());
            } catch (final NoSuchFileException gone) {
                // the process exited between the listing and the read
            } catch (final IOException e) {
                errors.accept(f + ": " + e);
            }
        }
        return out;
    }

    /**
     * Reads one counters file.
     *
     * @param file the file
     * @return its snapshot, or null if its header is not written yet (the process is starting)
     * @throws BypassException if it is not a counters file, or of another layout version
     * @throws IOException     if it cannot be read
     */
    public static Snapshot read(final Path file) throws IOException {
        final MappedByteBuffer mapped;
        final long size;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            size = ch.size();
            if (size < HEADER_LENGTH) {
                if (size >= VERSION_OFFSET + 4) {
                    throw notCounters(file, "shorter than its header (" + size + " bytes)");
                }
                return null;
            }
            mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
        }
        final UnsafeBuffer b = new UnsafeBuffer(mapped);
        final long magic = b.getLongVolatile(MAGIC_OFFSET);
        final int version = b.getInt(VERSION_OFFSET);
        if (magic == 0) {
            return null;
        }
        if (magic != MAGIC) {
            throw notCounters(file, "bad magic 0x" + Long.toHexString(magic));
        }
        if (version != VERSION) {
            throw new BypassException(file + ": counters file layout version " + version + ", but this bypass stat reads version "
                + VERSION + " only: read it with the bypass stat of the release the process runs");
        }
        final int fileLength = (int) Math.min(size, b.getInt(FILE_LENGTH_OFFSET));
        final int cmdLength = Math.min(MAX_COMMAND_LENGTH, b.getInt(COMMAND_LENGTH_OFFSET));
        final String command = b.getStringWithoutLengthUtf8(COMMAND_LENGTH_OFFSET + 4, Math.max(0, cmdLength));
        final int count = b.getIntVolatile(RECORD_COUNT_OFFSET);
        final List<Record> records = new ArrayList<>(count);
        int offset = HEADER_LENGTH;
        for (int i = 0; i < count && offset + RECORD_HEADER_LENGTH <= fileLength; i++) {
            final int state = b.getIntVolatile(offset + RECORD_STATE_OFFSET);
            final int slots = b.getInt(offset + RECORD_SLOTS_OFFSET);
            final int length = b.getInt(offset + RECORD_LENGTH_OFFSET);
            if (length != recordLength(slots) || offset + length > fileLength || state == 0) {
                throw notCounters(file, "record " + i + " at offset " + offset + " is corrupt");
            }
            final int labelLength = Math.min(MAX_LABEL_LENGTH, b.getInt(offset + RECORD_LABEL_LENGTH_OFFSET));
            final Map<String, String> label = new LinkedHashMap<>();
            for (final String line : b.getStringWithoutLengthUtf8(offset + RECORD_LABEL_LENGTH_OFFSET + 4, labelLength).split("\n")) {
                final int eq = line.indexOf('=');
                if (eq > 0) {
                    label.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
            final Map<String, Long> values = new LinkedHashMap<>();
            for (int s = 0; s < slots; s++) {
                final int slot = offset + RECORD_HEADER_LENGTH + s * SLOT_LENGTH;
                final int nameLength = Math.min(MAX_NAME_LENGTH, b.getInt(slot + SLOT_NAME_LENGTH_OFFSET));
                final byte[] name = new byte[nameLength];
                b.getBytes(slot + SLOT_NAME_LENGTH_OFFSET + 4, name);
                values.put(new String(name, StandardCharsets.US_ASCII), b.getLongVolatile(slot + SLOT_VALUE_OFFSET));
            }
            records.add(new Record(i, state == RECORD_CLOSED, Collections.unmodifiableMap(label), Collections.unmodifiableMap(values)));
            offset += length;
        }
        return new Snapshot(file, b.getLong(PID_OFFSET), b.getLong(START_MILLIS_OFFSET), b.getLongVolatile(HEARTBEAT_OFFSET),
            command, List.copyOf(records));
    }

    private static BypassException notCounters(final Path file, final String why) {
        return new BypassException(file + ": not a Bypass counters file: " + why);
    }
}
