package io.bypass.bench.report;

import io.bypass.bench.net.ZeroLossScenario;
import io.bypass.bench.net.ZeroLossSearch;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The zeroloss scenario's part of the report: a table per backend (Java zero-loss rate, C
 * zero-loss rate, ratio), a bar chart ({@code zeroloss.png}) and the searches for
 * {@code results.json}, every trial included.
 */
public final class ZeroLossReport {
    /** The columns of the zeroloss table, in order (the tests check them). */
    public static final List<String> COLUMNS = List.of("Backend", "Java zero-loss rate", "C zero-loss rate", "Ratio Java/C",
        "Trials Java (C)", "Note");

    private ZeroLossReport() {
    }

    /**
     * @param outcomes the searches
     * @param backend  a backend
     * @return Java's zero-loss rate divided by C's for that backend, NaN if either is missing or C's is 0
     */
    public static double ratio(final List<ZeroLossScenario.Outcome> outcomes, final String backend) {
        final ZeroLossScenario.Outcome java = find(outcomes, backend, "java");
        final ZeroLossScenario.Outcome c = find(outcomes, backend, "c");
        if (java == null || c == null || java.result() == null || c.result() == null || c.result().zeroLossPps() <= 0) {
            return Double.NaN;
        }
        return java.result().zeroLossPps() / c.result().zeroLossPps();
    }

    /**
     * Appends the section (nothing if the scenario did not run).
     *
     * @param md       the report
     * @param outcomes the searches
     */
    static void markdown(final StringBuilder md, final List<ZeroLossScenario.Outcome> outcomes) {
        if (outcomes.isEmpty()) {
            return;
        }
        md.append("Zero-loss rate (RFC 2544 throughput on the feed path): the highest rate of a MoldUDP64 multicast feed "
            + "(one message per packet) received with no loss in consecutive trials, found by binary search; the rate is the one "
            + "the sender achieved. Java: UdpEndpoint + the samples' FeedHandler/Arbitrator; C: the same checks on the same "
            + "library. A ratio above 1 means Java kept up at a higher rate than C.\n\n");
        md.append('|');
        COLUMNS.forEach(c -> md.append(' ').append(c).append(" |"));
        md.append("\n|");
        COLUMNS.forEach(c -> md.append("---|"));
        md.append('\n');
        final List<String> backends = new ArrayList<>();
        outcomes.forEach(o -> {
            if (!backends.contains(o.backend())) {
                backends.add(o.backend());
            }
        });
        for (final String b : backends) {
            final ZeroLossScenario.Outcome java = find(outcomes, b, "java");
            final ZeroLossScenario.Outcome c = find(outcomes, b, "c");
            final double r = ratio(outcomes, b);
            final List<String> notes = new ArrayList<>();
            note(notes, "Java", java);
            note(notes, "C", c);
            if (c == null) {
                notes.add("efvi".equals(b) ? "no C baseline (software libciul stand-in): absolute figure only" : "no C baseline");
            }
            md.append("| ").append(b).append(" (UdpEndpoint)").append(" vs ").append(c == null ? "-" : c.label())
                .append(" | ").append(rate(java)).append(" | ").append(c == null ? "n/a" : rate(c))
                .append(" | ").append(Double.isNaN(r) ? "n/a" : String.format(Locale.ROOT, "%.2f", r))
                .append(" | ").append(trials(java)).append(c == null ? "" : " (" + trials(c) + ")")
                .append(" | ").append(String.join("; ", notes)).append(" |\n");
        }
        md.append("\n![zero-loss rate per backend](zeroloss.png)\n\n");
    }

    private static void note(final List<String> notes, final String who, final ZeroLossScenario.Outcome o) {
        if (o == null) {
            return;
        }
        if (o.error() != null) {
            notes.add(who + " failed: " + o.error());
            return;
        }
        if (o.result().atMaximum()) {
            notes.add(who + " passed at the maximum offered: at least this");
        }
        if (o.result().senderLimited()) {
            notes.add(who + ": sender achieved < 95% of the asked rate there (sender-limited)");
        }
        if (o.result().zeroLossPps() == 0) {
            notes.add(who + ": no rate passed");
        }
    }

