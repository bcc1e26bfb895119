package io.bypass.dpdk.internal;

import io.bypass.BypassException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The calling thread's CPU affinity ({@code sched_getaffinity(0, ...)} /
 * {@code sched_setaffinity(0, ...)}), so that starting the EAL can give it back:
 * {@code rte_eal_init} pins the thread that calls it to the main lcore's CPU set, which would
 * silently undo a pin the application made before opening its first port.
 *
 * <p>Bound by hand (like {@link XskLeakGuard}'s two libc calls) rather than through the
 * jextract classes, whose header classes each load a DPDK library: two glibc symbols with
 * plain int/pointer signatures do not justify a libc header class in the generated package.
 * Control path only (twice per process), so the errno capture's allocation does not matter.
 */
public final class ThreadAffinity {
    /** Bytes of the CPU mask: 8192 CPUs, beyond any kernel's NR_CPUS default, so EINVAL never means "too small". */
    private static final int MASK_BYTES = 1024;
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle GET;
    private static final MethodHandle SET;

    static {
        final Linker linker = Linker.nativeLinker();
        // int sched_[gs]etaffinity(pid_t pid, size_t cpusetsize, [const] cpu_set_t *mask)
        final FunctionDescriptor fd = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_LONG, ValueLayout.ADDRESS);
        final Linker.Option errno = Linker.Option.captureCallState("errno");
        GET = linker.downcallHandle(linker.defaultLookup().find("sched_getaffinity").orElseThrow(), fd, errno);
        SET = linker.downcallHandle(linker.defaultLookup().find("sched_setaffinity").orElseThrow(), fd, errno);
    }

    private ThreadAffinity() {
    }

    /**
     * @return the calling thread's CPU mask (a copy; bit N set = CPU N allowed)
     * @throws BypassException if the kernel refuses
     */
    public static byte[] get() {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment state = arena.allocate(CAPTURE);
            final MemorySegment mask = arena.allocate(MASK_BYTES);
            final int rc = (int) GET.invokeExact(state, 0, (long) MASK_BYTES, mask);
            if (rc < 0) {
                throw new BypassException("dpdk: sched_getaffinity failed: errno " + (int) ERRNO.get(state, 0L));
            }
            return mask.toArray(ValueLayout.JAVA_BYTE);
        } catch (final RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new BypassException("dpdk: sched_getaffinity: " + t, t);
        }
    }

    /**
     * Sets the calling thread's CPU mask.
     *
     * @param mask as returned by {@link #get()}
     * @return 0, or the errno of a refused {@code sched_setaffinity}
     */
    public static int set(final byte[] mask) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment state = arena.allocate(CAPTURE);
            final MemorySegment m = arena.allocate(MASK_BYTES);
            MemorySegment.copy(mask, 0, m, ValueLayout.JAVA_BYTE, 0, Math.min(mask.length, MASK_BYTES));
            final int rc = (int) SET.invokeExact(state, 0, (long) MASK_BYTES, m);
            return rc < 0 ? (int) ERRNO.get(state, 0L) : 0;
        } catch (final RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new BypassException("dpdk: sched_setaffinity: " + t, t);
        }
    }

    /**
     * @param mask a CPU mask
     * @return the CPUs in it, as a list such as {@code 0,2-3}
     */
    public static String toList(final byte[] mask) {
        final StringBuilder sb = new StringBuilder();
        int start = -1;
        final int bits = mask.length * 8;
        for (int cpu = 0; cpu <= bits; cpu++) {
            final boolean on = cpu < bits && (mask[cpu >> 3] & (1 << (cpu & 7))) != 0;
            if (on && start < 0) {
                start = cpu;
            } else if (!on && start >= 0) {
                sb.append(sb.isEmpty() ? "" : ",").append(start);
                if (cpu - 1 > start) {
                    sb.append('-').append(cpu - 1);
                }
                start = -1;
            }
        }
        return sb.toString();
    }
}
