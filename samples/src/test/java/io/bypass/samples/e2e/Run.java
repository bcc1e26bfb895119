package io.bypass.samples.e2e;

import io.bypass.samples.Main;
import io.bypass.samples.cli.Context;
import io.bypass.samples.cli.Summary;
import io.bypass.testkit.NetnsExecutor;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One {@code bypass} subcommand running in-process, on a thread inside a network
 * namespace (or on a plain thread), with stdout and stderr captured.
 */
final class Run {
    private final String[] argv;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final Context ctx;
    private final CompletableFuture<Integer> status;

    private Run(final NetnsExecutor where, final String... argv) {
        this.argv = argv;
        ctx = new Context(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        status = CompletableFuture.supplyAsync(() -> {
            try {
                return where == null ? Main.run(argv, ctx) : where.call(() -> Main.run(argv, ctx));
            } catch (final Exception e) {
                throw new IllegalStateException(e);
            }
        }, r -> {
            final Thread t = new Thread(r, "run-" + argv[0]);
            t.setDaemon(true);
            t.start();
        });
    }

    static Run start(final NetnsExecutor where, final String... argv) {
        return new Run(where, argv);
    }

    /** Starts a receiver and waits until it has joined its groups. */
    static Run startReady(final NetnsExecutor where, final String... argv) throws Exception {
        final Run r = new Run(where, argv);
        final long deadline = System.nanoTime() + 20_000_000_000L;
        while (!r.ctx.awaitReady(100)) {
            if (r.status.isDone() || System.nanoTime() > deadline) {
                throw new AssertionError(r.argv[0] + " never became ready: exit " + (r.status.isDone() ? r.status.get() : "running")
                    + "\n" + r.err());
            }
        }
        return r;
    }

    /** Waits for the exit status. */
    int await(final long seconds) throws Exception {
        try {
            return status.get(seconds, TimeUnit.SECONDS);
        } catch (final java.util.concurrent.TimeoutException e) {
            ctx.stop();
            status.get(10, TimeUnit.SECONDS);
            throw new AssertionError(argv[0] + " did not finish in " + seconds + " s\nstdout:\n" + out() + "\nstderr:\n" + err());
        }
    }

    void stop() {
        ctx.stop();
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    /** @return the summary fields, after checking the JSON last line is there */
    Map<String, Object> summary() {
        final Summary s = ctx.summary();
        if (s == null) {
            throw new AssertionError(argv[0] + " printed no summary\nstdout:\n" + out() + "\nstderr:\n" + err());
        }
        // tcpcat's stdout is the data: its summary ends stderr instead
        final String[] lines = ("tcpcat".equals(argv[0]) ? err() : out()).strip().split("\n");
        final String last = lines[lines.length - 1];
        if (!last.startsWith("{") || !last.endsWith("}") || !last.contains("\"command\":")) {
            throw new AssertionError("last stdout line is not the JSON summary: " + last);
        }
        return s.fields();
    }

    long num(final String key) {
        final Object v = summary().get(key);
        if (!(v instanceof Number n)) {
            throw new AssertionError(argv[0] + ": summary has no number '" + key + "': " + summary() + "\nstderr:\n" + err());
        }
        return n.longValue();
    }

    double dbl(final String key) {
        final Object v = summary().get(key);
        if (!(v instanceof Number n)) {
            throw new AssertionError(argv[0] + ": summary has no number '" + key + "': " + summary());
        }
        return n.doubleValue();
    }

    String describe() {
        return argv[0] + " summary " + summary() + "\nstderr:\n" + err();
    }
}
