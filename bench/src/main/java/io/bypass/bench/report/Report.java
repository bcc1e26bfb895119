package io.bypass.bench.report;

import io.bypass.bench.jmh.JmhRunner;
import io.bypass.bench.net.Measurement;
import io.bypass.bench.net.ZeroLossScenario;
import io.bypass.testkit.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes {@code report.md} (one table: backend, scenario, packet rate, ratio to C,
 * round-trip percentiles, allocation per operation; and the zero-loss table,
 * {@link ZeroLossReport}), {@code latency.png}, {@code zeroloss.png} and
 * {@code results.json} (everything, raw) into a run directory.
 */
public final class Report {
    /** The columns of the report's table, in order (the smoke test checks them). */
    public static final List<String> COLUMNS = List.of("Backend", "Scenario", "Packet rate Java (C)", "Ratio Java/C",
        "RTT p50 Java (C)", "RTT p99 Java (C)", "RTT p99.9 Java (C)", "Alloc B/op JMH (harness B/pkt)", "Goal");

    /**
     * gc.alloc.rate.norm at or below this counts as zero: the smallest object is 16 bytes, so it is fewer
     * than one allocation per 320 operations.
     */
    public static final double ZERO_ALLOCATION = 0.05;
    /**
     * An allocation rate (bytes/s, all threads of the fork) at or below this also counts as zero: JMH's own
     * threads allocate 2-8 KB/s in forks whose benchmark cannot allocate (an FFM call to labs or getpid),
     * which is 0.08 B/op for a benchmark doing 90k ops/s.
     */
    public static final double BACKGROUND_BYTES_PER_SECOND = 16 * 1024;

    private Report() {
    }

