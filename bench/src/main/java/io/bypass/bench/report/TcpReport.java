package io.bypass.bench.report;

import io.bypass.bench.net.Measurement;
import io.bypass.bench.net.TcpScenario;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The TCP scenarios' part of the report (issue 14): ping-pong round trips of Bypass TCP, kernel TCP in
 * C and Bypass UDP per backend with the paired ratios and the goals (Bypass TCP p50 and p99 below the
 * kernel's on every L2 backend, within 10% of Bypass UDP on the same backend), and bulk throughput with
 * its byte-exact check (goal 2 Gb/s). A backend whose TCP could not run has a row saying why.
 */
public final class TcpReport {
    /** Columns of the ping-pong table. */
    public static final List<String> PING_COLUMNS = List.of("Backend", "Bypass TCP p50/p99/p99.9/avg (us)",
        "Kernel TCP C p50/p99/p99.9/avg (us)", "Bypass UDP p50/p99/p99.9/avg (us)", "TCP/kernel p50, p99", "TCP/UDP p50, p99", "Goal");
    /** Columns of the bulk table. */
    public static final List<String> BULK_COLUMNS = List.of("Backend", "Bypass TCP Gb/s (runs)", "Kernel TCP C Gb/s (runs)",
        "Ratio Bypass/kernel", "Byte-exact", "Goal 2 Gb/s");
    /** Largest Bypass TCP / Bypass UDP ratio that meets the goal. */
    public static final double UDP_GOAL = 1.10;

    private TcpReport() {
    }

    /**
     * Appends the section (nothing if no TCP scenario ran).
     *
     * @param md       the report
     * @param outcomes one per backend
     */
    static void markdown(final StringBuilder md, final List<TcpScenario.Outcome> outcomes) {
        if (outcomes.isEmpty()) {
            return;
        }
        final boolean ping = outcomes.stream().anyMatch(o -> o.tcp() != null);
        final boolean bulk = outcomes.stream().anyMatch(o -> o.bypassBulk() != null);
        if (ping || outcomes.stream().allMatch(o -> o.unavailable() != null)) {
            md.append("\nTCP ping-pong (issue 14): one message in flight, client in namespace A, the same implementation echoing in "
                + "B. Bypass TCP = `Bypass.openTcp` on the backend at both ends (nio: the kernel's TCP through SocketChannel); "
                + "kernel TCP = `bench_tcp.c` at both ends (TCP_NODELAY, non-blocking recv in a spin loop, SO_BUSY_POLL where "
                + "allowed); Bypass UDP = UdpEndpoint on the same backend. Ratios are medians of run-by-run ratios (run i of "
                + "each, made seconds apart); percentiles pool every round trip. Goals: on every L2 backend Bypass TCP p50 and "
                + "p99 below the kernel's (ratio < 1), and within 10% of Bypass UDP (ratio <= " + UDP_GOAL + ").\n\n");
            header(md, PING_COLUMNS);
            for (final TcpScenario.Outcome o : outcomes) {
                if (o.unavailable() != null) {
                    md.append("| ").append(o.backend()).append(" | not available: ").append(cell(o.unavailable()))
                        .append(" | | | | | not measured |\n");
                } else if (o.tcp() != null) {
                    md.append(pingRow(o)).append('\n');
                }
            }
            md.append('\n');
        }
        if (bulk) {
            md.append("\nTCP bulk (issue 14): one connection, A to B, the stream checked byte for byte at the sink against the "
                + "pattern both ends generate, and CRC32C of what was sent = CRC32C of what was received (a run that fails "
                + "either is an error, not a figure). Gb/s at the sink, first byte to last. Both ends the same implementation.\n\n");
            header(md, BULK_COLUMNS);
            for (final TcpScenario.Outcome o : outcomes) {
                if (o.unavailable() != null) {
                    md.append("| ").append(o.backend()).append(" | not available: ").append(cell(o.unavailable())).append(" | | | | |\n");
                } else if (o.bypassBulk() != null) {
                    md.append(bulkRow(o)).append('\n');
                }
            }
            md.append('\n');
        }
    }

    private static void header(final StringBuilder md, final List<String> columns) {
        md.append('|');
        columns.forEach(c -> md.append(' ').append(c).append(" |"));
        md.append("\n|");
        columns.forEach(c -> md.append("---|"));
        md.append('\n');
    }

    private static String pingRow(final TcpScenario.Outcome o) {
        final double kp50 = ratio(o.tcp(), o.kernel(), true);
        final double kp99 = ratio(o.tcp(), o.kernel(), false);
        final double up50 = ratio(o.tcp(), o.udp(), true);
        final double up99 = ratio(o.tcp(), o.udp(), false);
        final List<String> goal = new ArrayList<>();
        if ("nio".equals(o.backend())) {
            goal.add("vs kernel: n/a, vs UDP: n/a (the goals are for L2 backends; nio's TCP and UDP are the kernel's)");
        } else {
            if (Double.isNaN(kp50) || Double.isNaN(kp99)) {
                goal.add("vs kernel: no figure");
            } else {
                goal.add(kp50 < 1 && kp99 < 1 ? "vs kernel: met" : "vs kernel: **NOT met**");
            }
            if (Double.isNaN(up50) || Double.isNaN(up99)) {
                goal.add("vs UDP: no figure");
            } else {
                goal.add(up50 <= UDP_GOAL && up99 <= UDP_GOAL ? "vs UDP: met" : "vs UDP: **NOT met**");
            }
        }
        final StringBuilder errors = new StringBuilder();
        for (final Measurement m : new Measurement[] {o.tcp(), o.kernel(), o.udp()}) {
            if (m != null && !m.errors().isEmpty()) {
                errors.append("; ").append(m.label()).append(" failed ").append(m.errors().size()).append("x: ")
                    .append(cell(m.errors().get(0)));
            }
        }
        return "| " + o.backend() + " | " + rtt(o.tcp()) + " | " + rtt(o.kernel()) + " | " + rtt(o.udp()) + " | "
            + fmt(kp50) + ", " + fmt(kp99) + " | " + fmt(up50) + ", " + fmt(up99) + " | " + String.join("; ", goal) + errors + " |";
    }

    private static String bulkRow(final TcpScenario.Outcome o) {
        final TcpScenario.Bulk b = o.bypassBulk();
        final TcpScenario.Bulk k = o.kernelBulk();
        final double bm = b.median();
        final double km = k == null ? Double.NaN : k.median();
        final int failed = b.errors().size() + (k == null ? 0 : k.errors().size());
        final String exact = failed == 0 ? "yes, every run" : "**NO**: " + cell(String.join("; ", b.errors()))
            + (k == null || k.errors().isEmpty() ? "" : "; kernel: " + cell(String.join("; ", k.errors())));
        return "| " + o.backend() + " | " + fmt(bm) + " (" + b.gbps().size() + ") | " + (k == null ? "-" : fmt(km) + " (" + k.gbps().size() + ")")
            + " | " + fmt(bm / km) + " | " + exact + " | " + (Double.isNaN(bm) ? "no figure" : bm >= 2 ? "met" : "**NOT met**") + " |";
    }

    private static double ratio(final Measurement m, final Measurement base, final boolean p50) {
        if (m == null || base == null || m.runs().isEmpty() || base.runs().isEmpty()) {
            return Double.NaN;
        }
        return m.pairedRatio(base, p50 ? Measurement.Run::p50Nanos : Measurement.Run::p99Nanos);
    }

    private static String rtt(final Measurement m) {
        if (m == null || !m.hasData()) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.1f / %.1f / %.1f / %.1f", m.pooledP50() / 1e3, m.pooledP99() / 1e3, m.pooledP999() / 1e3,
            mean(m) / 1e3);
    }

    /** @return mean round trip over every run, ns */
    static double mean(final Measurement m) {
        double sum = 0;
        long n = 0;
        for (final Measurement.Run r : m.runs()) {
            for (final long v : r.rtts()) {
                sum += v;
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    private static String cell(final String s) {
        return s.replace('|', '/').replace('\n', ' ');
    }

    private static String fmt(final double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "-" : String.format(Locale.ROOT, "%.2f", v);
    }

    static List<Object> json(final List<TcpScenario.Outcome> outcomes) {
        final List<Object> list = new ArrayList<>();
        for (final TcpScenario.Outcome o : outcomes) {
            final Map<String, Object> m = new LinkedHashMap<>();
            m.put("backend", o.backend());
            m.put("unavailable", o.unavailable());
            if (o.tcp() != null) {
                m.put("pingpong_bypass_tcp", ping(o.tcp()));
                m.put("pingpong_kernel_tcp_c", ping(o.kernel()));
                m.put("pingpong_bypass_udp", ping(o.udp()));
                m.put("ratio_tcp_kernel_p50", ratio(o.tcp(), o.kernel(), true));
                m.put("ratio_tcp_kernel_p99", ratio(o.tcp(), o.kernel(), false));
                m.put("ratio_tcp_udp_p50", ratio(o.tcp(), o.udp(), true));
                m.put("ratio_tcp_udp_p99", ratio(o.tcp(), o.udp(), false));
            }
            if (o.bypassBulk() != null) {
                m.put("bulk_bypass_tcp", bulk(o.bypassBulk()));
                m.put("bulk_kernel_tcp_c", o.kernelBulk() == null ? null : bulk(o.kernelBulk()));
            }
            list.add(m);
        }
        return list;
    }

    private static Map<String, Object> ping(final Measurement m) {
        if (m == null) {
            return null;
        }
        final Map<String, Object> o = new LinkedHashMap<>();
        o.put("label", m.label());
        o.put("p50_ns", m.pooledP50());
        o.put("p99_ns", m.pooledP99());
        o.put("p999_ns", m.pooledP999());
        o.put("avg_ns", mean(m));
        final List<Object> runs = new ArrayList<>();
        for (final Measurement.Run r : m.runs()) {
            final Map<String, Object> ro = new LinkedHashMap<>();
            ro.put("round_trips", r.packets());
            ro.put("p50_ns", r.p50Nanos());
            ro.put("p99_ns", r.p99Nanos());
            ro.put("p999_ns", r.p999Nanos());
            ro.put("alloc_bytes", r.allocBytes());
            runs.add(ro);
        }
        o.put("runs", runs);
        o.put("errors", m.errors());
        return o;
    }

    private static Map<String, Object> bulk(final TcpScenario.Bulk b) {
        final Map<String, Object> o = new LinkedHashMap<>();
        o.put("label", b.label());
        o.put("median_gbps", b.median());
        o.put("gbps_per_run", new ArrayList<Object>(b.gbps()));
        o.put("errors", b.errors());
        return o;
    }
}
