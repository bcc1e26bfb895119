package io.bypass.bench.net;

import io.bypass.testkit.Cmd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What both methods of the sockperf scenario share: the two servers' commands, starting a
 * server and waiting for it to say it is ready, pausing and resuming it, stopping it, and one
 * server's turn under sockperf (unrecorded warm-up, then the sleeping and the spinning client).
 */
final class SockperfRuns {
    /** The server's UDP port. */
    static final int PORT = 11111;
    private static final Pattern AVG = Pattern.compile("avg-latency=([0-9.]+)");
    private static final Pattern P999 = Pattern.compile("percentile 99\\.900 =\\s+([0-9.]+)");

    private SockperfRuns() {
    }

    /** @return {@code bypass pingpong server} on {@code uri} in B's namespace, pinned to B's CPU */
    static List<String> javaServer(final List<String> javaLauncher, final String uri, final NetHarness.Side b) {
        final List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", b.ns()));
        cmd.addAll(javaLauncher);
        cmd.addAll(List.of("io.bypass.samples.Main", "pingpong", "server", "--uri", uri, "--port", Integer.toString(PORT),
            "--json", "--duration", "3600s"));
        if (b.cpu() >= 0) {
            cmd.addAll(List.of("--cpu", Integer.toString(b.cpu())));
        }
        return cmd;
    }

    /** @return the C reflector ({@code bench_xsk mode=sockperf}) on B's interface, pinned to B's CPU */
    static List<String> cReflector(final Path reflector, final NetHarness.Side b) {
        final List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", b.ns(), reflector.toString(), "xdp=drv",
            "mode=sockperf", "iface=" + b.iface(), "port=" + PORT, "duration_ms=3600000"));
        if (b.cpu() >= 0) {
            cmd.add("cpu=" + b.cpu());
        }
        return cmd;
    }

    /**
     * Starts a server with its output in {@code log} and waits until it says it is ready. {@code ip netns exec}
     * execs the server in place, so the process returned is the server itself (which {@link #signal} relies on).
     */
    static Process start(final List<String> server, final Path log, final String what) throws IOException, InterruptedException {
        Files.writeString(log, String.join(" ", server) + "\n");
        final Process p = new ProcessBuilder(server).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        try {
            awaitReady(p, log, what);
        } catch (final IOException | InterruptedException | RuntimeException e) {
            stop(p);
            throw e;
        }
        return p;
    }

    /**
     * Stops (SIGSTOP) or resumes (SIGCONT) a server and waits until the kernel shows it so; a paused server takes no
     * CPU and its XDP program stays.
     *
     * @throws IllegalStateException if the process is {@code ip} itself (it forked instead of exec'ing the server,
     *                               so pausing it would leave the server running), or does not reach the state
     */
    static void signal(final Process p, final boolean resume) throws InterruptedException {
        final String pid = Long.toString(p.pid());
        final String comm = proc(pid, "comm").strip();
        if ("ip".equals(comm)) {
            throw new IllegalStateException("process " + pid + " is still 'ip netns exec', not the server: cannot pause it");
        }
        final Cmd.Result r = Cmd.runUnchecked("kill", resume ? "-CONT" : "-STOP", pid);
        if (r.exitCode() != 0) {
            throw new IllegalStateException("kill " + (resume ? "-CONT " : "-STOP ") + pid + " (" + comm + ") failed: " + r.stderr());
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (stopped(pid) == resume) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(comm + " (" + pid + ") not " + (resume ? "resumed" : "stopped") + " within 2 s");
            }
            Thread.sleep(1);
        }
    }

    /** Whether /proc says the process is stopped (state T); gone counts as not stopped. */
    private static boolean stopped(final String pid) {
        final String stat = proc(pid, "stat");
        final int end = stat.lastIndexOf(')');
        return end > 0 && end + 2 < stat.length() && stat.charAt(end + 2) == 'T';
    }

    private static String proc(final String pid, final String file) {
        try {
            return Files.readString(Path.of("/proc", pid, file));
        } catch (final IOException gone) {
            return "";
        }
    }

    /** Terminates a server (resuming it first, or a paused one would not see SIGTERM) and waits for it. */
    static void stop(final Process p) throws InterruptedException {
        if (!p.isAlive()) {
            return;
        }
        Cmd.runUnchecked("kill", "-CONT", Long.toString(p.pid()));
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    /**
     * One turn of sockperf against the server on {@code b}: {@code warmupSeconds} of unrecorded traffic, then
     * {@code seconds} with the sleeping client and {@code seconds} with the spinning one ({@code --nonblocked}),
     * their output appended to {@code log}.
     *
     * @return {avg, p99.9, spinning avg, spinning p99.9} in µs
     */
    static double[] turn(final NetHarness.Side a, final NetHarness.Side b, final int warmupSeconds, final int seconds,
                         final Path log, final String what) throws IOException {
        final double[] sleeping = turn(a, b, warmupSeconds, seconds, false, log, what);
        final double[] spinning = turn(a, b, 0, seconds, true, log, what);
        return new double[] {sleeping[0], sleeping[1], spinning[0], spinning[1]};
    }

    /**
     * One client's turn against the server on {@code b}: {@code warmupSeconds} of unrecorded traffic, then
     * {@code seconds} recorded, sleeping or spinning, the output appended to {@code log}.
     *
     * @return {avg, p99.9} in µs
     */
    static double[] turn(final NetHarness.Side a, final NetHarness.Side b, final int warmupSeconds, final int seconds,
                         final boolean spinning, final Path log, final String what) throws IOException {
        final List<String> client = client(a, b);
        warmUp(client, warmupSeconds, log);
        client.add(Integer.toString(seconds));
        if (spinning) {
            client.add("--nonblocked");
        }
        return sockperf(client, log, what, spinning ? "sockperf --nonblocked (spinning client)" : "sockperf");
    }

    /** sockperf ping-pong from A against B's server, up to {@code --time}'s value. */
    private static List<String> client(final NetHarness.Side a, final NetHarness.Side b) {
        final List<String> client = new ArrayList<>(List.of("ip", "netns", "exec", a.ns()));
        if (a.cpu() >= 0) {
            client.addAll(List.of("taskset", "-c", Integer.toString(a.cpu())));
        }
        client.addAll(List.of("sockperf", "ping-pong", "-i", b.ip(), "-p", Integer.toString(PORT), "-m", "64", "--time"));
        return client;
    }

    /** Unrecorded traffic first, for either server alike: the measured run starts with both warm. */
    private static void warmUp(final List<String> client, final int warmupSeconds, final Path log) throws IOException {
        if (warmupSeconds > 0) {
            final List<String> warm = new ArrayList<>(client);
            warm.add(Integer.toString(warmupSeconds));
            final Cmd.Result w = Cmd.runUnchecked(warm.toArray(String[]::new));
            Files.writeString(log, "\n--- sockperf warm-up (not recorded), exit " + w.exitCode() + "\n", StandardOpenOption.APPEND);
        }
    }

    private static double[] sockperf(final List<String> client, final Path log, final String what, final String title)
        throws IOException {
        final Cmd.Result r = Cmd.runUnchecked(client.toArray(String[]::new));
        final String out = r.stdout() + r.stderr();
        Files.writeString(log, "\n--- " + title + "\n" + out, StandardOpenOption.APPEND);
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