    /**
     * @param dir          output directory
     * @param command      the command line that produced the run
     * @param started      timestamp text
     * @param facts        host facts
     * @param settings     run settings (durations, repeats...)
     * @param measurements network harness results (may be empty)
     * @param zeroLoss     zeroloss searches (may be empty)
     * @param sockperf     sockperf pairs (may be empty)
     * @param tcp          tcp-pingpong / tcp-bulk outcomes per backend (may be empty)
     * @param scores       JMH results (may be empty)
     * @param notes        skips and failures worth reading
     * @throws IOException if a file cannot be written
     */
    public static void write(final Path dir, final String command, final String started, final Map<String, String> facts,
                             final Map<String, Object> settings, final List<Measurement> measurements,
                             final List<ZeroLossScenario.Outcome> zeroLoss,
                             final List<io.bypass.bench.net.SockperfScenario.Outcome> sockperf,
                             final List<io.bypass.bench.net.TcpScenario.Outcome> tcp,
                             final List<JmhRunner.Score> scores, final List<String> notes) throws IOException {
        Files.createDirectories(dir);
        final StringBuilder md = new StringBuilder();
        md.append("# Bypass benchmark report, ").append(started).append("\n\n");
        md.append("Command: `").append(command).append("`\n\n");
        md.append("Host: ");
        final List<String> f = new ArrayList<>();
        facts.forEach((k, v) -> f.add(k + ": " + v));
        md.append(String.join("; ", f)).append(".\n\n");
        md.append("Settings: ");
        final List<String> s = new ArrayList<>();
        settings.forEach((k, v) -> s.add(k + " " + v));
        md.append(String.join(", ", s)).append(".\n\n");
        md.append("Goals (issues 3 and 5): RX and TX packet rate >= 95% of C's; ping-pong p50 and p99 within 10% of C's; "
            + "0 B/op in steady state (JMH gc.alloc.rate.norm <= " + ZERO_ALLOCATION + " B/op, or an allocation rate within JMH's "
            + "own background of " + (int) (BACKGROUND_BYTES_PER_SECOND / 1024) + " KB/s). Java and C runs "
            + "alternate; a ratio is the median over repeats of Java's run i divided by C's run i (paired runs made seconds "
            + "apart, so a host whose speed drifts or jumps between runs cancels out). Packet rates shown are the median run's; "
            + "round-trip percentiles shown are over every round trip of every repeat together, in microseconds. "
            + "JMH B/op is for the backend's UdpEndpoint poll / claim+commit "
            + "(median over iterations); the harness figure is bytes the Java polling thread allocated in the measured "
            + "window divided by packets, one-off costs included.\n\n");

        md.append('|');
        COLUMNS.forEach(c -> md.append(' ').append(c).append(" |"));
        md.append("\n|");
        COLUMNS.forEach(c -> md.append("---|"));
        md.append('\n');
        for (final Measurement java : measurements) {
            if (!"java".equals(java.impl())) {
                continue;
            }
            final Measurement c = baseline(measurements, java);
            md.append(row(java, c, scores)).append('\n');
        }
        if (measurements.isEmpty()) {
            md.append("| - | ").append(zeroLoss.isEmpty() && tcp.isEmpty() ? "network harness not run" : "rx/tx/pingpong not run")
                .append(" | | | | | | | |\n");
        }
        md.append('\n');
        ZeroLossReport.markdown(md, zeroLoss);
        SockperfReport.markdown(md, sockperf);
        TcpReport.markdown(md, tcp);

        md.append("In-process costs (JMH, `-prof gc`; B/op = gc.alloc.rate.norm):\n\n");
        if (scores.isEmpty()) {
            md.append("- JMH not run\n");
        }
        for (final JmhRunner.Score sc : scores) {
            md.append(String.format(Locale.ROOT, "- %s%s: %s ± %s %s, %s B/op%s%s%n", sc.benchmark(),
                sc.params().isEmpty() ? "" : " [" + sc.params() + "]", num(sc.score()), num(sc.error()), sc.unit(),
                Double.isNaN(sc.allocPerOp()) ? "n/a" : String.format(Locale.ROOT, "%.3f", sc.allocPerOp()),
                isZero(sc) ? " (zero)" : " (NOT zero)",
                sc.secondaries().isEmpty() ? "" : "; " + sc.secondaries()));
        }
        md.append('\n');
        if (!notes.isEmpty()) {
            md.append("Notes:\n\n");
            notes.forEach(n -> md.append("- ").append(n).append('\n'));
            md.append('\n');
        }
        final List<String> failures = new ArrayList<>();
        for (final Measurement m : measurements) {
            for (final String e : m.errors()) {
                failures.add(m.backend() + " " + m.scenario() + " " + m.label() + ": " + e);
            }
        }
        if (!failures.isEmpty()) {
            md.append("Failed runs (left out of the medians):\n\n");
            failures.forEach(e -> md.append("- ").append(e).append('\n'));
            md.append('\n');
        }
        md.append("![round-trip latency by percentile](latency.png)\n");
        Files.writeString(dir.resolve("report.md"), md.toString());

        final Map<String, List<Chart.Series>> panels = new LinkedHashMap<>();
        for (final Measurement m : measurements) {
            if ("pingpong".equals(m.scenario())) {
                panels.computeIfAbsent(m.backend(), k -> new ArrayList<>())
                    .add(new Chart.Series(m.label(), merged(m), "c".equals(m.impl())));
            }
        }
        Chart.write("Ping-pong round trip by percentile, per backend (veth, two namespaces)", panels, dir.resolve("latency.png"));
        if (!zeroLoss.isEmpty()) {
            ZeroLossReport.chart(zeroLoss, dir.resolve("zeroloss.png"));
        }

        final Map<String, Object> json = new LinkedHashMap<>();
        json.put("started", started);
        json.put("command", command);
        json.put("host", facts);
        json.put("settings", settings);
        final List<Object> ms = new ArrayList<>();
        for (final Measurement m : measurements) {
            final Map<String, Object> o = new LinkedHashMap<>();
            o.put("backend", m.backend());
            o.put("api", m.api());
            o.put("scenario", m.scenario());
            o.put("impl", m.impl());
            o.put("label", m.label());
            o.put("median_pps", m.medianPps());
            o.put("p50_ns", m.pooledP50());
            o.put("p99_ns", m.pooledP99());
            o.put("p999_ns", m.pooledP999());
            o.put("median_of_runs_p50_ns", m.medianP50());
            o.put("median_of_runs_p99_ns", m.medianP99());
            o.put("median_of_runs_p999_ns", m.medianP999());
            o.put("alloc_bytes_per_packet", m.allocPerPacket());
            final List<Object> runs = new ArrayList<>();
            for (final Measurement.Run r : m.runs()) {
                final Map<String, Object> ro = new LinkedHashMap<>();
                ro.put("pps", r.pps());
                ro.put("packets", r.packets());
                ro.put("lost", r.lost());
                ro.put("p50_ns", r.p50Nanos());
                ro.put("p99_ns", r.p99Nanos());
                ro.put("p999_ns", r.p999Nanos());
                ro.put("alloc_bytes", r.allocBytes());
                runs.add(ro);
            }
            o.put("runs", runs);
            o.put("errors", m.errors());
            ms.add(o);
        }
        json.put("network", ms);
        json.put("zeroloss", ZeroLossReport.json(zeroLoss));
        json.put("sockperf", SockperfReport.json(sockperf));
        json.put("tcp", TcpReport.json(tcp));
        final List<Object> js = new ArrayList<>();
        for (final JmhRunner.Score sc : scores) {
            final Map<String, Object> o = new LinkedHashMap<>();
            o.put("benchmark", sc.benchmark());
            o.put("params", sc.params());
            o.put("score", sc.score());
            o.put("error", sc.error());
            o.put("unit", sc.unit());
            o.put("gc_alloc_rate_norm_bytes_per_op", sc.allocPerOp());
            o.put("secondary", sc.secondaries());
            js.add(o);
        }
        json.put("jmh", js);
        json.put("notes", notes);
        Files.writeString(dir.resolve("results.json"), Json.writeIndented(json));
    }

