package io.bypass.threads;

import io.bypass.BypassException;
import io.bypass.spi.TcpPortReservations;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The network namespace of the thread that created it, held as an fd of
 * {@code /proc/thread-self/ns/net}, so work for a port opened in that namespace can run from a
 * thread elsewhere: {@link #enter()} moves the calling thread into it ({@code setns(2)}, which
 * needs CAP_SYS_ADMIN). The afxdp and efvi backends give one to {@link TcpPortReservations}, whose
 * reserving sockets must be bound where the port's interface lives.
 *
 * <pre>{@code
 * ThreadNetNamespace ns = new ThreadNetNamespace("afxdp port on eth1"); // on the opening thread
 * new TcpPortReservations("afxdp", "eth1", ns);
 * }</pre>
 */
public final class ThreadNetNamespace implements TcpPortReservations.PortNamespace {
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int CLONE_NEWNET = 0x40000000;
    private static final String THREAD_NETNS = "/proc/thread-self/ns/net";

    private final String owner;
    private int fd;

    /** The libc calls, bound on first use. */
    private static final class Calls {
        static final MethodHandle OPEN = Libc.bind("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        static final MethodHandle SETNS = Libc.bind("setns",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        static final MethodHandle CLOSE = Libc.bind("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

        private Calls() {
        }
    }

    /**
     * Opens the calling thread's network namespace.
     *
     * @param owner what it is for, in messages (for example "afxdp port on eth1")
     * @throws BypassException if {@code /proc/thread-self/ns/net} cannot be opened
     */
    public ThreadNetNamespace(final String owner) {
        this.owner = owner;
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment state = Libc.callState(a);
            fd = (int) Calls.OPEN.invokeExact(state, a.allocateFrom(THREAD_NETNS), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                throw new BypassException(owner + ": open(" + THREAD_NETNS + ") failed: " + Libc.strerror(Libc.errno(state))
                    + "; /proc must be mounted");
            }
        } catch (final RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Moves the calling thread into the namespace.
     *
     * @throws BypassException if {@code setns} fails (EPERM without CAP_SYS_ADMIN)
     */
    @Override
    public void enter() {
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment state = Libc.callState(a);
            final int rc = (int) Calls.SETNS.invokeExact(state, fd, CLONE_NEWNET);
            if (rc != 0) {
                throw new BypassException(owner + ": setns(its network namespace) failed: " + Libc.strerror(Libc.errno(state))
                    + "; add the flow from a thread in the port's network namespace, or give the process CAP_SYS_ADMIN");
            }
        } catch (final RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Closes the fd; idempotent. */
    @Override
    public void close() {
        if (fd >= 0) {
            final int f = fd;
            fd = -1;
            try (Arena a = Arena.ofConfined()) {
                final int rc = (int) Calls.CLOSE.invokeExact(Libc.callState(a), f);
                assert rc == 0 || rc == -1;
            } catch (final RuntimeException | Error e) {
                throw e;
            } catch (final Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }
}
