package io.bypass.dpdk.internal;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few libc calls the DPDK backend makes around the PMDs' kernel sockets (their
 * statistics, their interfaces' flags), bound once here; DPDK's own API comes from the
 * jextract bindings in {@code gen}. None is called per packet.
 */
final class Libc {
    private static final Linker LINKER = Linker.nativeLinker();

    /** {@code int socket(int domain, int type, int protocol)}. */
    static final MethodHandle SOCKET = bind("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    /** {@code int ioctl(int fd, unsigned long request, void *arg)}. */
    static final MethodHandle IOCTL = bind("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS));
    /** {@code int close(int fd)}. */
    static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    /** {@code int getsockopt(int fd, int level, int name, void *value, socklen_t *length)}. */
    static final MethodHandle GETSOCKOPT = bind("getsockopt",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    /** {@code int getsockname(int fd, struct sockaddr *address, socklen_t *length)}. */
    static final MethodHandle GETSOCKNAME = bind("getsockname", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    /** {@code unsigned int if_nametoindex(const char *name)}. */
    static final MethodHandle IF_NAMETOINDEX = bind("if_nametoindex", FunctionDescriptor.of(JAVA_INT, ADDRESS));

    private Libc() {
    }

    private static MethodHandle bind(final String name, final FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd);
    }
}
