package io.bypass.afxdp.internal;

import io.bypass.BypassException;
import io.bypass.afxdp.internal.gen.Sys;
import io.bypass.spi.PrivilegeNeeds;
import io.bypass.spi.Privileges;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;
import java.util.List;

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
    /** Too many open files in this process. */
    public static final int EMFILE = 24;
    /** Too many open files in the system. */
    public static final int ENFILE = 23;
    /** Bad address. */
    public static final int EFAULT = 14;
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
            "EPROTONOSUPPORT", "ERANGE", "EMFILE", "ENFILE", "EFAULT"};
        final int[] values = {EPERM, ENOENT, EINTR, EIO, ENXIO, EBADF, EAGAIN, ENOMEM, EACCES, EBUSY,
            EEXIST, ENODEV, EINVAL, ENOPROTOOPT, EAFNOSUPPORT, EOPNOTSUPP, ENETDOWN, ENOBUFS, E2BIG,
            EPROTONOSUPPORT, ERANGE_OR_MTU, EMFILE, ENFILE, EFAULT};
        for (int i = 0; i < values.length; i++) {
            if (values[i] == errno) {
                return names[i];
            }
        }
        return "errno " + errno;
    }

    /**
     * The capabilities an afxdp port needs (Linux 5.8+; measured on 6.18, where the open fails
     * without any one of them): an AF_XDP socket needs CAP_NET_RAW; loading the XDP program and its
     * maps CAP_BPF and CAP_NET_ADMIN (an XDP program is a networking program); the verifier refuses
     * the program (EACCES) without CAP_PERFMON, whose absence turns on its Spectre hardening;
     * attaching it CAP_NET_ADMIN. The UMEM is locked memory besides: CAP_IPC_LOCK or RLIMIT_MEMLOCK.
     */
    public static final List<String> CAPABILITIES = List.of(Privileges.CAP_NET_RAW, Privileges.CAP_NET_ADMIN,
        Privileges.CAP_BPF, Privileges.CAP_PERFMON);

    /**
     * @param lockedBytes what the port locks, or {@link PrivilegeNeeds#UNKNOWN_BYTES}
     * @return what an afxdp port needs
     */
    public static PrivilegeNeeds needs(final long lockedBytes) {
        return new PrivilegeNeeds(CAPABILITIES, lockedBytes, "without CAP_IPC_LOCK the kernel charges every UMEM to its user:"
            + " all of one user's afxdp ports, in every process, must fit its RLIMIT_MEMLOCK together");
    }

    /**
     * @return the remedy for a call refused for want of a capability: which are missing and how to give them
     */
    public static String privilegeRemedy() {
        return Privileges.capabilityRemedy("afxdp", needs(PrivilegeNeeds.UNKNOWN_BYTES));
    }

    /**
     * What to do when the kernel refuses to load the program or create its maps.
     *
     * @param err the errno
     * @return the remedy, or null for one derived from errno alone
     */
    public static String loadRemedy(final int err) {
        if (err == EPERM || (err == EACCES && !Privileges.missing(CAPABILITIES).isEmpty())) {
            // EPERM: no CAP_BPF or CAP_NET_ADMIN; EACCES: the verifier's Spectre hardening without CAP_PERFMON.
            return privilegeRemedy();
        }
        if (err == EACCES) {
            return "the kernel's BPF verifier refused the program (its log follows): Linux 5.10 or newer is needed;"
                + " report it with 'uname -r' if this kernel is newer";
        }
        if (err == ENOMEM || err == E2BIG) {
            return "the kernel could not allocate the program's maps: Linux 5.11+ charges them to the memory cgroup"
                + " (systemd MemoryMax=), older kernels to RLIMIT_MEMLOCK (LimitMEMLOCK=)";
        }
        if (err == EINVAL) {
            return "this kernel lacks a BPF feature the program uses (bpf_link for XDP, per-CPU arrays): use Linux 5.10 or newer";
        }
        return null;
    }

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
            r = privilegeRemedy();
        } else if (r == null && (errno == EMFILE || errno == ENFILE)) {
            r = "out of file descriptors (each queue takes a socket, the program and its maps a few more): raise the limit"
                + " (systemd LimitNOFILE=, ulimit -n)";
        }
        return new BypassException("afxdp: " + call + " failed: " + describe(errno) + (r == null ? "" : "; " + r));
    }
}
