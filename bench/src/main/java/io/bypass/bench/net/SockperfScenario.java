package io.bypass.bench.net;

import io.bypass.testkit.Cmd;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The sockperf scenario: a third-party client judges the ping-pong server. {@code sockperf
 * ping-pong} (a kernel UDP client) in namespace A measures, in turn, {@code bypass pingpong
 * server} in namespace B on the backend under test and the C reflector on libxdp
 * ({@code bench_xsk mode=sockperf}: the same reply, zero-copy bounce, UDP checksum summed in
 * software). Each pair gives a ratio (Java / C) of sockperf's average latency and of its
 * p99.9, and the medians of those ratios are the result, so a host whose speed drifts lands
 * on both alike. Two methods ({@link Settings#interleaved()}):
 * <ul>
 *   <li>fresh servers (the default): one veth; runs come in pairs, Java then C or C then Java by turns, each with a
 *       fresh server process, so every run includes a server's start and a pair's two runs are some 15 s apart;</li>
 *   <li>interleaved ({@link SockperfInterleaved}): two veth pairs, both servers up at once, one on each, taking turns
 *       (the other paused by {@code SIGSTOP}), so the two halves of a pair are seconds apart on the same host state.
 *       It resolves differences of a few per cent that the fresh method's pair-to-pair spread hides.</li>
 * </ul>
 *
 * <p>Each server is measured twice in its run: by sockperf's default client, which sleeps in
 * {@code recvfrom} (the headline figure), then by the same client spinning
 * ({@code --nonblocked}). The sleeping client's latency is bimodal: about 4 µs when the reply
 * lands before it has gone to sleep, 9-12 µs on this host when it has to be woken, so a
 * difference of a few hundred nanoseconds in the server's turnaround can move a run from one
 * mode to the other. The spinning client has no such mode and shows the servers' own difference.
 */
public final class SockperfScenario {
    // each server's loop stalls over 1 ms, as it reports them at exit: the Java summary's and the reflector's STALLS line
    private static final Pattern STALLS = Pattern.compile("\"poll_gaps_over_1ms\":([0-9]+)|^STALLS \\{\"over_1ms\":([0-9]+)",
        Pattern.MULTILINE);

    /**
     * Knobs of the scenario.
     *
     * @param pairs         Java/C pairs of runs
     * @param seconds       sockperf's {@code --time} per run
     * @param warmupSeconds unrecorded sockperf traffic before each run (fresh method), or from each client after each
     *                      server's start (interleaved)
     * @param interleaved   both servers up at once on two veth pairs, taking turns, instead of a fresh server per run
     * @param calibrate     interleaved, with the C reflector in the Java server's place: the method's own zero and
     *                      spread on this host, against which a Java / C ratio can be read
     */
    public record Settings(int pairs, int seconds, int warmupSeconds, boolean interleaved, boolean calibrate) {
    }

    /**
     * One backend's pairs.
     *
     * @param backend  backend of the Java server
     * @param label    what served (Java's URI kind)
     * @param interleaved measured by the interleaved method (both servers up, taking turns), not with fresh servers
     * @param javaAvg  sockperf's average latency per pair against Java, µs
     * @param javaP999 its p99.9 per pair against Java, µs
     * @param cAvg     the same against the C reflector, µs
     * @param cP999    its p99.9 per pair against C, µs
     * @param javaStalls the Java server's stalls over 1 ms per run ({@code poll_gaps_over_1ms}), NaN if it did not say
     *                   (and always NaN when interleaved: a paused server's loop sees its pauses as gaps)
     * @param cStalls    the C reflector's, counted the same way
     * @param spinning the same, measured by the spinning client ({@code --nonblocked}) in the same runs
     * @param error    why it could not run, or null
     */
    public record Outcome(String backend, String label, boolean interleaved, double[] javaAvg, double[] javaP999, double[] cAvg, double[] cP999,
                          double[] javaStalls, double[] cStalls, Outcome spinning, String error) {
        static Outcome failed(final String backend, final String label, final boolean interleaved, final String error) {
            final double[] none = new double[0];
            return new Outcome(backend, label, interleaved, none, none, none, none, none, none, null, error);
        }

        /** @return the median over pairs of Java's average / C's average */
        public double avgRatio() {
            return medianRatio(javaAvg, cAvg);
        }

        /** @return the median over pairs of Java's p99.9 / C's p99.9 */
        public double p999Ratio() {
            return medianRatio(javaP999, cP999);
        }

        private static double medianRatio(final double[] java, final double[] c) {
            final int n = Math.min(java.length, c.length);
            if (n == 0) {
                return Double.NaN;
            }
            final double[] r = new double[n];
            for (int i = 0; i < n; i++) {
                r[i] = java[i] / c[i];
            }
            Arrays.sort(r);
            return n % 2 == 1 ? r[n / 2] : (r[n / 2 - 1] + r[n / 2]) / 2;
        }
    }

    private final NetHarness harness;
    private final Settings settings;
    private final List<String> javaLauncher;

    SockperfScenario(final NetHarness harness, final Settings settings, final List<String> javaLauncher) {
        this.harness = harness;
        this.settings = settings;
        this.javaLauncher = javaLauncher;
    }

    /**
     * Runs the pairs for one backend.
     *
     * @param backend backend name
     * @param uri     the Java server's URI on a servers' side's interface
     * @param a       sockperf's side
     * @param b       the servers' side
     * @return the outcome, with the error where it could not run
     */
    Outcome run(final String backend, final Function<NetHarness.Side, String> uri, final NetHarness.Side a,
                final NetHarness.Side b) {
        final Path reflector = harness.natives().binary("xsk");
        final String label = settings.calibrate() ? "C reflector in the Java server's place (calibration)"
            : "Java " + backend + " pingpong server";
        if (reflector == null) {
            return Outcome.failed(backend, label, settings.interleaved(), "no C reflector: the C libxdp xsk baseline did not build");
        }
        if (Cmd.runUnchecked("sh", "-c", "command -v sockperf").exitCode() != 0) {
            return Outcome.failed(backend, label, settings.interleaved(), "sockperf not installed (Debian package sockperf)");
        }
        if (settings.interleaved()) {
            // a calibration's row says so where the backend's name would stand alone
            final String row = settings.calibrate() ? backend + ", calibration: C reflector against itself" : backend;
            return new SockperfInterleaved(harness, settings, javaLauncher, reflector).run(row, label, uri, a, b);
        }
        // {avg, p99.9, spinning avg, spinning p99.9, stalls} per pair
        final double[][] java = new double[5][settings.pairs()];
        final double[][] c = new double[5][settings.pairs()];
        try {
            for (int i = 0; i < settings.pairs(); i++) {
                // Java first in even pairs, C first in odd ones: the host drifts over a run, and
                // always measuring one side first would lend that drift to the ratio.
                final double[] j;
                final double[] r;
                if (i % 2 == 0) {
                    j = measure(SockperfRuns.javaServer(javaLauncher, uri.apply(b), b), a, b, "Java " + backend, i);
                    harness.awaitNoXdp(b);
                    r = measure(SockperfRuns.cReflector(reflector, b), a, b, "C reflector", i);
                } else {
                    r = measure(SockperfRuns.cReflector(reflector, b), a, b, "C reflector", i);
                    harness.awaitNoXdp(b);
                    j = measure(SockperfRuns.javaServer(javaLauncher, uri.apply(b), b), a, b, "Java " + backend, i);
                }
                harness.awaitNoXdp(b);
                for (int k = 0; k < java.length; k++) {
                    java[k][i] = j[k];
                    c[k][i] = r[k];
                }
                printPair(backend, i, settings.pairs(), j, r);
            }
            return outcome(backend, label, false, java, c);
        } catch (final Exception e) {
            System.out.println("[net]   sockperf FAILED: " + e.getMessage());
            return Outcome.failed(backend, label, false, String.valueOf(e.getMessage()));
        }
    }

    /**
     * Starts a server, runs one turn of sockperf against it (sleeping then spinning client), stops it:
     * {avg, p99.9, spinning avg, spinning p99.9} in µs, then the stalls over 1 ms it reported at exit (NaN if none).
     */
    private double[] measure(final List<String> server, final NetHarness.Side a, final NetHarness.Side b, final String what,
                             final int pair) throws Exception {
        final Path log = harness.logFile("sockperf-" + what + "-" + pair);
        final Process p = SockperfRuns.start(server, log, what);
        try {
            final double[] t = SockperfRuns.turn(a, b, settings.warmupSeconds(), settings.seconds(), log, what);
            SockperfRuns.stop(p);
            return new double[] {t[0], t[1], t[2], t[3], stalls(Files.readString(log))};
        } finally {
            SockperfRuns.stop(p);
        }
    }

    /** Prints one pair's figures, {avg, p99.9, spinning avg, spinning p99.9, stalls} of each server, as they come. */
    static void printPair(final String backend, final int i, final int pairs, final double[] j, final double[] r) {
        System.out.printf(Locale.ROOT, "[net] %-6s sockperf pair %d/%d: avg %.2f / %.2f us, p99.9 %.2f / %.2f us;"
            + " spinning client avg %.2f / %.2f us, p99.9 %.2f / %.2f us; %s%n",
            backend, i + 1, pairs, j[0], r[0], j[1], r[1], j[2], r[2], j[3], r[3],
            Double.isNaN(j[4]) && Double.isNaN(r[4]) ? "stalls not counted"
                : String.format(Locale.ROOT, "stalls over 1 ms %.0f / %.0f", j[4], r[4]));
    }

    /** The outcome of complete pairs: {avg, p99.9, spinning avg, spinning p99.9, stalls} by pair, of each server. */
    static Outcome outcome(final String backend, final String label, final boolean interleaved, final double[][] java,
                           final double[][] c) {
        final Outcome spinning = new Outcome(backend, label + ", spinning client", interleaved, java[2], java[3], c[2], c[3],
            java[4], c[4], null, null);
        return new Outcome(backend, label, interleaved, java[0], java[1], c[0], c[1], java[4], c[4], spinning, null);
    }

    /** The stalls over 1 ms a server reported at exit, NaN if it reported none. */
    static double stalls(final String log) {
        final Matcher m = STALLS.matcher(log);
        if (!m.find()) {
            return Double.NaN;
        }
        return Double.parseDouble(m.group(1) != null ? m.group(1) : m.group(2));
    }
}
