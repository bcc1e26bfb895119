package io.bypass.afxdp.internal;

import io.bypass.BypassException;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

/**
 * errno values and texts for the calls the backend makes. errno is captured by the
 * linker ({@code Linker.Option.captureCallState("errno")}) into a segment the caller owns,
 * so the hot path reuses one preallocated segment per queue.
 */
public final class Errno {
    /** Layout of the capture segment. */
    public static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    /** Operation not permitted. */
    public static final int EPERM = 1;
    /** No such file or directory. */
    public static final int ENOENT = 2;
    /** Interrupted system call. */
    public static final int EINTR = 4;
    /** I/O error. */
    public static final int EIO = 5;
    /** No such device or address. */
    public static final int ENXIO = 6;
    /** Bad file descriptor. */
    public static final int EBADF = 9;
    /** Try again. */
    public static final int EAGAIN = 11;
    /** Out of memory. */
    public static final int ENOMEM = 12;
    /** Permission denied. */
    public static final int EACCES = 13;
    /** Device or resource busy. */
    public static final int EBUSY = 16;
    /** File exists. */
    public static final int EEXIST = 17;
    /** No such device. */
    public static final int ENODEV = 19;
    /** Invalid argument. */
    public static final int EINVAL = 22;
    /** Protocol not available. */
    public static final int ENOPROTOOPT = 92;
    /** Address family not supported by protocol. */
    public static final int EAFNOSUPPORT = 97;
    /** Operation not supported. */
    public static final int EOPNOTSUPP = 95;
    /** Network is down. */
    public static final int ENETDOWN = 100;
    /** No buffer space available. */
    public static final int ENOBUFS = 105;
    /** Argument list too long (BPF map full). */
    public static final int E2BIG = 7;
    /** Protocol not supported. */
    public static final int EPROTONOSUPPORT = 93;
    /** Result too large (XDP: MTU too big for the program). */
    public static final int ERANGE_OR_MTU = 34;

    private Errno() {
    }

    /**
     * @param arena where to allocate
     * @return a segment to pass as the first argument of an errno-capturing downcall
     */
    public static MemorySegment allocate(final Arena arena) {
        return arena.allocate(CAPTURE_LAYOUT);
    }

    /**
     * @param capture the segment passed to the call
     * @return the errno the call left
     */
    public static int get(final MemorySegment capture) {
        return (int) ERRNO.get(capture, 0L);
    }

    /**
     * @param errno an errno value
     * @return its name and the C library's text, e.g. {@code EPERM (Operation not permitted)}
     */
    public static String describe(final int errno) {
        String text;
        try {
            text = Libc.strerror(errno);
        } catch (final Throwable t) {
            text = "errno " + errno;
        }
        return name(errno) + " (" + text + ")";
    }

    /**
     * @param errno an errno value
     * @return its symbolic name, or {@code errno N}
     */
    public static String name(final int errno) {
        return switch (errno) {
            case EPERM -> "EPERM";
            case ENOENT -> "ENOENT";
            case EINTR -> "EINTR";
            case EIO -> "EIO";
            case ENXIO -> "ENXIO";
            case EBADF -> "EBADF";
            case EAGAIN -> "EAGAIN";
            case ENOMEM -> "ENOMEM";
            case EACCES -> "EACCES";
            case EBUSY -> "EBUSY";
            case EEXIST -> "EEXIST";
            case ENODEV -> "ENODEV";
            case EINVAL -> "EINVAL";
            case ENOPROTOOPT -> "ENOPROTOOPT";
            case EAFNOSUPPORT -> "EAFNOSUPPORT";
            case EOPNOTSUPP -> "EOPNOTSUPP";
            case ENETDOWN -> "ENETDOWN";
            case ENOBUFS -> "ENOBUFS";
            default -> "errno " + errno;
        };
    }

    /** Remedy for missing privileges, shared by every EPERM message. */
    public static final String PRIVILEGE_REMEDY = "run as root, or grant the JVM the capabilities: "
        + "sudo setcap cap_net_admin,cap_net_raw,cap_bpf,cap_perfmon+ep $(readlink -f $JAVA_HOME/bin/java)";

    /**
     * Builds the exception for a failed call.
     *
     * @param call   the call and its main arguments, e.g. {@code bind(AF_XDP, veth0 queue 0)}
     * @param errno  the captured errno
     * @param remedy what the user can do, or null to derive one from errno
     * @return the exception to throw
     */
    public static BypassException failure(final String call, final int errno, final String remedy) {
        String r = remedy;
        if (r == null && (errno == EPERM || errno == EACCES)) {
            r = PRIVILEGE_REMEDY;
        }
        return new BypassException("afxdp: " + call + " failed: " + describe(errno) + (r == null ? "" : "; " + r));
    }
}
