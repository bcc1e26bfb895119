package io.bypass.threads;

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
 * The libc calls thread placement needs, bound with FFM and errno captured so a failure
 * names the call and the error. Setup only, never per packet.
 */
final class Libc {
    static final int ESRCH = 3;
    static final int EINVAL = 22;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");

    static final MethodHandle SCHED_SETAFFINITY = bind("sched_setaffinity",
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    static final MethodHandle SCHED_GETAFFINITY = bind("sched_getaffinity",
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    /** gettid(2) has a glibc wrapper since 2.30; null before, then /proc/thread-self tells. */
    static final MethodHandle GETTID = LINKER.defaultLookup().find("gettid")
        .map(a -> LINKER.downcallHandle(a, FunctionDescriptor.of(ValueLayout.JAVA_INT))).orElse(null);
    private static final MethodHandle STRERROR = LINKER.downcallHandle(LINKER.defaultLookup().find("strerror").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.ADDRESS.withTargetLayout(MemoryLayout.sequenceLayout(256, ValueLayout.JAVA_BYTE)),
            ValueLayout.JAVA_INT));

    private Libc() {
    }

    private static MethodHandle bind(final String name, final FunctionDescriptor fd) {
        final MemorySegment addr = LINKER.defaultLookup().find(name)
            .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(addr, fd, CAPTURE);
    }

    static MemorySegment callState(final Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    static int errno(final MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    static String strerror(final int errno) {
        try {
            final MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.getString(0) + " (errno " + errno + ")";
        } catch (final Throwable t) {
            return "errno " + errno;
        }
    }
}