    private static String rate(final ZeroLossScenario.Outcome o) {
        if (o == null || o.result() == null) {
            return "failed";
        }
        final double v = o.result().zeroLossPps();
        return v >= 1e6 ? String.format(Locale.ROOT, "%.2f Mpps", v / 1e6) : String.format(Locale.ROOT, "%.0f kpps", v / 1e3);
    }

    private static String trials(final ZeroLossScenario.Outcome o) {
        return o == null || o.result() == null ? "-" : Integer.toString(o.result().trialCount());
    }

    private static ZeroLossScenario.Outcome find(final List<ZeroLossScenario.Outcome> outcomes, final String backend, final String impl) {
        for (final ZeroLossScenario.Outcome o : outcomes) {
            if (o.backend().equals(backend) && o.impl().equals(impl)) {
                return o;
            }
        }
        return null;
    }

    /**
     * Draws {@code zeroloss.png}: one group of bars per backend (Java solid, C hatched).
     *
     * @param outcomes the searches
     * @param out      PNG file
     * @throws IOException if it cannot be written
     */
    static void chart(final List<ZeroLossScenario.Outcome> outcomes, final Path out) throws IOException {
        final Map<String, List<Chart.Bar>> groups = new LinkedHashMap<>();
        for (final ZeroLossScenario.Outcome o : outcomes) {
            final double v = o.result() == null ? 0 : o.result().zeroLossPps();
            final double r = ratio(outcomes, o.backend());
            final String text = o.result() == null ? "failed"
                : String.format(Locale.ROOT, "%.0f kpps%s", v / 1e3, "java".equals(o.impl()) && !Double.isNaN(r)
                    ? String.format(Locale.ROOT, " (x%.2f)", r) : "");
            groups.computeIfAbsent(o.backend(), k -> new ArrayList<>())
                .add(new Chart.Bar("c".equals(o.impl()) ? "C baseline" : "Java", v, "c".equals(o.impl()), text));
        }
        Chart.writeBars("Zero-loss rate per backend (MoldUDP64 multicast feed, RFC 2544 search)",
            "kpps received with zero loss (achieved send rate); solid = Java UdpEndpoint + feed handler, hatched = C on the same "
                + "library; (xN) = Java/C",
            groups, out);
    }

    /**
     * @param outcomes the searches
     * @return their JSON tree: every step and trial
     */
    static List<Object> json(final List<ZeroLossScenario.Outcome> outcomes) {
        final List<Object> list = new ArrayList<>();
        for (final ZeroLossScenario.Outcome o : outcomes) {
            final Map<String, Object> m = new LinkedHashMap<>();
            m.put("backend", o.backend());
            m.put("impl", o.impl());
            m.put("label", o.label());
            m.put("error", o.error());
            if ("java".equals(o.impl())) {
                m.put("ratio_to_c", ratio(outcomes, o.backend()));
            }
            final ZeroLossSearch.Result r = o.result();
            if (r != null) {
                m.put("zero_loss_pps", r.zeroLossPps());
                m.put("asked_pps", r.askedPps());
                m.put("at_maximum", r.atMaximum());
                m.put("sender_limited", r.senderLimited());
                m.put("trials", r.trialCount());
                final List<Object> steps = new ArrayList<>();
                for (final ZeroLossSearch.Step s : r.steps()) {
                    final Map<String, Object> so = new LinkedHashMap<>();
                    so.put("asked_pps", s.askedPps());
                    so.put("passed", s.passed());
                    final List<Object> ts = new ArrayList<>();
                    for (final ZeroLossSearch.Trial t : s.trials()) {
                        final Map<String, Object> to = new LinkedHashMap<>();
                        to.put("achieved_pps", t.achievedPps());
                        to.put("sent", t.sent());
                        to.put("received", t.received());
                        to.put("gaps", t.gaps());
                        to.put("lost", t.lost());
                        to.put("passed", t.passed());
                        to.put("note", t.note());
                        ts.add(to);
                    }
                    so.put("trials", ts);
                    steps.add(so);
                }
                m.put("steps", steps);
            }
            list.add(m);
        }
        return list;
    }
}
