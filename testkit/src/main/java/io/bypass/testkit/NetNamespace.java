package io.bypass.testkit;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.Callable;

/**
 * Moves the calling thread into a named network namespace ({@code ip netns add NAME}
 * creates {@code /var/run/netns/NAME}) with {@code setns(2)}. Sockets and AF_XDP
 * sockets opened afterwards by that thread live in that namespace, and keep living there
 * when other threads use them. The JVM's other threads stay where they were.
 */
public final class NetNamespace {
    private NetNamespace() {
    }

    /**
     * Enters {@code /var/run/netns/NAME} for the calling thread only.
     *
     * @param name namespace name
     * @throws IllegalStateException naming the failing call, errno and the remedy
     */
    public static void enter(final String name) {
        enterPath("/var/run/netns/" + name);
    }

    /**
     * Enters the network namespace at a path such as {@code /proc/1/ns/net}.
     *
     * @param path the namespace file
     */
    public static void enterPath(final String path) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment state = Libc.callState(arena);
            final int fd = (int) Libc.OPEN.invokeExact(state, arena.allocateFrom(path), Libc.O_RDONLY | Libc.O_CLOEXEC);
            if (fd < 0) {
                throw new IllegalStateException("open(" + path + ") failed: " + Libc.strerror(Libc.errno(state))
                    + "; does the namespace exist (ip netns list)?");
            }
            final int rc = (int) Libc.SETNS.invokeExact(state, fd, Libc.CLONE_NEWNET);
            final int errno = rc == 0 ? 0 : Libc.errno(state);
            final int ignored = (int) Libc.CLOSE.invokeExact(state, fd);
            if (rc != 0) {
                throw new IllegalStateException("setns(" + path + ", CLONE_NEWNET) failed: " + Libc.strerror(errno)
                    + "; entering a network namespace needs CAP_SYS_ADMIN (run as root)");
            }
        } catch (final RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Runs {@code task} on a fresh thread inside namespace {@code name} and returns its result.
     *
     * @param name the namespace
     * @param task the work
     * @param <T>  result type
     * @return what the task returned
     * @throws Exception what the task threw
     */
    public static <T> T call(final String name, final Callable<T> task) throws Exception {
        final AtomicReference<T> result = new AtomicReference<>();
        final AtomicReference<Exception> failure = new AtomicReference<>();
        final Thread t = new Thread(() -> {
            try {
                enter(name);
                result.set(task.call());
            } catch (final Exception e) {
                failure.set(e);
            }
        }, "netns-" + name);
        t.start();
        t.join();
        if (failure.get() != null) {
            throw failure.get();
        }
        return result.get();
    }
}
