package io.bypass.bench.net;

import io.bypass.testkit.Cmd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The sockperf scenario: a third-party client judges the ping-pong server. {@code sockperf
 * ping-pong} (a kernel UDP client) in namespace A measures, in turn, {@code bypass pingpong
 * server} in namespace B on the backend under test and the C reflector on libxdp
 * ({@code bench_xsk mode=sockperf}: the same reply, zero-copy bounce, UDP checksum summed in
 * software) on the same veth. Runs come in pairs, Java then C or C then Java by turns, each with a fresh server
 * process; each pair gives a ratio (Java / C) of sockperf's average latency and of its
 * p99.9, and the medians of those ratios are the result, so a host whose speed drifts lands
 * on both alike.
 *
 * <p>Each server is measured twice in its run: by sockperf's default client, which sleeps in
 * {@code recvfrom} (the headline figure), then by the same client spinning
 * ({@code --nonblocked}). The sleeping client's latency is bimodal: about 4 µs when the reply
 * lands before it has gone to sleep, 9-12 µs on this host when it has to be woken, so a
 * difference of a few hundred nanoseconds in the server's turnaround can move a run from one
 * mode to the other. The spinning client has no such mode and shows the servers' own difference.
 */
public final class SockperfScenario {
    /** The server's UDP port. */
    static final int PORT = 11111;
    private static final Pattern AVG = Pattern.compile("avg-latency=([0-9.]+)");
    private static final Pattern P999 = Pattern.compile("percentile 99\\.900 =\\s+([0-9.]+)");
    // each server's loop stalls over 1 ms, as it reports them at exit: the Java summary's and the reflector's STALLS line
    private static final Pattern STALLS = Pattern.compile("\"poll_gaps_over_1ms\":([0-9]+)|^STALLS \\{\"over_1ms\":([0-9]+)",
        Pattern.MULTILINE);

    /**
     * Knobs of the scenario.
     *
     * @param pairs   Java/C pairs of runs
     * @param seconds sockperf's {@code --time} per run
     */
    public record Settings(int pairs, int seconds, int warmupSeconds) {
    }

    /**
     * One backend's pairs.
     *
     * @param backend  backend of the Java server
     * @param label    what served (Java's URI kind)
     * @param javaAvg  sockperf's average latency per pair against Java, µs
     * @param javaP999 its p99.9 per pair against Java, µs
     * @param cAvg     the same against the C reflector, µs
     * @param cP999    its p99.9 per pair against C, µs
     * @param javaStalls the Java server's stalls over 1 ms per run ({@code poll_gaps_over_1ms}), NaN if it did not say
     * @param cStalls    the C reflector's, counted the same way
     * @param spinning the same, measured by the spinning client ({@code --nonblocked}) in the same runs
     * @param error    why it could not run, or null
     */
    public record Outcome(String backend, String label, double[] javaAvg, double[] javaP999, double[] cAvg, double[] cP999,
                          double[] javaStalls, double[] cStalls, Outcome spinning, String error) {
        static Outcome failed(final String backend, final String label, final String error) {
            final double[] none = new double[0];
            return new Outcome(backend, label, none, none, none, none, none, none, null, error);
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
     * @param uri     the Java server's URI on B's interface
     * @param a       sockperf's side
     * @param b       the servers' side
     * @return the outcome, with the error where it could not run
     */
    Outcome run(final String backend, final String uri, final NetHarness.Side a, final NetHarness.Side b) {
        final Path reflector = harness.natives().binary("xsk");
        final String label = "Java " + backend + " pingpong server";
        if (reflector == null) {
            return Outcome.failed(backend, label, "no C reflector: the C libxdp xsk baseline did not build");
        }
        if (Cmd.runUnchecked("sh", "-c", "command -v sockperf").exitCode() != 0) {
            return Outcome.failed(backend, label, "sockperf not installed (Debian package sockperf)");
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
                    j = measure(javaServer(uri, b), a, b, "Java " + backend, i);
                    harness.awaitNoXdp(b);
                    r = measure(cReflector(reflector, b), a, b, "C reflector", i);
                } else {
                    r = measure(cReflector(reflector, b), a, b, "C reflector", i);
                    harness.awaitNoXdp(b);
                    j = measure(javaServer(uri, b), a, b, "Java " + backend, i);
                }
                harness.awaitNoXdp(b);
                for (int k = 0; k < java.length; k++) {
                    java[k][i] = j[k];
                    c[k][i] = r[k];
                }
                System.out.printf(Locale.ROOT, "[net] %-6s sockperf pair %d/%d: avg %.2f / %.2f us, p99.9 %.2f / %.2f us;"
                    + " spinning client avg %.2f / %.2f us, p99.9 %.2f / %.2f us; stalls over 1 ms %.0f / %.0f%n",
                    backend, i + 1, settings.pairs(), j[0], r[0], j[1], r[1], j[2], r[2], j[3], r[3], j[4], r[4]);
            }
            final Outcome spinning = new Outcome(backend, label + ", spinning client", java[2], java[3], c[2], c[3], java[4], c[4],
                null, null);
            return new Outcome(backend, label, java[0], java[1], c[0], c[1], java[4], c[4], spinning, null);
        } catch (final Exception e) {
            System.out.println("[net]   sockperf FAILED: " + e.getMessage());
            return Outcome.failed(backend, label, String.valueOf(e.getMessage()));
        }
    }

