package io.bypass.afxdp.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import io.bypass.afxdp.internal.gen.Sys;

/**
 * The C library calls of the backend: jextract's addresses and descriptors ({@link Sys}),
 * linked here with errno capture. Every method takes the capture segment
 * ({@link Errno#allocate}) as its first argument.
 */
public final class Libc {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");

    private static final MethodHandle SOCKET = bind(Sys.socket$address(), Sys.socket$descriptor());
    private static final MethodHandle BIND = bind(Sys.bind$address(), Sys.bind$descriptor());
    private static final MethodHandle SETSOCKOPT = bind(Sys.setsockopt$address(), Sys.setsockopt$descriptor());
    private static final MethodHandle GETSOCKOPT = bind(Sys.getsockopt$address(), Sys.getsockopt$descriptor());
    // No errno capture: the linker slices the capture segment on every call, an allocation C2 removes only when it
    // inlines the whole call, which a statistics read (once a second, on the counters' publisher thread) never gets.
    private static final MethodHandle GETSOCKOPT_NO_ERRNO = LINKER.downcallHandle(Sys.getsockopt$address(),
        Sys.getsockopt$descriptor());
    private static final MethodHandle MMAP = bind(Sys.mmap$address(), Sys.mmap$descriptor());
    private static final MethodHandle MUNMAP = bind(Sys.munmap$address(), Sys.munmap$descriptor());
    private static final MethodHandle CLOSE = bind(Sys.close$address(), Sys.close$descriptor());
    // Hot-path kicks are linked WITHOUT errno capture and without Linker.Option.critical: in
    // C1-compiled callers (the first ~10^4 flushes, longer on a busy host) capture allocates
    // 40 bytes per call and critical 16 (measured on JDK 25); plain handles allocate nothing
    // in any tier. A failed kick leaves the descriptors in the ring and the next flush or
    // poll kicks again; callers count failures in Counter.TX_KICK_FAILED / RX_WAKEUP_FAILED.
    private static final MethodHandle SENDTO = LINKER.downcallHandle(Sys.sendto$address(), Sys.sendto$descriptor());
    private static final MethodHandle RECVFROM = LINKER.downcallHandle(Sys.recvfrom$address(), Sys.recvfrom$descriptor());
    private static final MethodHandle SENDTO_BLOCKING = bind(Sys.sendto$address(), Sys.sendto$descriptor());
    private static final MethodHandle RECVFROM_BLOCKING = bind(Sys.recvfrom$address(), Sys.recvfrom$descriptor());
    private static final MethodHandle IF_NAMETOINDEX = bind(Sys.if_nametoindex$address(), Sys.if_nametoindex$descriptor());
    private static final MethodHandle STRERROR = LINKER.downcallHandle(Sys.strerror$address(), Sys.strerror$descriptor());

    /** mmap's failure value. */
    public static final long MAP_FAILED = -1L;

    private Libc() {
    }

    private static MethodHandle bind(final MemorySegment address, final FunctionDescriptor fd) {
        return LINKER.downcallHandle(address, fd, ERRNO);
    }

