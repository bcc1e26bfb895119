package io.bypass.bench;

import io.bypass.bench.report.SockperfReport;
import io.bypass.testing.Requirements;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sockperf scenario end to end on afxdp, tiny: one pair of one-second runs, sockperf
 * (sleeping, then spinning) against {@code bypass pingpong server} and against the C reflector; both answer (sockperf
 * reports a latency for each), and the report has the row with both ratios and the JSON.
 * Measures nothing worth reading.
 */
class SockperfHarnessTest {
    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void sockperfPairOnAfXdpWritesTheTableAndJson() throws Exception {
        Requirements.requireNetns();
        Requirements.requireCommand("ethtool");
        Requirements.requireCommand("cc");
        Requirements.requireCommand("sockperf");
        Requirements.requireBackendAvailable("afxdp");
        final Path out = Path.of("target", "bench-sockperf", Long.toString(System.nanoTime()));
        final Path dir = BenchMain.run(BenchMain.Options.parse(new String[] {
            "--no-jmh", "--backends", "afxdp", "--scenarios", "sockperf", "--sp-pairs", "1", "--sp-seconds", "1",
            "--out", out.toString()}));
        final String md = Files.readString(dir.resolve("report.md"));
        assertTrue(md.contains("| " + String.join(" | ", SockperfReport.COLUMNS) + " |"), "sockperf table header missing:\n" + md);
        final String row = md.lines().filter(l -> l.startsWith("| afxdp | 1 |")).findFirst().orElse(null);
        assertTrue(row != null, "no afxdp sockperf row in:\n" + md);
        assertEquals(SockperfReport.COLUMNS.size(), row.split("\\|", -1).length - 2, "cells in " + row);
        // latencies Java/C, the two ratios, the two servers' stall counts, an empty note
        final String cells = " \\| 1 \\| [0-9.]+/[0-9.]+ \\| [0-9.]+/[0-9.]+ \\| [0-9]+\\.[0-9]{2} \\| [0-9]+\\.[0-9]{2} \\| [0-9]+/[0-9]+ \\|  \\|";
        assertTrue(row.matches("\\| afxdp" + cells),
            "latencies, both ratios and both servers' stall counts, no error, in " + row);
        // the same runs measured by the spinning client (sockperf --nonblocked), both servers answering it too
        final String spinning = md.lines().filter(l -> l.startsWith("| afxdp, spinning client | 1 |")).findFirst().orElse(null);
        assertTrue(spinning != null && spinning.matches("\\| afxdp, spinning client" + cells),
            "no spinning-client row with latencies and ratios in:\n" + md);
        final String json = Files.readString(dir.resolve("results.json"));
        assertTrue(json.contains("\"sockperf\"") && json.contains("\"ratio_avg\"") && json.contains("\"c_p99_9_us\"")
            && json.contains("\"spinning_ratio_avg\"") && json.contains("\"c_stalls_over_1ms\"") && json.contains("\"spinning_c_p99_9_us\""), json);
    }
}
