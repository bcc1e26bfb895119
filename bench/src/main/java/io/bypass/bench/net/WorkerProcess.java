package io.bypass.bench.net;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One scenario participant (a C baseline or a {@link JavaWorker} JVM) running as a child
 * process: waits for its {@code READY} line and its {@code RESULT} line (or {@code UNAVAILABLE}, see {@link Unavailable}); stderr goes to a
 * log file that error messages point at. {@link #close()} stops it (SIGTERM, then SIGKILL).
 */
final class WorkerProcess implements AutoCloseable {
    private final String label;
    private final Process process;
    private final Path log;
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private final CompletableFuture<String> result = new CompletableFuture<>();
    private final java.util.concurrent.BlockingQueue<String> trials = new java.util.concurrent.LinkedBlockingQueue<>();

    /** The worker's backend refused what the scenario needs (its {@code UNAVAILABLE} line): not a failure of the run. */
    static final class Unavailable extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        Unavailable(final String why) {
            super(why);
        }
    }

    WorkerProcess(final String label, final List<String> command, final Path log) throws IOException {
        this.label = label;
        this.log = log;
        this.process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        final Thread reader = new Thread(this::read, "worker-" + label);
        reader.setDaemon(true);
        reader.start();
    }

    private void read() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.equals("READY")) {
                    ready.complete(null);
                } else if (line.startsWith("RESULT ")) {
                    result.complete(line.substring(7));
                } else if (line.startsWith("TRIAL ")) {
                    trials.add(line.substring(6));
                } else if (line.startsWith("UNAVAILABLE ")) {
                    final Unavailable why = new Unavailable(line.substring(12));
                    ready.completeExceptionally(why);
                    result.completeExceptionally(why);
                }
            }
        } catch (final IOException e) {
            // process gone; the futures are completed below
        }
        final String why = label + " exited (code " + exitCode() + ") without a result; see " + log;
        ready.completeExceptionally(new IllegalStateException(why));
        result.completeExceptionally(new IllegalStateException(why));
    }

    private String exitCode() {
        try {
            return process.waitFor(2, TimeUnit.SECONDS) ? Integer.toString(process.exitValue()) : "still running";
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            return "?";
        }
    }

    void awaitReady(final long timeoutMs) throws Exception {
        try {
            ready.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (final java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(label + " not ready after " + timeoutMs + " ms; see " + log);
        } catch (final java.util.concurrent.ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    String awaitResult(final long timeoutMs) throws Exception {
        try {
            return result.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (final java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(label + " gave no result after " + timeoutMs + " ms; see " + log);
        } catch (final java.util.concurrent.ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    /** Drops the {@code TRIAL} lines received so far (zeroloss: before a trial starts). */
    void clearTrials() {
        trials.clear();
    }

    /**
     * @param timeoutMs how long to wait
     * @return the next {@code TRIAL} line's JSON, or null if none came in time
     * @throws InterruptedException if interrupted
     */
    String pollTrial(final long timeoutMs) throws InterruptedException {
        return trials.poll(timeoutMs, TimeUnit.MILLISECONDS);
    }

    /** @return true while the process runs */
    boolean isAlive() {
        return process.isAlive();
    }

    /** @return its stderr log */
    Path log() {
        return log;
    }

    @Override
    public void close() {
        if (!process.isAlive()) {
            return;
        }
        // ip netns exec execs the worker, so this pid is the worker itself.
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) { // a JVM closes its port on SIGTERM
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
