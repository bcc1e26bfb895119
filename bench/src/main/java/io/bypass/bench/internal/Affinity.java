package io.bypass.bench.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Pins the calling thread (only) to one CPU with {@code sched_setaffinity(0, ...)}: the
 * polling thread is pinned, the JVM's GC and JIT threads are not.
 */
public final class Affinity {
    private static final int MAX_CPUS = 1024;

    private Affinity() {
    }

    /**
     * Pins the calling thread to {@code cpu}.
     *
     * @param cpu CPU number; negative does nothing
     * @throws IllegalStateException naming errno if the kernel refuses
     */
    public static void pinCurrentThread(final int cpu) {
        if (cpu < 0) {
            return;
        }
        if (cpu >= MAX_CPUS) {
            throw new IllegalArgumentException("cpu " + cpu + " outside 0.." + (MAX_CPUS - 1));
        }
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment mask = arena.allocate(MAX_CPUS / 8);
            mask.set(ValueLayout.JAVA_BYTE, cpu / 8, (byte) (1 << (cpu % 8)));
            final MemorySegment state = Libc.callState(arena);
            final int rc = (int) Libc.SCHED_SETAFFINITY.invokeExact(state, 0, (long) (MAX_CPUS / 8), mask);
            if (rc != 0) {
                throw new IllegalStateException("sched_setaffinity(cpu " + cpu + ") failed: "
                    + Libc.strerror(Libc.errno(state)) + "; is the CPU online and in this process's cpuset?");
            }
        } catch (final RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
