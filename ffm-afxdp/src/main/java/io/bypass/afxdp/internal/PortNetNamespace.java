package io.bypass.afxdp.internal;

import io.bypass.spi.TcpPortReservations;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The network namespace an afxdp port was opened in, as an fd of {@code /proc/thread-self/ns/net}
 * taken on the opening thread, so {@link TcpPortReservations} can bind its reserving sockets there
 * from a thread elsewhere ({@code setns(2)}, which needs CAP_SYS_ADMIN).
 */
final class PortNetNamespace implements TcpPortReservations.PortNamespace {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int CLONE_NEWNET = 0x40000000;
    private static final String THREAD_NETNS = "/proc/thread-self/ns/net";

    private final String iface;
    private int fd;

    /** The libc calls, bound on first use. */
    private static final class Calls {
        static final MethodHandle OPEN = bind("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        static final MethodHandle SETNS = bind("setns",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

        private Calls() {
        }

        private static MethodHandle bind(final String name, final FunctionDescriptor fd) {
            return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd, ERRNO);
        }
    }

    /**
     * Opens the calling thread's namespace.
     *
     * @param iface the interface, for messages
     */
    PortNetNamespace(final String iface) {
        this.iface = iface;
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment errno = Errno.allocate(a);
            fd = (int) Calls.OPEN.invokeExact(errno, a.allocateFrom(THREAD_NETNS), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                throw Errno.failure("open(" + THREAD_NETNS + ")", Errno.get(errno), "/proc must be mounted");
            }
        } catch (final RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public void enter() {
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment errno = Errno.allocate(a);
            final int rc = (int) Calls.SETNS.invokeExact(errno, fd, CLONE_NEWNET);
            if (rc != 0) {
                throw Errno.failure("setns(the network namespace of " + iface + ")", Errno.get(errno),
                    "add the flow from a thread in the port's network namespace, or give the process CAP_SYS_ADMIN");
            }
        } catch (final RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public void close() {
        if (fd >= 0) {
            final int f = fd;
            fd = -1;
            try (Arena a = Arena.ofConfined()) {
                Libc.close(Errno.allocate(a), f);
            }
        }
    }
}
