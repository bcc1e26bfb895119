package io.bypass.samples.internal;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Pins the calling thread to one CPU with {@code sched_setaffinity(0, ...)}, which in
 * Linux applies to the calling thread only: the polling thread is pinned and the JVM's
 * other threads (GC, JIT) stay where they were. Same effect as {@code taskset -c N} on
 * one thread, without re-executing the JVM.
 */
public final class Affinity {
    /** Largest CPU count the mask covers. */
    public static final int MAX_CPUS = 1024;

    private Affinity() {
    }

    /**
     * @param cpu CPU number
     * @return true if the CPU is online and in this process's affinity mask
     */
    public static boolean isOnline(final int cpu) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment mask = arena.allocate(MAX_CPUS / 8);
            final MemorySegment state = Libc.callState(arena);
            final int rc = (int) Libc.SCHED_GETAFFINITY.invokeExact(state, 0, (long) (MAX_CPUS / 8), mask);
            if (rc != 0) {
                return cpu < Runtime.getRuntime().availableProcessors();
            }
            return (mask.get(ValueLayout.JAVA_BYTE, cpu / 8) & (1 << (cpu % 8))) != 0;
        } catch (final Throwable t) {
            return cpu < Runtime.getRuntime().availableProcessors();
        }
    }

    /**
     * Pins the calling thread to {@code cpu}.
     *
     * @param cpu CPU number
     * @throws IllegalStateException naming errno and the remedy if the kernel refuses
     */
    public static void pinCurrentThread(final int cpu) {
        if (cpu < 0 || cpu >= MAX_CPUS) {
            throw new IllegalArgumentException("cpu " + cpu + " outside 0.." + (MAX_CPUS - 1));
        }
        final int rc;
        final int errno;
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment mask = arena.allocate(MAX_CPUS / 8);
            mask.set(ValueLayout.JAVA_BYTE, cpu / 8, (byte) (1 << (cpu % 8)));
            final MemorySegment state = Libc.callState(arena);
            rc = (int) Libc.SCHED_SETAFFINITY.invokeExact(state, 0, (long) (MAX_CPUS / 8), mask);
            errno = rc == 0 ? 0 : Libc.errno(state);
        } catch (final RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IllegalStateException(t);
        }
        if (rc != 0) {
            throw new IllegalStateException("sched_setaffinity(cpu " + cpu + ") failed: " + Libc.strerror(errno)
                + "; check the CPU is online and allowed by the cgroup cpuset (" + allowedCpus() + ")");
        }
    }

    private static String allowedCpus() {
        try {
            for (final String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    return "allowed: " + line.substring(18).trim();
                }
            }
        } catch (final IOException ignored) {
            // best effort, for the message only
        }
        return "allowed CPUs unknown";
    }
}
