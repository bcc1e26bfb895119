package io.bypass.threads;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * CPU affinity of single threads of this JVM, by Linux thread id, with
 * {@code sched_setaffinity}/{@code sched_getaffinity} through FFM. In Linux these act on
 * one thread (a "task"), not on the process: pinning the polling thread leaves the GC
 * and JIT threads where they were, and a new thread starts with the mask of the thread
 * that created it. Setup calls only; each one allocates and makes a syscall.
 */
public final class Affinity {
    private static final long MASK_BYTES = CpuSet.MAX_CPUS / 8;

    private Affinity() {
    }

    /** @return the calling thread's Linux thread id ({@code gettid}) */
    public static long currentThreadId() {
        if (Libc.GETTID != null) {
            try {
                return (int) Libc.GETTID.invokeExact();
            } catch (final Throwable t) {
                // fall through to /proc
            }
        }
        try {
            // /proc/thread-self -> PID/task/TID
            final Path link = Files.readSymbolicLink(Path.of("/proc/thread-self"));
            return Long.parseLong(link.getFileName().toString());
        } catch (final IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read this thread's id: no gettid() and /proc/thread-self: " + e, e);
        }
    }

    /** @return the ids of every thread of this JVM now, from {@code /proc/self/task}, ascending */
    public static long[] threadIds() {
        long[] ids = new long[64];
        int n = 0;
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (final Path p : dir) {
                if (n == ids.length) {
                    ids = Arrays.copyOf(ids, n * 2);
                }
                ids[n++] = Long.parseLong(p.getFileName().toString());
            }
        } catch (final IOException e) {
            throw new IllegalStateException("cannot list this JVM's threads in /proc/self/task: " + e, e);
        }
        final long[] out = Arrays.copyOf(ids, n);
        Arrays.sort(out);
        return out;
    }

    /** @return the CPUs the calling thread may run on */
    public static CpuSet currentThread() {
        final CpuSet s = get(0);
        if (s == null) {
            throw new IllegalStateException("sched_getaffinity of the calling thread failed");
        }
        return s;
    }

    /**
     * @param tid a thread id of this JVM, or 0 for the calling thread
     * @return the CPUs it may run on, or null if the thread no longer exists
     * @throws IllegalStateException naming errno on any other failure
     */
    public static CpuSet get(final long tid) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment mask = arena.allocate(MASK_BYTES, 8);
            final MemorySegment state = Libc.callState(arena);
            final int rc = (int) Libc.SCHED_GETAFFINITY.invokeExact(state, (int) tid, MASK_BYTES, mask);
            if (rc != 0) {
                final int errno = Libc.errno(state);
                if (errno == Libc.ESRCH) {
                    return null;
                }
                throw new IllegalStateException("sched_getaffinity(tid " + tid + ") failed: " + Libc.strerror(errno));
            }
            return CpuSet.fromWords(mask.toArray(ValueLayout.JAVA_LONG));
        } catch (final RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Sets the CPUs one thread may run on.
     *
     * @param tid  a thread id of this JVM, or 0 for the calling thread
     * @param cpus the CPUs, not empty
     * @return true, or false if the thread no longer exists (it ended meanwhile)
     * @throws IllegalStateException naming the thread, the CPUs, errno, and which CPUs are
     *                               online and allowed, if the kernel refuses (a CPU offline,
     *                               or outside the cgroup cpuset)
     */
    public static boolean set(final long tid, final CpuSet cpus) {
        if (cpus.isEmpty()) {
            throw new IllegalArgumentException("empty CPU set for thread " + tid);
        }
        final int rc;
        final int errno;
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment mask = arena.allocate(MASK_BYTES, 8);
            for (int i = 0; i < CpuSet.MAX_CPUS / 64; i++) {
                mask.setAtIndex(ValueLayout.JAVA_LONG, i, cpus.word(i));
            }
            final MemorySegment state = Libc.callState(arena);
            rc = (int) Libc.SCHED_SETAFFINITY.invokeExact(state, (int) tid, MASK_BYTES, mask);
            errno = rc == 0 ? 0 : Libc.errno(state);
        } catch (final RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IllegalStateException(t);
        }
        if (rc == 0) {
            return true;
        }
        if (errno == Libc.ESRCH) {
            return false;
        }
        throw new IllegalStateException("sched_setaffinity(" + (tid == 0 ? "this thread" : "thread " + tid) + ", CPUs " + cpus
            + ") failed: " + Libc.strerror(errno) + "; " + whereAllowed());
    }

    /**
     * Pins the calling thread to one CPU (as {@code taskset -c CPU} would, for this thread only).
     *
     * @param cpu CPU number
     * @throws IllegalArgumentException if {@code cpu} is outside 0..{@link CpuSet#MAX_CPUS} - 1
     * @throws IllegalStateException    naming errno and the online and allowed CPUs if refused
     */
    public static void pinCurrentThread(final int cpu) {
        set(0, CpuSet.of(cpu));
    }

    /**
     * @param cpu CPU number
     * @return true if the calling thread may run on {@code cpu} now (it is online and in
     *         this thread's mask, which the cgroup cpuset and {@code taskset} limit)
     */
    public static boolean isAllowed(final int cpu) {
        try {
            return currentThread().contains(cpu);
        } catch (final RuntimeException | LinkageError e) {
            return cpu >= 0 && cpu < Runtime.getRuntime().availableProcessors();
        }
    }

    /** @return the CPUs online on this host, from {@code /sys/devices/system/cpu/online}, or null if unreadable */
    public static CpuSet online() {
        try {
            return CpuSet.parse(Files.readString(Path.of("/sys/devices/system/cpu/online")));
        } catch (final IOException | IllegalArgumentException e) {
            return null;
        }
    }

    /** @return a sentence for error messages: which CPUs are online and which this process may use */
    static String whereAllowed() {
        final CpuSet online = online();
        String allowed = "unknown";
        try {
            for (final String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    allowed = line.substring(18).trim();
                }
            }
        } catch (final IOException ignored) {
            // for the message only
        }
        return "CPUs online: " + (online == null ? "unknown" : online) + ", allowed to this process (main thread, cgroup cpuset, taskset): "
            + allowed;
    }
}
