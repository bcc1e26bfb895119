package io.bypass.afxdp.internal;

import io.bypass.BackendUnavailableException;
import io.bypass.spi.JvmFlags;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.util.Locale;

/**
 * Probes once whether this host can run the backend (Linux, libbpf loadable, AF_XDP
 * sockets creatable with our privileges, XDP program in the jar) and caches the cause.
 */
public final class Probe {
    private static final Throwable CAUSE = probe();

    private Probe() {
    }

    /**
     * @return null if available, else why not (with the remedy)
     */
    public static Throwable cause() {
        return CAUSE;
    }

    private static Throwable probe() {
        // Before any restricted call: the JDK marks a module enabled once it has warned.
        final Throwable flags = JvmFlags.cause(Probe.class, true);
        if (flags != null) {
            return flags;
        }
        try {
            if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
                return new BackendUnavailableException("AF_XDP needs Linux (this is " + System.getProperty("os.name") + ")", null);
            }
            try (Arena probe = Arena.ofConfined()) {
                // Probe the library first: the generated Libbpf class throws from its static
                // initialiser when it is missing, and a class that failed to initialise stays broken.
                SymbolLookup.libraryLookup("libbpf.so.1", probe);
            } catch (final IllegalArgumentException e) {
                return new BackendUnavailableException("libbpf.so.1 not found (" + e.getMessage()
                    + "); install it: apt-get install libbpf1 libxdp1", e);
            }
            try {
                LibBpf.load();
            } catch (final Throwable t) {
                return new BackendUnavailableException("libbpf.so.1 cannot be loaded (" + t
                    + "); install it: apt-get install libbpf1 libxdp1", t);
            }
            if (Probe.class.getResource(XdpProgram.RESOURCE) == null) {
                return new BackendUnavailableException(XdpProgram.RESOURCE
                    + " is missing from the bypass-afxdp jar; rebuild it with clang installed (apt-get install clang llvm libbpf-dev)", null);
            }
            try (Arena arena = Arena.ofConfined()) {
                final MemorySegment errno = Errno.allocate(arena);
                final int fd = Libc.socket(errno, Constants.AF_XDP, Constants.SOCK_RAW | Constants.SOCK_CLOEXEC, 0);
                if (fd < 0) {
                    final int err = Errno.get(errno);
                    return new BackendUnavailableException("cannot create an AF_XDP socket: " + Errno.describe(err) + "; "
                        + (err == Errno.EAFNOSUPPORT ? "this kernel has no AF_XDP (CONFIG_XDP_SOCKETS); use Linux 5.10 or newer"
                        : Errno.privilegeRemedy()), null);
                }
                Libc.close(errno, fd);
            }
            return null;
        } catch (final Throwable t) {
            return new BackendUnavailableException("AF_XDP probe failed: " + t, t);
        }
    }
}
