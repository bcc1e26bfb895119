package io.bypass.dpdk.internal;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which XDP program, if any, is attached to an interface in the calling thread's network
 * namespace: net_af_xdp attaches its own with netlink (no bpf_link), so a JVM killed with an
 * open port (SIGKILL runs no close) leaves it behind, and a later open must not silently
 * share or fight over it.
 *
 * <p>Bound by hand from libbpf.so.1 (which net_af_xdp itself needs) and libc, like
 * {@link XskLeakGuard}: four control-path calls, once per net_af_xdp open (and one netlink
 * query a second for {@link XdpProgramWatch}), not worth a libbpf header class in the
 * generated DPDK bindings.
 */
final class XdpAttachment {
    private static final int XDP_FLAGS_SKB_MODE = 1 << 1;
    private static final int XDP_FLAGS_DRV_MODE = 1 << 2;
    /** Offset of {@code name[16]} in {@code struct bpf_prog_info} (uapi linux/bpf.h), and the length asked for. */
    private static final int PROG_INFO_NAME = 64;
    private static final int PROG_INFO_LEN = 80;

    private XdpAttachment() {
    }

    /** Bound on first use; null members if libbpf.so.1 is missing (then net_af_xdp cannot load either). */
    private static final class Handles {
        static final MethodHandle IF_NAMETOINDEX;
        static final MethodHandle CLOSE;
        static final MethodHandle XDP_QUERY_ID;
        static final MethodHandle PROG_GET_FD_BY_ID;
        static final MethodHandle OBJ_GET_INFO_BY_FD;

        static {
            final Linker linker = Linker.nativeLinker();
            IF_NAMETOINDEX = Libc.IF_NAMETOINDEX;
            CLOSE = Libc.CLOSE;
            SymbolLookup bpf;
            try {
                bpf = SymbolLookup.libraryLookup("libbpf.so.1", Arena.global());
            } catch (final IllegalArgumentException e) {
                bpf = null;
            }
            XDP_QUERY_ID = bind(linker, bpf, "bpf_xdp_query_id",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            PROG_GET_FD_BY_ID = bind(linker, bpf, "bpf_prog_get_fd_by_id",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            OBJ_GET_INFO_BY_FD = bind(linker, bpf, "bpf_obj_get_info_by_fd",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
        }

        private static MethodHandle bind(final Linker linker, final SymbolLookup lib, final String name, final FunctionDescriptor fd) {
            return lib == null ? null : lib.find(name).map(a -> linker.downcallHandle(a, fd)).orElse(null);
        }
    }

    /**
     * An XDP program attached to an interface.
     *
     * @param id   its kernel id
     * @param name its name, or "?"
     */
    record Program(int id, String name) {
        @Override
        public String toString() {
            return "id " + id + " name " + name;
        }
    }

    /**
     * @param iface an interface name in the calling thread's network namespace
     * @return its ifindex, or 0 if there is none (or it cannot be asked)
     */
    static int ifindex(final String iface) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) Handles.IF_NAMETOINDEX.invokeExact(arena.allocateFrom(iface));
        } catch (final Throwable t) {
            return 0;
        }
    }

    /**
     * The id of the XDP program attached to an interface: one netlink query, off the hot path
     * (at open and in the port's periodic check).
     *
     * @param ifindex an interface index in the calling thread's network namespace
     * @return the program id, 0 if none is attached (or the interface is gone), -1 if it cannot be asked
     */
    static int programId(final int ifindex) {
        if (Handles.XDP_QUERY_ID == null) {
            return -1;
        }
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment id = arena.allocate(ValueLayout.JAVA_INT);
            boolean answered = false;
            // Flags 0 answers only when one mode is attached; with both (EINVAL) ask each mode.
            for (final int flags : new int[] {0, XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE}) {
                id.set(ValueLayout.JAVA_INT, 0, 0);
                if ((int) Handles.XDP_QUERY_ID.invokeExact(ifindex, flags, id) == 0) {
                    answered = true;
                    if (id.get(ValueLayout.JAVA_INT, 0) != 0) {
                        return id.get(ValueLayout.JAVA_INT, 0);
                    }
                }
            }
            return answered ? 0 : -1;
        } catch (final Throwable t) {
            return -1;
        }
    }

    /**
     * @param iface an interface name in the calling thread's network namespace
     * @return the XDP program attached to it, or null if none (or it cannot be asked)
     */
    static Program attachedProgram(final String iface) {
        if (Handles.XDP_QUERY_ID == null) {
            return null;
        }
        final int ifindex = ifindex(iface);
        if (ifindex == 0) {
            return null; // no such interface: the probe reports it
        }
        final int progId = programId(ifindex);
        if (progId <= 0) {
            return null;
        }
        String name = "?";
        try (Arena arena = Arena.ofConfined()) {
            if (Handles.PROG_GET_FD_BY_ID != null && Handles.OBJ_GET_INFO_BY_FD != null) {
                final int fd = (int) Handles.PROG_GET_FD_BY_ID.invokeExact(progId);
                if (fd >= 0) {
                    final MemorySegment info = arena.allocate(PROG_INFO_LEN); // zeroed, as the kernel requires
                    final MemorySegment len = arena.allocate(ValueLayout.JAVA_INT);
                    len.set(ValueLayout.JAVA_INT, 0, PROG_INFO_LEN);
                    if ((int) Handles.OBJ_GET_INFO_BY_FD.invokeExact(fd, info, len) == 0) {
                        name = info.asSlice(PROG_INFO_NAME, 16).getString(0);
                    }
                    final int ignored = (int) Handles.CLOSE.invokeExact(fd);
                }
            }
        } catch (final Throwable t) {
            // the name is a courtesy
        }
        return new Program(progId, name);
    }

    /**
     * @param iface an interface name
     * @return a key naming the interface in the calling thread's network namespace
     */
    static String key(final String iface) {
        String ns;
        try {
            ns = Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
        } catch (final IOException | UnsupportedOperationException e) {
            ns = "?";
        }
        return ns + "/" + iface;
    }
}
