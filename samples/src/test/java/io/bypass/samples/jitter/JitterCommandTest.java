package io.bypass.samples.jitter;

import io.bypass.samples.Main;
import io.bypass.samples.cli.Context;
import io.bypass.testing.Requirements;
import io.bypass.threads.Affinity;
import io.bypass.threads.CpuSet;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bypass jitter} end to end, in-process. */
class JitterCommandTest {
    private record Result(int status, Map<String, Object> summary, String text) {
    }

    private static Result run(final String... argv) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final Context ctx = new Context(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        final int rc = Main.run(argv, ctx);
        final String text = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
        return new Result(rc, ctx.summary() == null ? null : ctx.summary().fields(), text);
    }

    private static double dbl(final Result r, final String key) {
        assertTrue(r.summary().get(key) instanceof Number, key + " missing: " + r.text());
        return ((Number) r.summary().get(key)).doubleValue();
    }

    @Test
    void measuresOneCpuAndReportsSaneFigures() {
        final Result r = run("jitter", "--duration", "1s", "--threshold", "2us", "--isolate", "false", "--json");
        assertEquals(0, r.status(), r.text());
        final String[] lines = r.text().strip().split("\n");
        assertTrue(r.text().contains("{\"command\":\"jitter\""), "JSON line: " + r.text());
        assertEquals(2000, ((Number) r.summary().get("threshold_ns")).longValue());
        final List<?> runs = (List<?>) r.summary().get("runs");
        assertEquals(1, runs.size(), r.text());
        final Map<?, ?> run = (Map<?, ?>) runs.get(0);
        assertEquals(Affinity.currentThread().last(), ((Number) run.get("cpu")).intValue());
        assertEquals(false, run.get("isolated"));
        // A spinning nanoTime loop turns in tens of ns: even descheduled half the time, >100k turns a second.
        assertTrue(((Number) run.get("loops")).longValue() > 100_000, r.text());
        assertTrue(((Number) run.get("loop_p50_ns")).longValue() < 2000, r.text());
        final double lost = dbl(r, "lost_pct");
        assertTrue(lost >= 0 && lost < 100, r.text());
        assertTrue(dbl(r, "max_gap_us") >= 2 || dbl(r, "interruptions") == 0, r.text());
        assertTrue(dbl(r, "max_gap_us") < 1_000_000, r.text());
        assertTrue(((Number) run.get("elapsed_s")).doubleValue() >= 0.99, r.text());
        assertTrue(lines.length > 3, r.text());
    }

    @Test
    void comparesWithoutAndWithIsolationUnderGcLoad() {
        final CpuSet mine = Affinity.currentThread();
        Requirements.require(mine.size() >= 2, "isolation needs two CPUs or more; this JVM may use " + mine);
        final Result r = run("jitter", "--duration", "500ms", "--compare", "--gc-load", "--json", "--quiet");
        assertEquals(0, r.status(), r.text());
        final List<?> runs = (List<?>) r.summary().get("runs");
        assertEquals(2, runs.size(), r.text());
        assertEquals(false, ((Map<?, ?>) runs.get(0)).get("isolated"));
        assertEquals(true, ((Map<?, ?>) runs.get(1)).get("isolated"));
        assertTrue(dbl(r, "moved_threads") > 3, "JIT, GC, VM, test threads moved: " + r.text());
        assertTrue(dbl(r, "gc_load_mb") > 10, r.text());
        // placement undone: this thread may run on every CPU it could before
        assertEquals(mine, Affinity.currentThread());
    }

    @Test
    void refusesCpusItMayNotUseAndIsolatingEveryCpu() {
        final Result bad = run("jitter", "--cpus", "1023", "--duration", "100ms");
        assertEquals(Main.USAGE, bad.status(), bad.text());
        assertTrue(bad.text().contains("not allowed"), bad.text());
        final Result all = run("jitter", "--cpus", Affinity.currentThread().toString(), "--duration", "100ms");
        assertEquals(Main.USAGE, all.status(), all.text());
        assertTrue(all.text().contains("nowhere to move"), all.text());
    }
}
