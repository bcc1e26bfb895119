package io.bypass.dpdk.internal;

import io.bypass.BypassException;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A port's control thread, on which every control-path step runs. Control-path calls of vdev
 * PMDs name the kernel interface (ioctl by name, netlink by ifindex) in the calling thread's
 * network namespace. A thread inherits its creator's namespace, so this thread, started on the
 * opening thread, stays in the port's namespace whichever thread asks later; closing net_af_xdp
 * from another namespace would detach XDP from whatever has that ifindex there. It also runs the
 * periodic check of net_af_xdp's XDP program; {@link #shutdown()} cancels that check.
 */
final class ControlThread {
    private final String deviceName;
    private final Supplier<BypassException> closed;
    private final ScheduledThreadPoolExecutor executor;
    private volatile Thread thread;

    /**
     * Starts the thread; call on the opening thread, in the port's network namespace.
     *
     * @param deviceName the device, for the thread's name and messages
     * @param closed     the exception for a step asked of a closed port
     */
    ControlThread(final String deviceName, final Supplier<BypassException> closed) {
        this.deviceName = deviceName;
        this.closed = closed;
        this.executor = new ScheduledThreadPoolExecutor(1, r -> {
            final Thread t = new Thread(r, "bypass-dpdk-control-" + deviceName);
            t.setDaemon(true);
            thread = t;
            return t;
        });
        executor.prestartCoreThread();
    }

    /**
     * Runs a step on the control thread and waits for it; on the control thread itself, runs it at once.
     *
     * @param task the step
     * @param <T>  what it returns
     * @return what it returned
     * @throws BypassException if the port is closed, the wait is interrupted, or the step threw a checked exception
     */
    <T> T call(final Callable<T> task) {
        if (Thread.currentThread() == thread) {
            try {
                return task.call();
            } catch (final RuntimeException e) {
                throw e;
            } catch (final Exception e) {
                throw new BypassException("dpdk: " + e, e);
            }
        }
        final Future<T> f;
        try {
            f = executor.submit(task);
        } catch (final RejectedExecutionException e) {
            throw closed.get();
        }
        try {
            return f.get();
        } catch (final ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new BypassException("dpdk: " + e.getCause(), e.getCause());
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BypassException("dpdk: interrupted waiting for the control thread of " + deviceName);
        }
    }

    /**
     * Runs a step on the control thread and waits for it.
     *
     * @param task the step
     */
    void run(final Runnable task) {
        call(() -> {
            task.run();
            return null;
        });
    }

    /**
     * Runs {@code task} every {@code periodMillis}, first after one period, until {@link #shutdown()}.
     *
     * @param task         the check
     * @param periodMillis the period
     */
    void every(final Runnable task, final long periodMillis) {
        executor.scheduleWithFixedDelay(task, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    /** Refuses further steps and cancels the periodic ones; a step running now finishes. */
    void shutdown() {
        executor.shutdown();
    }
}