    private static long[] merged(final Measurement m) {
        int n = 0;
        for (final Measurement.Run r : m.runs()) {
            n += r.rtts().length;
        }
        final long[] all = new long[n];
        int at = 0;
        for (final Measurement.Run r : m.runs()) {
            System.arraycopy(r.rtts(), 0, all, at, r.rtts().length);
            at += r.rtts().length;
        }
        return all;
    }

    private static Measurement baseline(final List<Measurement> all, final Measurement java) {
        for (final Measurement m : all) {
            if ("c".equals(m.impl()) && m.backend().equals(java.backend()) && m.scenario().equals(java.scenario())) {
                return m;
            }
        }
        return null;
    }

    private static String row(final Measurement java, final Measurement c, final List<JmhRunner.Score> scores) {
        final boolean ping = "pingpong".equals(java.scenario());
        final boolean haveC = c != null && c.hasData();
        final String name = java.backend() + ("udp".equals(java.api()) ? " (UdpEndpoint)" : "l2".equals(java.api()) ? " (Port)" : "");
        final String scenario = java.scenario() + (haveC ? " vs " + c.label() : "");
        final String rate = !java.hasData() ? "failed" : ping
            ? rtps(java.medianPps()) + (haveC ? " (" + rtps(c.medianPps()) + ")" : "")
            : pps(java.medianPps()) + (haveC ? " (" + pps(c.medianPps()) + ")" : "");
        String ratio = "n/a";
        String goal = haveC ? "" : "no C baseline";
        if (java.hasData() && haveC) {
            if (ping) {
                final double r50 = java.pairedRatio(c, Measurement.Run::p50Nanos);
                final double r99 = java.pairedRatio(c, Measurement.Run::p99Nanos);
                ratio = String.format(Locale.ROOT, "p50 %.2f, p99 %.2f", r50, r99);
                goal = r50 <= 1.10 && r99 <= 1.10 ? "met" : "NOT met (goal <= 1.10)";
            } else {
                final double r = java.pairedRatio(c, Measurement.Run::pps);
                ratio = String.format(Locale.ROOT, "%.2f", r);
                goal = r >= 0.95 ? "met" : "NOT met (goal >= 0.95)";
            }
        } else if (!java.hasData()) {
            goal = "run failed";
        }
        final String p50 = ping ? us(java.pooledP50()) + (haveC ? " (" + us(c.pooledP50()) + ")" : "") : "";
        final String p99 = ping ? us(java.pooledP99()) + (haveC ? " (" + us(c.pooledP99()) + ")" : "") : "";
        final String p999 = ping ? us(java.pooledP999()) + (haveC ? " (" + us(c.pooledP999()) + ")" : "") : "";
        final String jmh = jmhAlloc(java, scores);
        final double harness = java.allocPerPacket();
        final String alloc = jmh + " (" + (Double.isNaN(harness) ? "n/a" : String.format(Locale.ROOT, "%.2f", harness)) + ")";
        if (!jmh.equals("n/a") && !isZero(java, scores) && goal.equals("met")) {
            goal = "rate met, allocation NOT";
        }
        return "| " + name + " | " + scenario + " | " + rate + " | " + ratio + " | " + p50 + " | " + p99 + " | " + p999 + " | "
            + alloc + " | " + goal + " |";
    }

