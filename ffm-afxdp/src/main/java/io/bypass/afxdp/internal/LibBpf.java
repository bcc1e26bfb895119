package io.bypass.afxdp.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayDeque;
import java.util.Deque;

import io.bypass.afxdp.internal.gen.Libbpf;
import io.bypass.afxdp.internal.gen.Sys;
import io.bypass.afxdp.internal.gen.bpf_link_create_opts;
import io.bypass.afxdp.internal.gen.bpf_prog_info;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The libbpf calls of the backend (control path only: load, attach, map updates), from
 * jextract's {@link Libbpf} linked here with errno capture. Loading this class loads
 * libbpf.so.1; {@link Probe} checks that first, so a missing library makes the backend
 * unavailable instead of failing here.
 * libbpf's log is captured (not printed) and attached to the exceptions we raise.
 */
public final class LibBpf {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");

    private static final MethodHandle OBJECT_OPEN_MEM = bind(Libbpf.bpf_object__open_mem$address(),
        Libbpf.bpf_object__open_mem$descriptor());
    private static final MethodHandle OBJECT_LOAD = bind(Libbpf.bpf_object__load$address(), Libbpf.bpf_object__load$descriptor());
    private static final MethodHandle FIND_PROGRAM = bind(Libbpf.bpf_object__find_program_by_name$address(),
        Libbpf.bpf_object__find_program_by_name$descriptor());
    private static final MethodHandle FIND_MAP = bind(Libbpf.bpf_object__find_map_by_name$address(),
        Libbpf.bpf_object__find_map_by_name$descriptor());
    private static final MethodHandle PROGRAM_FD = bind(Libbpf.bpf_program__fd$address(), Libbpf.bpf_program__fd$descriptor());
    private static final MethodHandle MAP_FD = bind(Libbpf.bpf_map__fd$address(), Libbpf.bpf_map__fd$descriptor());
    private static final MethodHandle LINK_CREATE = bind(Libbpf.bpf_link_create$address(), Libbpf.bpf_link_create$descriptor());
    private static final MethodHandle MAP_UPDATE = bind(Libbpf.bpf_map_update_elem$address(),
        Libbpf.bpf_map_update_elem$descriptor());
    private static final MethodHandle MAP_DELETE = bind(Libbpf.bpf_map_delete_elem$address(),
        Libbpf.bpf_map_delete_elem$descriptor());
    private static final MethodHandle MAP_LOOKUP = bind(Libbpf.bpf_map_lookup_elem$address(),
        Libbpf.bpf_map_lookup_elem$descriptor());
    // Without errno capture (libbpf returns -errno anyway): allocation-free even when not compiled, for counters.
    private static final MethodHandle MAP_LOOKUP_NO_ERRNO = LINKER.downcallHandle(Libbpf.bpf_map_lookup_elem$address(),
        Libbpf.bpf_map_lookup_elem$descriptor());
    private static final MethodHandle XDP_QUERY_ID = bind(Libbpf.bpf_xdp_query_id$address(), Libbpf.bpf_xdp_query_id$descriptor());
    private static final MethodHandle PROG_GET_FD_BY_ID = bind(Libbpf.bpf_prog_get_fd_by_id$address(),
        Libbpf.bpf_prog_get_fd_by_id$descriptor());
    private static final MethodHandle OBJ_GET_INFO_BY_FD = bind(Libbpf.bpf_obj_get_info_by_fd$address(),
        Libbpf.bpf_obj_get_info_by_fd$descriptor());

    /** enum bpf_attach_type BPF_XDP. */
    static final int BPF_XDP = Libbpf.BPF_XDP();
    /** bpf_map_update_elem: create or replace. */
    static final long BPF_ANY = Libbpf.BPF_ANY();


    private static final Deque<String> LOG = new ArrayDeque<>();
    private static final int LOG_LINES = 8;

    static {
        installLogger();
    }

    private LibBpf() {
    }

    private static MethodHandle bind(final MemorySegment address, final FunctionDescriptor fd) {
        return LINKER.downcallHandle(address, fd, ERRNO);
    }

    /**
     * Forces loading of libbpf; throws if it is missing.
     *
     */
    public static void load() {
        // The static initialiser did the work.
    }