    /**
     * What {@code invokeExact} may throw, made unchecked: runtime exceptions and errors as
     * they are, anything else (it cannot happen for a downcall) wrapped.
     *
     * @param t what the handle threw
     * @return the exception to throw
     */
    static RuntimeException rethrow(final Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    /**
     * socket(2), with errno captured.
     *
     * @param errno errno capture segment ({@link Errno#allocate})
     * @param domain address family, e.g. AF_XDP
     * @param type socket type and flags
     * @param protocol protocol, 0 for the default
     * @return the call's result (-1, or MAP_FAILED for mmap, on failure: see {@code errno})
     * @see <a href="https://man7.org/linux/man-pages/man2/socket.2.html">socket(2)</a>
     */
    public static int socket(final MemorySegment errno, final int domain, final int type, final int protocol) {
        try {
            return (int) SOCKET.invokeExact(errno, domain, type, protocol);
        } catch (final Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * bind(2), with errno captured.
     *
     * @param errno errno capture segment ({@link Errno#allocate})
     * @param fd file descriptor
     * @param addr the address
     * @param len its length in bytes
     * @return the call's result (-1, or MAP_FAILED for mmap, on failure: see {@code errno})
     * @see <a href="https://man7.org/linux/man-pages/man2/bind.2.html">bind(2)</a>
     */
    public static int bind(final MemorySegment errno, final int fd, final MemorySegment addr, final int len) {
        try {
            return (int) BIND.invokeExact(errno, fd, addr, len);
        } catch (final Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * setsockopt(2), with errno captured.
     *
     * @param errno errno capture segment ({@link Errno#allocate})
     * @param fd file descriptor
     * @param level option level, e.g. SOL_XDP
     * @param name option name
     * @param value the value
     * @param len its length in bytes
     * @return the call's result (-1, or MAP_FAILED for mmap, on failure: see {@code errno})
     * @see <a href="https://man7.org/linux/man-pages/man2/setsockopt.2.html">setsockopt(2)</a>
     */
    public static int setsockopt(final MemorySegment errno, final int fd, final int level, final int name,
                                 final MemorySegment value, final int len) {
        try {
            return (int) SETSOCKOPT.invokeExact(errno, fd, level, name, value, len);
        } catch (final Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * getsockopt(2), with errno captured.
     *
     * @param errno errno capture segment ({@link Errno#allocate})
     * @param fd file descriptor
     * @param level option level, e.g. SOL_XDP
     * @param name option name
     * @param value the value
     * @param len its length in bytes
     * @return the call's result (-1, or MAP_FAILED for mmap, on failure: see {@code errno})
     * @see <a href="https://man7.org/linux/man-pages/man2/getsockopt.2.html">getsockopt(2)</a>
     */
    public static int getsockopt(final MemorySegment errno, final int fd, final int level, final int name,
                                 final MemorySegment value, final MemorySegment len) {
        try {
            return (int) GETSOCKOPT.invokeExact(errno, fd, level, name, value, len);
        } catch (final Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * getsockopt(2) without errno, which allocates nothing even when not compiled: for statistics
     * read off the hot path, where a failure keeps the last values.
     *
     * @param fd    file descriptor
     * @param level option level, e.g. SOL_XDP
     * @param name  option name
     * @param value the value
     * @param len   its length in bytes
     * @return the call's result, -1 on failure
     */
    public static int getsockoptNoErrno(final int fd, final int level, final int name, final MemorySegment value,
                                        final MemorySegment len) {
        try {
            return (int) GETSOCKOPT_NO_ERRNO.invokeExact(fd, level, name, value, len);
        } catch (final Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * mmap(2), with errno captured.
     *
     * @param errno errno capture segment ({@link Errno#allocate})
     * @param length length in bytes
     * @param prot PROT_* flags
     * @param flags flags
     * @param fd file descriptor
     * @param offset offset into the object (page offset for ring mappings)
     * @return the call's result (-1, or MAP_FAILED for mmap, on failure: see {@code errno})
     * @see <a href="https://man7.org/linux/man-pages/man2/mmap.2.html">mmap(2)</a>
     */
    public static MemorySegment mmap(final MemorySegment errno, final long length, final int prot, final int flags,
                                     final int fd, final long offset) {
        try {
            return (MemorySegment) MMAP.invokeExact(errno, MemorySegment.NULL, length, prot, flags, fd, offset);
        } catch (final Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * munmap(2), with errno captured.
     *
     * @param errno errno capture segment ({@link Errno#allocate})
     * @param addr the address
     * @param length length in bytes
     * @return the call's result (-1, or MAP_FAILED for mmap, on failure: see {@code errno})
     * @see <a href="https://man7.org/linux/man-pages/man2/munmap.2.html">munmap(2)</a>
     */
    public static int munmap(final MemorySegment errno, final MemorySegment addr, final long length) {
        try {
            return (int) MUNMAP.invokeExact(errno, addr, length);
        } catch (final Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * close(2), with errno captured.
     *
     * @param errno errno capture segment ({@link Errno#allocate})
     * @param fd file descriptor
     * @return the call's result (-1, or MAP_FAILED for mmap, on failure: see {@code errno})
     * @see <a href="https://man7.org/linux/man-pages/man2/close.2.html">close(2)</a>
     */
    public static int close(final MemorySegment errno, final int fd) {
        try {
            return (int) CLOSE.invokeExact(errno, fd);
        } catch (final Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Zero-length non-blocking sendto, the AF_XDP TX kick. No allocation, no errno capture
     * (a deliberate deviation, see the comment on {@code SENDTO}): the caller counts a failure
     * in {@link io.bypass.Counter#TX_KICK_FAILED}.
     *
     * @param fd the XSK
     * @return sendto's result: negative if the kernel refused the kick (it keeps the descriptors)
     */
    public static long kick(final int fd) {
        try {
            return (long) SENDTO.invokeExact(fd, MemorySegment.NULL, 0L, Constants.MSG_DONTWAIT, MemorySegment.NULL, 0);
        } catch (final Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Zero-length non-blocking recvfrom, the AF_XDP fill-ring wakeup. No allocation, no errno
     * capture (as {@link #kick}): the caller counts a failure in {@link io.bypass.Counter#RX_WAKEUP_FAILED}.
     *
     * @param fd the XSK
     * @return recvfrom's result, negative on failure
     */
    public static long wakeupRx(final int fd) {
        try {
            return (long) RECVFROM.invokeExact(fd, MemorySegment.NULL, 0L, Constants.MSG_DONTWAIT,
                MemorySegment.NULL, MemorySegment.NULL);
        } catch (final Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * sendto(2), with errno captured.
     *
     * @param errno errno capture segment ({@link Errno#allocate})
     * @param fd file descriptor
     * @param buf the buffer
     * @param len its length in bytes
     * @param flags flags
     * @param addr the address
     * @param addrLen length of {@code addr}
     * @return the call's result (-1, or MAP_FAILED for mmap, on failure: see {@code errno})
     * @see <a href="https://man7.org/linux/man-pages/man2/sendto.2.html">sendto(2)</a>
     */
    public static long sendto(final MemorySegment errno, final int fd, final MemorySegment buf, final long len,
                              final int flags, final MemorySegment addr, final int addrLen) {
        try {
            return (long) SENDTO_BLOCKING.invokeExact(errno, fd, buf, len, flags, addr, addrLen);
        } catch (final Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * recvfrom(fd, buf, len, flags, NULL, NULL).
     *
     * @param errno errno capture segment ({@link Errno#allocate})
     * @param fd file descriptor
     * @param buf the buffer
     * @param len its length in bytes
     * @param flags flags
     * @return the call's result (-1, or MAP_FAILED for mmap, on failure: see {@code errno})
     * @see <a href="https://man7.org/linux/man-pages/man2/recv.2.html">recv(2)</a>
     */
    public static long recv(final MemorySegment errno, final int fd, final MemorySegment buf, final long len, final int flags) {
        try {
            return (long) RECVFROM_BLOCKING.invokeExact(errno, fd, buf, len, flags, MemorySegment.NULL, MemorySegment.NULL);
        } catch (final Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * @param errno capture segment
     * @param name  interface name
     * @return the index, 0 if there is no such interface
     * @see <a href="https://man7.org/linux/man-pages/man3/if_nametoindex.3.html">if_nametoindex(3)</a>
     */
    public static int ifNameToIndex(final MemorySegment errno, final String name) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) IF_NAMETOINDEX.invokeExact(errno, arena.allocateFrom(name));
        } catch (final Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * @param errno an errno value
     * @return the C library's text for it
     */
    public static String strerror(final int errno) {
        try {
            final MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(1024).getString(0);
        } catch (final Throwable t) {
            throw rethrow(t);
        }
    }
}
