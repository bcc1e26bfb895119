package io.bypass.afxdp.internal;

import io.bypass.BypassException;
import io.bypass.afxdp.internal.gen.Sys;

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
    public static final int EPERM = Sys.EPERM();
    /** No such file or directory. */
    public static final int ENOENT = Sys.ENOENT();
    /** Interrupted system call. */
    public static final int EINTR = Sys.EINTR();
    /** I/O error. */
    public static final int EIO = 5;
    /** No such device or address. */
    public static final int ENXIO = Sys.ENXIO();
    /** Bad file descriptor. */
    public static final int EBADF = 9;
    /** Try again. */
    public static final int EAGAIN = Sys.EAGAIN();
    /** Out of memory. */
    public static final int ENOMEM = Sys.ENOMEM();
    /** Permission denied. */
    public static final int EACCES = Sys.EACCES();
    /** Device or resource busy. */
    public static final int EBUSY = Sys.EBUSY();
    /** File exists. */
    public static final int EEXIST = Sys.EEXIST();
    /** No such device. */
    public static final int ENODEV = Sys.ENODEV();
    /** Invalid argument. */
    public static final int EINVAL = Sys.EINVAL();
    /** Protocol not available. */
    public static final int ENOPROTOOPT = 92;
    /** Address family not supported by protocol. */
    public static final int EAFNOSUPPORT = Sys.EAFNOSUPPORT();
    /** Operation not supported. */
    public static final int EOPNOTSUPP = Sys.EOPNOTSUPP();
    /** Network is down. */
    public static final int ENETDOWN = Sys.ENETDOWN();
    /** No buffer space available. */
    public static final int ENOBUFS = Sys.ENOBUFS();
    /** Argument list too long (BPF map full). */
    public static final int E2BIG = Sys.E2BIG();
    /** Protocol not supported. */
    public static final int EPROTONOSUPPORT = Sys.EPROTONOSUPPORT();
    /** Result too large (XDP: MTU too big for the program). */
    public static final int ERANGE_OR_MTU = Sys.ERANGE();

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
        final String[] names = {"EPERM", "ENOENT", "EINTR", "EIO", "ENXIO", "EBADF", "EAGAIN", "ENOMEM", "EACCES", "EBUSY",
            "EEXIST", "ENODEV", "EINVAL", "ENOPROTOOPT", "EAFNOSUPPORT", "EOPNOTSUPP", "ENETDOWN", "ENOBUFS", "E2BIG",
            "EPROTONOSUPPORT", "ERANGE"};
        final int[] values = {EPERM, ENOENT, EINTR, EIO, ENXIO, EBADF, EAGAIN, ENOMEM, EACCES, EBUSY,
            EEXIST, ENODEV, EINVAL, ENOPROTOOPT, EAFNOSUPPORT, EOPNOTSUPP, ENETDOWN, ENOBUFS, E2BIG,
            EPROTONOSUPPORT, ERANGE_OR_MTU};
        for (int i = 0; i < values.length; i++) {
            if (values[i] == errno) {
                return names[i];
            }
        }
        return "errno " + errno;
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
