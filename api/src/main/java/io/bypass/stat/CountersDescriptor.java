package io.bypass.stat;

import java.nio.file.Path;

/**
 * The layout of a counters file, version {@value #VERSION}. One file per process, named
 * {@code PID-STARTMILLIS.counters}, of fixed length, little-endian. Only the publishing
 * process writes it; readers map it read-only.
 *
 * <pre>
 * Header, {@value #HEADER_LENGTH} bytes:
 *   0  long  magic {@link #MAGIC}, written last: zero means the header is not written yet
 *   8  int   layout version {@link #VERSION}
 *  12  int   header length
 *  16  long  pid
 *  24  long  process start time, epoch ms (tells a reused pid from the process that wrote the file)
 *  32  long  heartbeat, epoch ms, stored at least once a second while the process lives
 *  40  int   records allocated (release-stored after the record is written)
 *  44  int   file length
 *  48  int   command length, then the command line (UTF-8) from offset 52
 * Records from offset {@value #HEADER_LENGTH}, each {@link #RECORD_HEADER_LENGTH} + slots * {@value #SLOT_LENGTH} bytes:
 *   0  int   state: {@link #RECORD_ACTIVE} or {@link #RECORD_CLOSED} (its source was closed; values final)
 *   4  int   slot count
 *   8  int   record length
 *  12  int   label length, then the label (UTF-8 lines key=value: type, backend, iface, queue, endpoint, name) from 16
 * Slots, {@value #SLOT_LENGTH} bytes each:
 *   0  long  value (release-stored by the publisher)
 *   8  int   name length, then the counter's name (ASCII, such as drop_fill_ring_empty) from 12
 * </pre>
 */
public final class CountersDescriptor {
    /** "BYPSTAT1" read as a little-endian long. */
    public static final long MAGIC = 0x3154415453505942L;
    /** The layout version this code writes and reads; a reader refuses any other. */
    public static final int VERSION = 1;
    /** Header bytes before the first record. */
    public static final int HEADER_LENGTH = 4096;
    /** Offset of the magic. */
    public static final int MAGIC_OFFSET = 0;
    /** Offset of the layout version. */
    public static final int VERSION_OFFSET = 8;
    /** Offset of the header length. */
    public static final int HEADER_LENGTH_OFFSET = 12;
    /** Offset of the pid. */
    public static final int PID_OFFSET = 16;
    /** Offset of the process start time. */
    public static final int START_MILLIS_OFFSET = 24;
    /** Offset of the heartbeat. */
    public static final int HEARTBEAT_OFFSET = 32;
    /** Offset of the number of records allocated. */
    public static final int RECORD_COUNT_OFFSET = 40;
    /** Offset of the file length. */
    public static final int FILE_LENGTH_OFFSET = 44;
    /** Offset of the command line's length; its bytes follow. */
    public static final int COMMAND_LENGTH_OFFSET = 48;
    /** Most bytes of command line kept. */
    public static final int MAX_COMMAND_LENGTH = HEADER_LENGTH - COMMAND_LENGTH_OFFSET - 4;

    /** Bytes of a record before its slots. */
    public static final int RECORD_HEADER_LENGTH = 1024;
    /** Offset in a record of its state. */
    public static final int RECORD_STATE_OFFSET = 0;
    /** Offset in a record of its slot count. */
    public static final int RECORD_SLOTS_OFFSET = 4;
    /** Offset in a record of its length. */
    public static final int RECORD_LENGTH_OFFSET = 8;
    /** Offset in a record of its label's length; the label follows. */
    public static final int RECORD_LABEL_LENGTH_OFFSET = 12;
    /** Most bytes of label kept. */
    public static final int MAX_LABEL_LENGTH = RECORD_HEADER_LENGTH - RECORD_LABEL_LENGTH_OFFSET - 4;
    /** Record state: published, values live. */
    public static final int RECORD_ACTIVE = 1;
    /** Record state: its port or endpoint was closed; the values are its last. */
    public static final int RECORD_CLOSED = 2;

    /** Bytes per counter slot: its own cache line, so the reader's loads never share a line with another slot's store. */
    public static final int SLOT_LENGTH = 64;
    /** Offset in a slot of its value. */
    public static final int SLOT_VALUE_OFFSET = 0;
    /** Offset in a slot of its name's length; the name follows. */
    public static final int SLOT_NAME_LENGTH_OFFSET = 8;
    /** Most bytes of a counter name. */
    public static final int MAX_NAME_LENGTH = SLOT_LENGTH - SLOT_NAME_LENGTH_OFFSET - 4;

    /** Default file length: about 200 records of every {@link io.bypass.Counter}; tmpfs allocates only pages touched. */
    public static final int DEFAULT_FILE_LENGTH = 1 << 20;
    /** File name suffix. */
    public static final String SUFFIX = ".counters";
    /** System property naming the directory of counters files. */
    public static final String DIR_PROPERTY = "bypass.counters.dir";
    /** Environment variable naming the directory, used when the property is not set. */
    public static final String DIR_ENV = "BYPASS_COUNTERS_DIR";
    /** Default directory. */
    public static final String DEFAULT_DIR = "/dev/shm/bypass";
    /** Heartbeats older than this many ms make a file stale even if its pid lives (a hung or stopped process). */
    public static final long STALE_HEARTBEAT_MS = 5_000;

    private CountersDescriptor() {
    }

    /**
     * The directory of counters files: system property {@value #DIR_PROPERTY}, else
     * environment variable {@value #DIR_ENV}, else {@value #DEFAULT_DIR}.
     *
     * @return the directory
     */
    public static Path directory() {
        String dir = System.getProperty(DIR_PROPERTY);
        if (dir == null || dir.isBlank()) {
            dir = System.getenv(DIR_ENV);
        }
        return Path.of(dir == null || dir.isBlank() ? DEFAULT_DIR : dir);
    }

    /**
     * @param slots counters in the record
     * @return the record's length in bytes
     */
    public static int recordLength(final int slots) {
        return RECORD_HEADER_LENGTH + slots * SLOT_LENGTH;
    }

    /**
     * @param pid         the process id
     * @param startMillis its start time, epoch ms
     * @return the file name for that process
     */
    public static String fileName(final long pid, final long startMillis) {
        return pid + "-" + startMillis + SUFFIX;
    }
}
