package io.bypass.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A single thread that has entered a network namespace with {@code setns(2)}
 * ({@link NetNamespace}). Network namespaces are per thread, so sockets (and the endpoints
 * and ports built on them) created by tasks run here belong to that namespace, and keep
 * belonging to it when later used from other threads. The JVM's other threads stay where
 * they were. Beware: {@link java.net.NetworkInterface} looks interfaces up by name on each
 * query ({@code getHardwareAddress}, {@code isUp}...), so call those on this executor too.
 *
 * <pre>{@code
 * UdpEndpoint dut = veth.executorA().call(() -> Bypass.openUdp("nio:" + veth.ifaceA()));
 * }</pre>
 */
public final class NetnsExecutor implements AutoCloseable {
    private static final long CALL_TIMEOUT_SECONDS = 120;

    private final String namespace;
    private final LinkedBlockingQueue<FutureTask<?>> tasks = new LinkedBlockingQueue<>();
    private final Thread thread;
    private final CompletableFuture<Void> entered = new CompletableFuture<>();
    private volatile boolean closed;

    /**
     * Starts a thread and moves it into {@code /var/run/netns/NAMESPACE}.
     *
     * @param namespace the namespace name
     * @throws IllegalStateException with the errno text if setns fails
     */
    public NetnsExecutor(final String namespace) {
        this.namespace = namespace;
        this.thread = new Thread(this::loop, "netns-" + namespace);
        thread.setDaemon(true);
        thread.start();
        try {
            entered.get(30, TimeUnit.SECONDS);
        } catch (final ExecutionException e) {
            close();
            throw new IllegalStateException("cannot enter network namespace " + namespace + ": " + e.getCause().getMessage(), e.getCause());
        } catch (final InterruptedException | TimeoutException e) {
            close();
            throw new IllegalStateException("cannot enter network namespace " + namespace, e);
        }
    }

    /**
     * @return the namespace this executor's thread lives in
     */
    public String namespace() {
        return namespace;
    }

    private void loop() {
        try {
            enter(namespace);
            entered.complete(null);
        } catch (final Throwable t) {
            entered.completeExceptionally(t);
            return;
        }
        while (!closed) {
            final FutureTask<?> task;
            try {
                task = tasks.poll(100, TimeUnit.MILLISECONDS);
            } catch (final InterruptedException e) {
                continue;
            }
            if (task != null) {
                task.run(); // FutureTask captures every Throwable, so this thread never dies early
            }
        }
        FutureTask<?> left;
        while ((left = tasks.poll()) != null) {
            left.cancel(false);
        }
    }

    private static void enter(final String namespace) throws Exception {
        final Path nsPath = Path.of("/var/run/netns", namespace);
        NetNamespace.enterPath(nsPath.toString());
        // Prove it: this thread's net namespace inode must now be the named one's.
        final String link = Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
        final Object inode = Files.getAttribute(nsPath, "unix:ino");
        if (!link.equals("net:[" + inode + "]")) {
            throw new IllegalStateException("after setns this thread is in " + link + ", not " + nsPath + " (inode " + inode + ")");
        }
    }

    /**
     * Runs {@code task} on the namespace thread and returns its result.
     *
     * @param task the work; sockets it opens live in the namespace
     * @param <T>  result type
     * @return what the task returned
     * @throws Exception what the task threw, unchanged
     */
    public <T> T call(final Callable<T> task) throws Exception {
        if (Thread.currentThread() == thread) {
            return task.call();
        }
        if (closed) {
            throw new IllegalStateException("executor for " + namespace + " is closed");
        }
        final FutureTask<T> f = new FutureTask<>(task);
        tasks.add(f);
        try {
            return f.get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (final ExecutionException e) {
            final Throwable cause = e.getCause();
            if (cause instanceof Exception ex) {
                throw ex;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw e;
        } catch (final TimeoutException e) {
            f.cancel(true);
            throw new TimeoutException("task in namespace " + namespace + " did not finish in " + CALL_TIMEOUT_SECONDS + " s");
        }
    }

    /**
     * Runs {@code task} on the namespace thread.
     *
     * @param task the work
     * @throws Exception what the task threw
     */
    public void run(final ThrowingRunnable task) throws Exception {
        call(() -> {
            task.run();
            return null;
        });
    }

    /**
     * Stops the thread after the running task, and waits up to 10 s for it. Idempotent.
     */
    @Override
    public void close() {
        stop();
        if (Thread.currentThread() != thread) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(10));
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Stops the thread after the running task, without waiting for it (at JVM exit). */
    void stop() {
        closed = true;
    }

    /**
     * A task that may throw, for {@link #run(ThrowingRunnable)}.
     */
    @FunctionalInterface
    public interface ThrowingRunnable {
        /**
         * Does the work.
         *
         * @throws Exception anything
         */
        void run() throws Exception;
    }
}
