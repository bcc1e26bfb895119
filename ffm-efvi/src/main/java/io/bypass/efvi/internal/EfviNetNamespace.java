package io.bypass.efvi.internal;

import io.bypass.BypassException;
import io.bypass.spi.TcpPortReservations;

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
 * The network namespace an efvi port was opened in, as an fd of {@code /proc/thread-self/ns/net}
 * taken on the opening thread, so {@link TcpPortReservations} can bind its reserving sockets there
 * from a thread elsewhere ({@code setns(2)}, which needs CAP_SYS_ADMIN). libc is bound here by
 * hand, as in {@link MalformedTap}: the jextract bindings of this module cover the shim's header only.
 */
final class EfviNetNamespace implements TcpPortReservations.PortNamespace {
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int CLONE_NEWNET = 0x40000000;
    private static final String THREAD_NETNS = "/proc/thread-self/ns/net";
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle OPEN = bind("open", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle SETNS = bind("setns", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private int fd;

    /** Opens the calling thread's namespace. */
    EfviNetNamespace() {
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment errno = a.allocate(CAPTURE);
            fd = (int) OPEN.invokeExact(errno, a.allocateFrom(THREAD_NETNS), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                throw new BypassException("efvi: open(" + THREAD_NETNS + ") failed: errno " + (int) ERRNO.get(errno, 0L)
                    + "; /proc must be mounted");
            }
        } catch (final RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static MethodHandle bind(final String name, final FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd, Linker.Option.captureCallState("errno"));
    }

    @Override
    public void enter() {
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment errno = a.allocate(CAPTURE);
            final int rc = (int) SETNS.invokeExact(errno, fd, CLONE_NEWNET);
            if (rc != 0) {
                final int e = (int) ERRNO.get(errno, 0L);
                throw new BypassException("efvi: setns(the port's network namespace) failed: errno " + e
                    + (e == 1 ? " (EPERM)" : "") + "; add the flow from a thread in the port's network namespace,"
                    + " or give the process CAP_SYS_ADMIN");
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
                final MemorySegment errno = a.allocate(CAPTURE);
                final int rc = (int) CLOSE.invokeExact(errno, f);
                if (rc != 0) {
                    throw new BypassException("efvi: close(the network namespace fd) failed: errno " + (int) ERRNO.get(errno, 0L));
                }
            } catch (final RuntimeException | Error e) {
                throw e;
            } catch (final Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }
}
