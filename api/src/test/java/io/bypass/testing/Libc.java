package io.bypass.testing;

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
 * The few libc calls the test utilities need (AF_PACKET sockets), bound with FFM.
 * Every call that sets errno captures it, so failures name the call and the errno text.
 */
final class Libc {
    static final int AF_PACKET = 17;
    static final int SOCK_RAW = 3;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int ETH_P_ALL = 0x0003;
    static final int POLLIN = 0x1;
    static final int MSG_DONTWAIT = 0x40;
    static final int PACKET_OUTGOING = 4;
    static final int EINTR = 4;
    static final int EAGAIN = 11;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option ERRNO_OPT = Linker.Option.captureCallState("errno");

    private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), true);
    private static final MethodHandle SOCKET = bind("socket",
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), true);
    private static final MethodHandle BIND = bind("bind",
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), true);
    private static final MethodHandle SEND = bind("send",
        FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT), true);
    private static final MethodHandle RECVFROM = bind("recvfrom",
        FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.ADDRESS), true);
    private static final MethodHandle POLL = bind("poll",
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT), true);
    private static final MethodHandle IF_NAMETOINDEX = bind("if_nametoindex", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS), true);
    private static final MethodHandle STRERROR = bind("strerror", FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT), false);

    private Libc() {
    }

    private static MethodHandle bind(final String name, final FunctionDescriptor fd, final boolean errno) {
        final MemorySegment symbol = LINKER.defaultLookup().find(name)
            .orElseThrow(() -> new IllegalStateException("libc has no symbol " + name));
        return errno ? LINKER.downcallHandle(symbol, fd, ERRNO_OPT) : LINKER.downcallHandle(symbol, fd);
    }

    /** A captured errno slot for one call. */
    static MemorySegment errnoSlot(final Arena arena) {
        return arena.allocate(CAPTURE);
    }

    static int errno(final MemorySegment slot) {
        return (int) ERRNO.get(slot, 0L);
    }

    /**
     * @param errno an errno value
     * @return such as {@code "Operation not permitted (errno 1)"}
     */
    static String strerror(final int errno) {
        try {
            final MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(256).getString(0) + " (errno " + errno + ")";
        } catch (final Throwable t) {
            return "errno " + errno;
        }
    }

    static IllegalStateException failure(final String call, final MemorySegment slot, final String remedy) {
        return new IllegalStateException(call + " failed: " + strerror(errno(slot)) + (remedy == null ? "" : "; " + remedy));
    }

    static int close(final MemorySegment slot, final int fd) throws Throwable {
        return (int) CLOSE.invokeExact(slot, fd);
    }

    static int socket(final MemorySegment slot, final int domain, final int type, final int protocol) throws Throwable {
        return (int) SOCKET.invokeExact(slot, domain, type, protocol);
    }

    static int bind(final MemorySegment slot, final int fd, final MemorySegment addr, final int len) throws Throwable {
        return (int) BIND.invokeExact(slot, fd, addr, len);
    }

    static long send(final MemorySegment slot, final int fd, final MemorySegment buf, final long len, final int flags) throws Throwable {
        return (long) SEND.invokeExact(slot, fd, buf, len, flags);
    }

    static long recvfrom(final MemorySegment slot, final int fd, final MemorySegment buf, final long len, final int flags,
                         final MemorySegment addr, final MemorySegment addrLen) throws Throwable {
        return (long) RECVFROM.invokeExact(slot, fd, buf, len, flags, addr, addrLen);
    }

    static int poll(final MemorySegment slot, final MemorySegment fds, final long nfds, final int timeoutMillis) throws Throwable {
        return (int) POLL.invokeExact(slot, fds, nfds, timeoutMillis);
    }

    static int ifNameToIndex(final MemorySegment slot, final MemorySegment name) throws Throwable {
        return (int) IF_NAMETOINDEX.invokeExact(slot, name);
    }
}
