package io.bypass.spi;

import io.bypass.BypassException;

import java.util.ArrayList;
import java.util.List;

/**
 * The one close policy of every port and endpoint, in the spirit of Agrona's
 * {@code CloseHelper}: free everything, then report every failure. Each step runs even when
 * an earlier one failed; at the end {@link #throwIfFailed()} throws one
 * {@link BypassException} whose message names every failed step, whose cause is the first
 * failure and which carries each further failure as {@linkplain Throwable#getSuppressed()
 * suppressed}.
 *
 * <pre>{@code
 * public void close() {
 *     if (isClosed()) {
 *         return;
 *     }
 *     markClosed();
 *     final Closer closer = new Closer("afxdp: closing " + uri());
 *     closer.close("detaching the XDP program", program);    // null: nothing to do
 *     closer.run("unmapping the UMEM", () -> munmap(umem));
 *     if (rc < 0) {
 *         closer.failed("rte_eth_dev_stop", strerror(rc));  // a failure returned as a code
 *     }
 *     closer.throwIfFailed();
 * }
 * }</pre>
 *
 * <p>Where a close must not throw, the same steps report another way: after a failed open,
 * {@link #addSuppressedTo(Throwable)} (or {@link #closeAfterFailure(Throwable, AutoCloseable)})
 * attaches the report to the exception being thrown; elsewhere {@link #logIfFailed(System.Logger)}
 * logs it.
 *
 * <p>A step's {@link Exception}, checked or not, is recorded; an {@link Error} is not caught:
 * after one the process's state is unknown, so it propagates at once. Not thread-safe: one
 * closer per close, on one thread (or handed over with a happens-before edge).
 */
public final class Closer {
    /** One step of a close; may throw anything. */
    @FunctionalInterface
    public interface Step {
        /**
         * Frees one thing.
         *
         * @throws Exception if it could not
         */
        void run() throws Exception;
    }

    private final String what;
    private final List<Exception> failures = new ArrayList<>(0);
    private final StringBuilder summary = new StringBuilder();

    /**
     * @param what what is being closed, starting with the backend: {@code "afxdp: closing afxdp:eth1"};
     *             starts the report's message
     */
    public Closer(final String what) {
        this.what = what;
    }

    /**
     * Runs a step, recording its failure.
     *
     * @param step   what it frees, for the report: {@code "detaching the XDP program"}
     * @param action the step
     */
    public void run(final String step, final Step action) {
        try {
            action.run();
        } catch (final Exception e) {
            failed(step, e);
        }
    }

    /**
     * Closes a resource, recording its failure; nothing for null.
     *
     * @param step     what it is, for the report
     * @param resource the resource, or null if it was never opened
     */
    public void close(final String step, final AutoCloseable resource) {
        if (resource != null) {
            run(step, resource::close);
        }
    }

    /**
     * Records a failure a step returned rather than threw, such as a negative return code.
     *
     * @param step  the call or step, for the report: {@code "rte_eth_dev_stop"}
     * @param cause why it failed: {@code "Operation not supported"}
     */
    public void failed(final String step, final String cause) {
        failed(step, new BypassException(step + ": " + cause));
    }

    /**
     * Records a failure caught elsewhere.
     *
     * @param step    what failed, for the report
     * @param failure its exception
     */
    public void failed(final String step, final Exception failure) {
        final String cause = failure instanceof BypassException ? failure.getMessage() : failure.toString();
        if (!summary.isEmpty()) {
            summary.append("; ");
        }
        summary.append(cause.startsWith(step) ? cause : step + ": " + cause);
        failures.add(failure);
    }

    /** @return true if any step failed */
    public boolean hasFailed() {
        return !failures.isEmpty();
    }

    /**
     * @return the report: one exception naming every failed step, the first failure its cause
     *         and the others suppressed; null if nothing failed. A new exception each call.
     */
    public BypassException failure() {
        if (failures.isEmpty()) {
            return null;
        }
        final BypassException report = new BypassException(what + " failed part-way (every other step still ran): "
            + summary, failures.get(0));
        for (int i = 1; i < failures.size(); i++) {
            report.addSuppressed(failures.get(i));
        }
        return report;
    }

    /**
     * Ends a close that may throw.
     *
     * @throws BypassException the {@linkplain #failure() report}, if any step failed
     */
    public void throwIfFailed() {
        final BypassException report = failure();
        if (report != null) {
            throw report;
        }
    }

    /**
     * Ends a close that runs while another exception is thrown, such as the cleanup of a failed open.
     *
     * @param primary the exception being thrown; gets the {@linkplain #failure() report} as suppressed
     */
    public void addSuppressedTo(final Throwable primary) {
        final BypassException report = failure();
        if (report != null) {
            primary.addSuppressed(report);
        }
    }

    /**
     * Ends a close that must not throw and has no exception to attach to: logs the report as a warning.
     *
     * @param logger where to log
     */
    public void logIfFailed(final System.Logger logger) {
        final BypassException report = failure();
        if (report != null) {
            logger.log(System.Logger.Level.WARNING, report.getMessage(), report);
        }
    }

    /**
     * Closes each resource in order, every one even if an earlier one failed.
     *
     * @param what      what is being closed, for the report
     * @param resources the resources; nulls are passed over
     * @throws BypassException naming each that failed, as {@link #throwIfFailed()}
     */
    public static void closeAll(final String what, final AutoCloseable... resources) {
        final Closer closer = new Closer(what);
        for (final AutoCloseable r : resources) {
            closer.close(String.valueOf(r), r);
        }
        closer.throwIfFailed();
    }

    /**
     * Closes what a failed open had set up, without hiding why it failed: a failure to close
     * is attached to {@code primary} as suppressed.
     *
     * @param primary  why the open failed, about to be thrown
     * @param resource what to close, or null
     */
    public static void closeAfterFailure(final Throwable primary, final AutoCloseable resource) {
        if (resource == null) {
            return;
        }
        try {
            resource.close();
        } catch (final Exception e) {
            primary.addSuppressed(e);
        }
    }
}
