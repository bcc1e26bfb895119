package io.bypass.spi;

import io.bypass.BypassException;

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
 * The network namespace a port was opened in, as an fd of {@code /proc/thread-self/ns/net} taken on
 * the opening thread, so {@link TcpPortReservations} can bind its reserving sockets there from a
 * thread elsewhere ({@code setns(2)}, which needs CAP_SYS_ADMIN). One implementation for every
 * backend that shares the interface's address with the kernel (afxdp, efvi).
 *
 * <p>Creating a downcall handle is restricted to modules given native access, and {@code api} is
 * not one (a module-path application enables the backend it uses, nothing more), so the backend
 * binds the three libc calls through its {@link Binder}; calling them from here is not restricted.
 *
 * <pre>{@code
 * Linker linker = Linker.nativeLinker();
 * NetNamespaceFd ns = NetNamespaceFd.ofCallingThread("afxdp", iface, (name, fd) ->
 *     linker.downcallHandle(linker.defaultLookup().find(name).orElseThrow(), fd, NetNamespaceFd.ERRNO));
 * }</pre>
 */
public final class NetNamespaceFd implements TcpPortReservations.PortNamespace {
    /** The linker option the backend binds the calls with: errno captured, for the messages. */
    public static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");

    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_VALUE = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int CLONE_NEWNET = 0x40000000;
    private static final int EPERM = 1;
    private static final String THREAD_NETNS = "/proc/thread-self/ns/net";

    private final String backend;
    private final String iface;
    private final MethodHandle setns;
    private final MethodHandle close;
    private int fd;

    /**
     * Binds a libc function in the backend's module.
     */
    @FunctionalInterface
    public interface Binder {
        /**
         * @param name       the libc function
         * @param descriptor its signature
         * @return a downcall handle bound with {@link #ERRNO}
         */
        MethodHandle bind(String name, FunctionDescriptor descriptor);
    }

    private NetNamespaceFd(final String backend, final String iface, final MethodHandle setns, final MethodHandle close) {
        this.backend = backend;
        this.iface = iface;
        this.setns = setns;
        this.close = close;
    }

    /**
     * Opens the calling thread's network namespace.
     *
     * @param backend the backend's name, for messages
     * @param iface   the interface, for messages
     * @param binder  binds {@code open}, {@code setns} and {@code close} in the backend's module
     * @return the namespace, to be closed with the port
     * @throws BypassException if {@code /proc/thread-self/ns/net} cannot be opened
     */
    public static NetNamespaceFd ofCallingThread(final String backend, final String iface, final Binder binder) {
        final MethodHandle open = binder.bind("open", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
            ValueLayout.JAVA_INT));
        final NetNamespaceFd ns = new NetNamespaceFd(backend, iface,
            binder.bind("setns", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)),
            binder.bind("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)));
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment errno = a.allocate(CAPTURE);
            ns.fd = (int) open.invokeExact(errno, a.allocateFrom(THREAD_NETNS), O_RDONLY | O_CLOEXEC);
            if (ns.fd < 0) {
                throw ns.failure("open(" + THREAD_NETNS + ")", errno, "; /proc must be mounted");
            }
        } catch (final RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IllegalStateException(t);
        }
        return ns;
    }

    @Override
    public void enter() {
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment errno = a.allocate(CAPTURE);
            if ((int) setns.invokeExact(errno, fd, CLONE_NEWNET) != 0) {
                throw failure("setns(the network namespace of " + iface + ")", errno,
                    "; add the flow from a thread in the port's network namespace, or give the process CAP_SYS_ADMIN");
            }
        } catch (final RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public void close() {
        if (fd < 0) {
            return;
        }
        final int f = fd;
        fd = -1;
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment errno = a.allocate(CAPTURE);
            if ((int) close.invokeExact(errno, f) != 0) {
                throw failure("close(the network namespace fd)", errno, "");
            }
        } catch (final RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private BypassException failure(final String call, final MemorySegment errno, final String remedy) {
        final int e = (int) ERRNO_VALUE.get(errno, 0L);
        return new BypassException(backend + ": " + call + " failed: errno " + e + (e == EPERM ? " (EPERM)" : "") + remedy);
    }
}
