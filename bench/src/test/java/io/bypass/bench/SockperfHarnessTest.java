package io.bypass.bench;

import io.bypass.bench.report.SockperfReport;
import io.bypass.testing.Requirements;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
        final Path dir = runSockperf("--sp-pairs", "1", "--sp-seconds", "1");
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

    /**
     * The interleaved method: both servers up at once, each on its own veth pair, taking turns; two pairs, so the
     * second half runs with the links swapped. Both answer in every turn, the report says which method ran, and both
     * links' namespaces are gone afterwards.
     */
    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void interleavedPairsRunBothServersOnTwoLinksAndSwapThem() throws Exception {
        final Path dir = runSockperf("--sp-pairs", "2", "--sp-seconds", "1", "--sp-warmup-seconds", "1", "--sp-interleaved");
        final String md = Files.readString(dir.resolve("report.md"));
        assertTrue(md.contains("interleaved: both servers up at once"), "the report does not name the method:\n" + md);
        // two pairs of latencies Java/C, both ratios, no stall counts (a paused server counts its pauses), no error
        final String cells = " \\| 2 \\| [0-9.]+/[0-9.]+, [0-9.]+/[0-9.]+ \\| [0-9.]+/[0-9.]+, [0-9.]+/[0-9.]+ \\| [0-9]+\\.[0-9]{2} "
            + "\\| [0-9]+\\.[0-9]{2} \\| \\?/\\?, \\?/\\? \\|  \\|";
        for (final String name : List.of("afxdp", "afxdp, spinning client")) {
            final String row = md.lines().filter(l -> l.startsWith("| " + name + " | ")).findFirst().orElse(null);
            assertTrue(row != null && row.matches("\\| " + Pattern.quote(name) + cells), "no complete interleaved row '" + name + "' in:\n" + md);
        }
        assertTrue(Files.readString(dir.resolve("results.json")).replace(" ", "").contains("\"method\":\"interleaved\""), "method not in the JSON");

        // one server process of each kind per half; the first half's Java link is the second half's C link
        final List<Path> logs;
        try (Stream<Path> s = Files.list(dir.resolve("work").resolve("logs"))) {
            logs = s.filter(p -> p.getFileName().toString().contains("sockperf_interleaved")).sorted().toList();
        }
        assertEquals(4, logs.size(), "server logs: " + logs);
        final String javaFirst = iface(logs.get(0));
        final String cFirst = iface(logs.get(1));
        assertNotEquals(javaFirst, cFirst, "both servers on one link");
        assertEquals(cFirst, iface(logs.get(2)), "the Java server did not move to the other link halfway");
        assertEquals(javaFirst, iface(logs.get(3)), "the C reflector did not move to the other link halfway");
        for (int i = 0; i < 4; i++) {
            final String log = Files.readString(logs.get(i));
            final String pair = "pair " + (i / 2 + 1);
            // after the start, one unrecorded run per client; then one measured turn per client
            final String[] parts = log.split("\n=== ");
            assertTrue(parts.length == 4 && parts[1].startsWith("warm-up after start") && parts[2].startsWith(pair + ", sleeping client")
                && parts[3].startsWith(pair + ", spinning client"), "not warm-up, sleeping, spinning in " + logs.get(i));
            for (int k = 1; k < 4; k++) {
                assertEquals(k == 1 ? 2 : 1, parts[k].split("percentile 99\\.900", -1).length - 1, "sockperf runs in " + parts[k]);
            }
        }
        // no server left running (paused or not), and both links' namespaces gone: B's from the logs, A's by its suffix
        assertEquals(0, ProcessHandle.current().descendants().count(), "processes left behind");
        final String namespaces = io.bypass.testkit.Cmd.run("ip", "netns", "list");
        for (final Path log : logs) {
            final Matcher ns = Pattern.compile("^ip netns exec bbnb-(\\S+) ").matcher(Files.readString(log));
            assertTrue(ns.find(), "no namespace in " + log);
            for (final String name : List.of("bbna-" + ns.group(1), "bbnb-" + ns.group(1))) {
                assertFalse(namespaces.contains(name), "namespace " + name + " left behind: " + namespaces);
            }
        }
    }

    /** The calibration: the same method with a second C reflector in the Java server's place; its row says so. */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void calibrationPutsTheCReflectorInTheJavaServersPlace() throws Exception {
        final Path dir = runSockperf("--sp-pairs", "1", "--sp-seconds", "1", "--sp-warmup-seconds", "0", "--sp-interleaved",
            "--sp-calibrate");
        final String md = Files.readString(dir.resolve("report.md"));
        final String row = md.lines().filter(l -> l.startsWith("| afxdp, calibration: C reflector against itself | 1 | "))
            .findFirst().orElse(null);
        assertTrue(row != null && row.matches(".* \\| [0-9]+\\.[0-9]{2} \\| [0-9]+\\.[0-9]{2} \\| \\?/\\? \\|  \\|"),
            "no calibration row with both ratios in:\n" + md);
        try (Stream<Path> s = Files.list(dir.resolve("work").resolve("logs"))) {
            final List<Path> logs = s.filter(p -> p.getFileName().toString().contains("sockperf_interleaved")).sorted().toList();
            assertEquals(2, logs.size(), "server logs: " + logs);
            for (final Path log : logs) {
                final String first = Files.readAllLines(log).get(0);
                assertTrue(first.contains("bench_xsk") && first.contains("mode=sockperf") && !first.contains("io.bypass.samples.Main"),
                    "not the C reflector: " + first);
            }
        }
    }

    @Test
    void interleavedOnNamedNicsAndNoPairsAreRefusedBeforeAnythingRuns() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BenchMain.Options.parse(
            new String[] {"--no-jmh", "--scenarios", "sockperf", "--sp-interleaved", "--nics", "ens1f0,ens1f1"}));
        assertTrue(e.getMessage().contains("--sp-interleaved") && e.getMessage().contains("--nics"), e.getMessage());
        final IllegalArgumentException alone = assertThrows(IllegalArgumentException.class, () -> BenchMain.Options.parse(
            new String[] {"--no-jmh", "--scenarios", "sockperf", "--sp-calibrate"}));
        assertTrue(alone.getMessage().contains("--sp-interleaved"), alone.getMessage());
        final IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> BenchMain.Options.parse(
            new String[] {"--no-jmh", "--scenarios", "sockperf", "--sp-pairs", "0"}));
        assertTrue(none.getMessage().contains("--sp-pairs"), none.getMessage());
    }

    /** bin/bench's sockperf scenario on afxdp alone, with {@code options} added; the directory of its report. */
    private static Path runSockperf(final String... options) throws Exception {
        Requirements.requireNetns();
        Requirements.requireCommand("ethtool");
        Requirements.requireCommand("cc");
        Requirements.requireCommand("sockperf");
        Requirements.requireBackendAvailable("afxdp");
        final Path out = Path.of("target", "bench-sockperf", Long.toString(System.nanoTime()));
        final List<String> args = new ArrayList<>(List.of("--no-jmh", "--backends", "afxdp", "--scenarios", "sockperf",
            "--out", out.toString()));
        args.addAll(List.of(options));
        return BenchMain.run(BenchMain.Options.parse(args.toArray(String[]::new)));
    }

    /** The interface a server's logged command line names: the Java server's URI or the reflector's iface=. */
    private static String iface(final Path log) throws java.io.IOException {
        final String first = Files.readAllLines(log).get(0);
        final Matcher m = Pattern.compile("(?:afxdp:|iface=)([A-Za-z0-9-]+)").matcher(first);
        assertTrue(m.find(), "no interface in " + first);
        return m.group(1);
    }
}
