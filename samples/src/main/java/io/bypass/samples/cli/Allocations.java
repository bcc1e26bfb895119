package io.bypass.samples.cli;

import java.lang.management.ManagementFactory;

/**
 * Reads how many bytes the calling thread has allocated so far (HotSpot's per-thread counter,
 * {@code com.sun.management.ThreadMXBean}), for a summary's {@code steady_allocated_bytes}: a loop
 * that allocates nothing per message shows a few hundred bytes over a whole run. Reading it does
 * not allocate.
 */
public final class Allocations {
    private static final com.sun.management.ThreadMXBean THREADS = ManagementFactory.getThreadMXBean()
        instanceof com.sun.management.ThreadMXBean t && t.isThreadAllocatedMemorySupported() ? t : null;

    private Allocations() {
    }

    /** @return bytes the calling thread has allocated since it started, or -1 where the JVM cannot tell */
    public static long currentThread() {
        return THREADS == null ? -1 : THREADS.getCurrentThreadAllocatedBytes();
    }
}