    private static boolean isZero(final Measurement java, final List<JmhRunner.Score> scores) {
        for (final JmhRunner.Score s : scores) {
            if (s.benchmark().equals(benchmarkFor(java)) && s.params().equals("backend=" + java.backend())) {
                return isZero(s);
            }
        }
        return true;
    }

    /**
     * @param s a JMH score
     * @return true if its allocation is zero by {@link #ZERO_ALLOCATION} or {@link #BACKGROUND_BYTES_PER_SECOND}
     */
    public static boolean isZero(final JmhRunner.Score s) {
        if (Double.isNaN(s.allocPerOp()) || s.allocPerOp() <= ZERO_ALLOCATION) {
            return true;
        }
        final double opsPerSecond = switch (s.unit()) {
            case "ops/s" -> s.score();
            case "ns/op" -> 1e9 / s.score();
            case "us/op" -> 1e6 / s.score();
            default -> Double.NaN;
        };
        return !Double.isNaN(opsPerSecond) && s.allocPerOp() * opsPerSecond <= BACKGROUND_BYTES_PER_SECOND;
    }

    private static String benchmarkFor(final Measurement java) {
        return switch (java.scenario()) {
            case "rx" -> "BackendBenchmark.udpRxPoll";
            case "tx" -> "BackendBenchmark.udpTxClaimCommit";
            default -> "";
        };
    }

    private static String jmhAlloc(final Measurement java, final List<JmhRunner.Score> scores) {
        final String bench = switch (java.scenario()) {
            case "rx" -> "BackendBenchmark.udpRxPoll";
            case "tx" -> "BackendBenchmark.udpTxClaimCommit";
            default -> null;
        };
        if (bench == null) {
            return "n/a";
        }
        for (final JmhRunner.Score s : scores) {
            if (s.benchmark().equals(bench) && s.params().equals("backend=" + java.backend()) && !Double.isNaN(s.allocPerOp())) {
                return String.format(Locale.ROOT, "%.2f", s.allocPerOp());
            }
        }
        return "n/a";
    }

    private static String pps(final double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        return v >= 1e6 ? String.format(Locale.ROOT, "%.2f Mpps", v / 1e6) : String.format(Locale.ROOT, "%.0f kpps", v / 1e3);
    }

    private static String rtps(final double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.0f round trips/s", v);
    }

    private static String us(final double nanos) {
        return Double.isNaN(nanos) ? "n/a" : String.format(Locale.ROOT, "%.1f", nanos / 1e3);
    }

    private static String num(final double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        return Math.abs(v) >= 1000 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
    }
}