    // libbpf prints warnings to stderr by default; we keep the last few lines instead and
    // put them into our exception messages, where they belong.
    private static void installLogger() {
        try {
            final MethodHandle target = MethodHandles.lookup().findStatic(LibBpf.class, "log",
                MethodType.methodType(int.class, int.class, MemorySegment.class, MemorySegment.class));
            final MemorySegment stub = LINKER.upcallStub(target,
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), Arena.global());
            Libbpf.libbpf_set_print(stub);
        } catch (final ReflectiveOperationException e) {
            throw new IllegalStateException("cannot install the libbpf log callback", e);
        }
    }

    @SuppressWarnings("unused") // upcall target
    private static int log(final int level, final MemorySegment format, final MemorySegment args) {
        try (Arena arena = Arena.ofConfined()) {
            // va_list is passed as a pointer on x86-64 and aarch64, so vsnprintf can expand it.
            final MemorySegment buf = arena.allocate(512);
            if (Sys.vsnprintf(buf, buf.byteSize(), format, args) <= 0) {
                return 0;
            }
            final String line = buf.getString(0).strip();
            synchronized (LOG) {
                if (LOG.size() == LOG_LINES) {
                    LOG.removeFirst();
                }
                LOG.addLast(line);
            }
        } catch (final Throwable ignored) {
            // An upcall must not throw: that would crash the JVM.
        }
        return 0;
    }

    /**
     * @return libbpf's log lines since the last call, joined, or an empty string
     */
    public static String drainLog() {
        synchronized (LOG) {
            if (LOG.isEmpty()) {
                return "";
            }
            final String s = String.join(" | ", LOG);
            LOG.clear();
            return s;
        }
    }

    /**
     * bpf_object__open_mem(buf, size, NULL).
     *
     * @param errno errno capture segment ({@link Errno#allocate})
     * @param buf the buffer
     * @return the call's result (negative errno or NULL on failure, see libbpf)
     */
    public static MemorySegment objectOpenMem(final MemorySegment errno, final MemorySegment buf) {
        try {
            return (MemorySegment) OBJECT_OPEN_MEM.invokeExact(errno, buf, buf.byteSize(), MemorySegment.NULL);
        } catch (final Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * bpf_object__load(obj).
     *
     * @param errno errno capture segment ({@link Errno#allocate})
     * @param obj a {@code struct bpf_object *}
     * @return the call's result (negative errno or NULL on failure, see libbpf)
     */
    public static int objectLoad(final MemorySegment errno, final MemorySegment obj) {
        try {
            return (int) OBJECT_LOAD.invokeExact(errno, obj);
        } catch (final Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * bpf_object__close(obj).
     *
     * @param obj a {@code struct bpf_object *}
     */
    public static void objectClose(final MemorySegment obj) {
        try {
            Libbpf.bpf_object__close(obj);
        } catch (final Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * bpf_object__find_program_by_name(obj, name).
     *
     * @param errno errno capture segment ({@link Errno#allocate})
     * @param obj a {@code struct bpf_object *}
     * @param name the name in the object
     * @return the call's result (negative errno or NULL on failure, see libbpf)
     */
    public static MemorySegment findProgram(final MemorySegment errno, final MemorySegment obj, final String name) {
        try (Arena arena = Arena.ofConfined()) {
            return (MemorySegment) FIND_PROGRAM.invokeExact(errno, obj, arena.allocateFrom(name));
        } catch (final Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * bpf_object__find_map_by_name(obj, name).
     *
     * @param errno errno capture segment ({@link Errno#allocate})
     * @param obj a {@code struct bpf_object *}
     * @param name the name in the object
     * @return the call's result (negative errno or NULL on failure, see libbpf)
     */
    public static MemorySegment findMap(final MemorySegment errno, final MemorySegment obj, final String name) {
        try (Arena arena = Arena.ofConfined()) {
            return (MemorySegment) FIND_MAP.invokeExact(errno, obj, arena.allocateFrom(name));
        } catch (final Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * bpf_program__fd(prog).
     *
     * @param errno errno capture segment ({@link Errno#allocate})
     * @param prog a {@code struct bpf_program *}
     * @return the call's result (negative errno or NULL on failure, see libbpf)
     */
    public static int programFd(final MemorySegment errno, final MemorySegment prog) {
        try {
            return (int) PROGRAM_FD.invokeExact(errno, prog);
        } catch (final Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * bpf_map__fd(map).
     *
     * @param errno errno capture segment ({@link Errno#allocate})
     * @param map a {@code struct bpf_map *}
     * @return the call's result (negative errno or NULL on failure, see libbpf)
     */
    public static int mapFd(final MemorySegment errno, final MemorySegment map) {
        try {
            return (int) MAP_FD.invokeExact(errno, map);
        } catch (final Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * bpf_link_create(progFd, ifindex, BPF_XDP, opts with flags).
     *
     * @param errno errno capture segment ({@link Errno#allocate})
     * @param progFd the loaded program
     * @param ifindex the interface
     * @param xdpFlags XDP_FLAGS_* attach mode
     * @return the call's result (negative errno or NULL on failure, see libbpf)
     */
    public static int linkCreateXdp(final MemorySegment errno, final int progFd, final int ifindex, final int xdpFlags) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment opts = bpf_link_create_opts.allocate(arena);
            bpf_link_create_opts.sz(opts, bpf_link_create_opts.sizeof());
            bpf_link_create_opts.flags(opts, xdpFlags);
            return (int) LINK_CREATE.invokeExact(errno, progFd, ifindex, BPF_XDP, opts);
        } catch (final Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * bpf_map_update_elem(fd, key, value, flags).
     *
     * @param errno errno capture segment ({@link Errno#allocate})
     * @param fd file descriptor
     * @param key the key
     * @param value the value
     * @param flags flags
     * @return the call's result (negative errno or NULL on failure, see libbpf)
     */
    public static int mapUpdate(final MemorySegment errno, final int fd, final MemorySegment key, final MemorySegment value,
                                final long flags) {
        try {
            return (int) MAP_UPDATE.invokeExact(errno, fd, key, value, flags);
        } catch (final Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * bpf_map_lookup_elem(fd, key, value): for a per-CPU map, {@code value} receives one
     * value (rounded up to 8 bytes) per possible CPU.
     *
     * @param errno errno capture segment ({@link Errno#allocate})
     * @param fd file descriptor
     * @param key the key
     * @param value where the value is copied
     * @return 0, or a negative errno (see libbpf)
     */
    public static int mapLookup(final MemorySegment errno, final int fd, final MemorySegment key, final MemorySegment value) {
        try {
            return (int) MAP_LOOKUP.invokeExact(errno, fd, key, value);
        } catch (final Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * bpf_map_lookup_elem(fd, key, value) without errno capture, which allocates nothing even when
     * not compiled: for counters read on the publisher thread.
     *
     * @param fd    file descriptor
     * @param key   the key
     * @param value where the value goes
     * @return 0, or a negative errno (libbpf's convention)
     */
    public static int mapLookupNoErrno(final int fd, final MemorySegment key, final MemorySegment value) {
        try {
            return (int) MAP_LOOKUP_NO_ERRNO.invokeExact(fd, key, value);
        } catch (final Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * bpf_map_delete_elem(fd, key).
     *
     * @param errno errno capture segment ({@link Errno#allocate})
     * @param fd file descriptor
     * @param key the key
     * @return the call's result (negative errno or NULL on failure, see libbpf)
     */
    public static int mapDelete(final MemorySegment errno, final int fd, final MemorySegment key) {
        try {
            return (int) MAP_DELETE.invokeExact(errno, fd, key);
        } catch (final Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * The XDP program attached to an interface, if any: its id and name.
     *
     * @param ifindex the interface
     * @return {@code "id N name X"}, or null if none is attached or the query failed
     */
    public static String attachedProgram(final int ifindex) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment errno = Errno.allocate(arena);
            final MemorySegment id = arena.allocate(JAVA_INT);
            final int rc = (int) XDP_QUERY_ID.invokeExact(errno, ifindex, 0, id);
            final int progId = id.get(JAVA_INT, 0);
            if (rc != 0 || progId == 0) {
                return null;
            }
            String name = "?";
            final int fd = (int) PROG_GET_FD_BY_ID.invokeExact(errno, progId);
            if (fd >= 0) {
                final MemorySegment info = bpf_prog_info.allocate(arena);
                final MemorySegment len = arena.allocate(JAVA_INT);
                len.set(JAVA_INT, 0, (int) bpf_prog_info.sizeof());
                if ((int) OBJ_GET_INFO_BY_FD.invokeExact(errno, fd, info, len) == 0) {
                    name = bpf_prog_info.name(info).getString(0);
                }
                Libc.close(errno, fd);
            }
            return "id " + progId + " name " + name;
        } catch (final Throwable t) {
            return null;
        }
    }
}