    private List<String> javaServer(final String uri, final NetHarness.Side b) {
        final List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", b.ns()));
        cmd.addAll(javaLauncher);
        cmd.addAll(List.of("io.bypass.samples.Main", "pingpong", "server", "--uri", uri, "--port", Integer.toString(PORT),
            "--json", "--duration", "3600s"));
        if (b.cpu() >= 0) {
            cmd.addAll(List.of("--cpu", Integer.toString(b.cpu())));
        }
        return cmd;
    }

    private static List<String> cReflector(final Path reflector, final NetHarness.Side b) {
        final List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", b.ns(), reflector.toString(), "xdp=drv",
            "mode=sockperf", "iface=" + b.iface(), "port=" + PORT, "duration_ms=3600000"));
        if (b.cpu() >= 0) {
            cmd.add("cpu=" + b.cpu());
        }
        return cmd;
    }

    /**
     * Starts a server, waits for it to say it is ready, runs sockperf against it sleeping then spinning, stops it:
     * {avg, p99.9, spinning avg, spinning p99.9} in µs, then the stalls over 1 ms it reported at exit (NaN if none).
     */
    private double[] measure(final List<String> server, final NetHarness.Side a, final NetHarness.Side b, final String what,
                             final int pair) throws Exception {
        final Path log = harness.logFile("sockperf-" + what + "-" + pair);
        Files.writeString(log, String.join(" ", server) + "\n");
        final Process p = new ProcessBuilder(server).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        try {
            awaitReady(p, log, what);
            final List<String> client = new ArrayList<>(List.of("ip", "netns", "exec", a.ns()));
            if (a.cpu() >= 0) {
                client.addAll(List.of("taskset", "-c", Integer.toString(a.cpu())));
            }
            client.addAll(List.of("sockperf", "ping-pong", "-i", b.ip(), "-p", Integer.toString(PORT), "-m", "64", "--time"));
            if (settings.warmupSeconds() > 0) {
                // Unrecorded traffic first, for either server alike: the measured run starts with both warm.
                final List<String> warm = new ArrayList<>(client);
                warm.add(Integer.toString(settings.warmupSeconds()));
                final Cmd.Result w = Cmd.runUnchecked(warm.toArray(String[]::new));
                Files.writeString(log, "\n--- sockperf warm-up (not recorded), exit " + w.exitCode() + "\n",
                    java.nio.file.StandardOpenOption.APPEND);
            }
            client.add(Integer.toString(settings.seconds()));
            final double[] sleeping = sockperf(client, log, what, "sockperf");
            client.add("--nonblocked");
            final double[] spinning = sockperf(client, log, what, "sockperf --nonblocked (spinning client)");
            stop(p);
            return new double[] {sleeping[0], sleeping[1], spinning[0], spinning[1], stalls(Files.readString(log))};
        } finally {
            stop(p);
        }
    }

    private static void stop(final Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** The stalls over 1 ms a server reported at exit, NaN if it reported none. */
    static double stalls(final String log) {
        final Matcher m = STALLS.matcher(log);
        if (!m.find()) {
            return Double.NaN;
        }
        return Double.parseDouble(m.group(1) != null ? m.group(1) : m.group(2));
    }

    private static double[] sockperf(final List<String> client, final Path log, final String what, final String title)
        throws IOException {
        final Cmd.Result r = Cmd.runUnchecked(client.toArray(String[]::new));
        final String out = r.stdout() + r.stderr();
        Files.writeString(log, "\n--- " + title + "\n" + out, java.nio.file.StandardOpenOption.APPEND);
        final Matcher avg = AVG.matcher(out);
        final Matcher p999 = P999.matcher(out);
        if (r.exitCode() != 0 || !avg.find() || !p999.find()) {
            throw new IllegalStateException(title + " against " + what + " gave no latency (exit " + r.exitCode() + "); see " + log);
        }
        return new double[] {Double.parseDouble(avg.group(1)), Double.parseDouble(p999.group(1))};
    }

    /** The sample says "ready" on stderr, the C reflector "READY" on stdout; both land in the log. */
    private static void awaitReady(final Process p, final Path log, final String what) throws IOException, InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() - deadline < 0) {
            for (final String line : Files.readAllLines(log)) {
                if (line.equalsIgnoreCase("ready")) {
                    return;
                }
            }
            if (!p.isAlive()) {
                throw new IllegalStateException(what + " exited with " + p.exitValue() + " before it was ready; see " + log);
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException(what + " not ready within 60 s; see " + log);
    }
}
