package io.bypass.bench.report;

import io.bypass.bench.net.SockperfScenario;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The sockperf scenario's part of the report: per backend, sockperf's average latency and
 * p99.9 against {@code bypass pingpong server} and against the C reflector on libxdp, pair
 * by pair, and the medians of the per-pair ratios; a second row per backend for the same runs
 * measured by the spinning client.
 */
public final class SockperfReport {
    /** The columns of the sockperf table, in order. */
    public static final List<String> COLUMNS = List.of("Backend", "Pairs", "avg Java / C (us)", "p99.9 Java / C (us)",
        "Ratio avg", "Ratio p99.9", "Server stalls > 1 ms per run, Java / C", "Note");

    private SockperfReport() {
    }

    /**
     * Appends the section (nothing if the scenario did not run).
     *
     * @param md       the report
     * @param outcomes one per backend
     */
    static void markdown(final StringBuilder md, final List<SockperfScenario.Outcome> outcomes) {
        if (outcomes.isEmpty()) {
            return;
        }
        final boolean interleaved = outcomes.stream().anyMatch(SockperfScenario.Outcome::interleaved);
        md.append("\nsockperf ping-pong (a kernel UDP client in namespace A, 64-byte messages) against `bypass pingpong "
            + "server` and against a C reflector on libxdp (zero-copy bounce, UDP checksum summed in software), ")
            .append(interleaved
                ? "interleaved: both servers up at once, each on its own veth pair, taking turns of one client each while the "
                    + "other is paused (SIGSTOP), which goes first alternating pair by pair, and the links swapped halfway, so "
                    + "the two runs of a ratio are seconds apart. "
                : "on the same veth, alternating in pairs with a fresh server each run. ")
            .append("Ratios are medians of the per-pair ratios; below 1 "
            + "means Bypass answered faster. Each run is measured twice: by sockperf's default client, which sleeps in "
            + "`recvfrom` (the headline), then by the same client spinning (`--nonblocked`). The sleeping client's latency is "
            + "bimodal (about 4 us when the reply arrives before it sleeps, about 10 us when it must be woken), so a small "
            + "difference in the servers' turnaround can show as a large ratio; the spinning rows show that difference itself. ")
            .append(interleaved
                ? "The servers' stalls over 1 ms are not counted here (`?`): a paused server's loop counts its pauses as gaps."
                : "Both servers count the gaps over 1 ms in their own polling loops (time the host took from them, the same for "
                    + "both kinds of client, as they serve both in one run): a p99.9 of tens to hundreds of us follows those.")
            .append(outcomes.stream().anyMatch(o -> o.label().contains("calibration"))
                ? " A calibration row has the C reflector in the Java server's place: its ratios are the method's own zero "
                    + "and spread on this host, against which the Java rows are read."
                : "")
            .append("\n\n|");
        COLUMNS.forEach(c -> md.append(' ').append(c).append(" |"));
        md.append("\n|");
        COLUMNS.forEach(c -> md.append("---|"));
        md.append('\n');
        for (final SockperfScenario.Outcome o : outcomes) {
            row(md, o.backend(), o);
            if (o.spinning() != null) {
                row(md, o.backend() + ", spinning client", o.spinning());
            }
        }
    }

    private static void row(final StringBuilder md, final String name, final SockperfScenario.Outcome o) {
        md.append("| ").append(name).append(" | ").append(o.javaAvg().length).append(" | ")
            .append(pairs(o.javaAvg(), o.cAvg())).append(" | ").append(pairs(o.javaP999(), o.cP999())).append(" | ")
            .append(fmt(o.avgRatio())).append(" | ").append(fmt(o.p999Ratio())).append(" | ")
            .append(counts(o.javaStalls(), o.cStalls())).append(" | ")
            .append(o.error() == null ? "" : o.error().replace('|', '/')).append(" |\n");
    }

    private static String pairs(final double[] java, final double[] c) {
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(java.length, c.length); i++) {
            sb.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.1f/%.1f", java[i], c[i]));
        }
        return sb.length() == 0 ? "-" : sb.toString();
    }

    private static String counts(final double[] java, final double[] c) {
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(java.length, c.length); i++) {
            sb.append(i == 0 ? "" : ", ").append(count(java[i])).append('/').append(count(c[i]));
        }
        return sb.length() == 0 ? "-" : sb.toString();
    }

    private static String count(final double v) {
        return Double.isNaN(v) ? "?" : String.format(Locale.ROOT, "%.0f", v);
    }

    private static String fmt(final double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f", v);
    }

    static List<Object> json(final List<SockperfScenario.Outcome> outcomes) {
        final List<Object> list = new ArrayList<>();
        for (final SockperfScenario.Outcome o : outcomes) {
            final Map<String, Object> m = new LinkedHashMap<>();
            m.put("backend", o.backend());
            m.put("label", o.label());
            m.put("method", o.interleaved() ? "interleaved" : "fresh");
            m.put("error", o.error());
            putSeries(m, "", o);
            m.put("java_stalls_over_1ms", toList(o.javaStalls()));
            m.put("c_stalls_over_1ms", toList(o.cStalls()));
            if (o.spinning() != null) {
                putSeries(m, "spinning_", o.spinning());
            }
            list.add(m);
        }
        return list;
    }

    // one client's figures per pair and their ratios, under the prefix that names the client
    private static void putSeries(final Map<String, Object> m, final String prefix, final SockperfScenario.Outcome o) {
        m.put(prefix + "java_avg_us", toList(o.javaAvg()));
        m.put(prefix + "java_p99_9_us", toList(o.javaP999()));
        m.put(prefix + "c_avg_us", toList(o.cAvg()));
        m.put(prefix + "c_p99_9_us", toList(o.cP999()));
        m.put(prefix + "ratio_avg", o.avgRatio());
        m.put(prefix + "ratio_p99_9", o.p999Ratio());
    }

    private static List<Object> toList(final double[] values) {
        final List<Object> l = new ArrayList<>();
        for (final double v : values) {
            l.add(v);
        }
        return l;
    }
}
