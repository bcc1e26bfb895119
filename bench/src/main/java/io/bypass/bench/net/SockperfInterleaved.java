package io.bypass.bench.net;

import io.bypass.bench.internal.Topology;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * The sockperf scenario's interleaved method: both servers up at once, {@code bypass pingpong
 * server} on one veth pair and the C reflector on a second, taking turns. While one serves
 * sockperf, the other is paused by {@code SIGSTOP} (no CPU, its XDP program and socket left
 * in place). After each start, each server gets {@code warmupSeconds} of unrecorded traffic from
 * each client; then each turn resumes its server, lets it settle for {@value #RESUME_SETTLE_MS} ms
 * and measures one client, sleeping or spinning (sockperf leaves its own first 400 ms out of
 * its figures, which re-warms what the pause cooled). A pair is four
 * turns: both servers with the sleeping client, then both with the spinning one. Which server
 * goes first alternates pair by pair, and halfway both are restarted on the other link, so
 * neither the order nor a difference between the links lends itself to the ratio.
 *
 * <p>With {@link SockperfScenario.Settings#calibrate()}, a second C reflector takes the Java
 * server's place: the ratios then show the method's own zero and spread on this host.
 *
 * <p>The two runs a ratio compares are one turn apart (seconds, with the defaults of this
 * method) on the same host state, against a server's start and some 15 s in the fresh method;
 * on a noisy host that is what resolves a difference of a few per cent. Each server's stalls
 * over 1 ms are not reported: a paused server's loop counts its pauses as gaps.
 */
final class SockperfInterleaved {
    /** After SIGCONT, before sockperf starts: the resumed server's threads are back on their CPUs. */
    static final long RESUME_SETTLE_MS = 100;

    private final NetHarness harness;
    private final SockperfScenario.Settings settings;
    private final List<String> javaLauncher;
    private final Path reflector;

    SockperfInterleaved(final NetHarness harness, final SockperfScenario.Settings settings, final List<String> javaLauncher,
                        final Path reflector) {
        this.harness = harness;
        this.settings = settings;
        this.javaLauncher = javaLauncher;
        this.reflector = reflector;
    }

    /**
     * Runs the pairs for one backend.
     *
     * @param backend backend name
     * @param label   what served
     * @param uri     the Java server's URI on a servers' side's interface
     * @param a       sockperf's side of the harness's link
     * @param b       the servers' side of it
     * @return the outcome, with the error where it could not run
     */
    SockperfScenario.Outcome run(final String backend, final String label, final Function<NetHarness.Side, String> uri,
                                 final NetHarness.Side a, final NetHarness.Side b) {
        final int pairs = settings.pairs();
        // {avg, p99.9, spinning avg, spinning p99.9, stalls} per pair
        final double[][] java = new double[5][pairs];
        final double[][] c = new double[5][pairs];
        try {
            final Topology second = harness.createSecondLink();
            final NetHarness.Side a2 = new NetHarness.Side(second.nsA(), second.ifaceA(), second.addressA(), second.macA(),
                a.port(), a.cpu());
            final NetHarness.Side b2 = new NetHarness.Side(second.nsB(), second.ifaceB(), second.addressB(), second.macB(),
                b.port(), b.cpu());
            try {
                final int firstHalf = (pairs + 1) / 2;
                half(backend, uri, new NetHarness.Side[] {a, b, a2, b2}, 0, firstHalf, java, c);
                half(backend, uri, new NetHarness.Side[] {a2, b2, a, b}, firstHalf, pairs, java, c);
            } finally {
                harness.closeSecondLink(second);
            }
        } catch (final Exception e) {
            System.out.println("[net]   sockperf (interleaved) FAILED: " + e.getMessage());
            return SockperfScenario.Outcome.failed(backend, label, true, String.valueOf(e.getMessage()));
        }
        return SockperfScenario.outcome(backend, label, true, java, c);
    }

    /** Pairs {@code from} to {@code to - 1}, Java on link {sides[0], sides[1]} and C on {sides[2], sides[3]}. */
    private void half(final String backend, final Function<NetHarness.Side, String> uri, final NetHarness.Side[] sides,
                      final int from, final int to, final double[][] java, final double[][] c) throws Exception {
        if (from >= to) {
            return;
        }
        final String javaWhat = settings.calibrate() ? "C reflector in Java's place" : "Java " + backend;
        final Path javaLog = harness.logFile("sockperf-interleaved-" + javaWhat + "-from-" + from);
        final Path cLog = harness.logFile("sockperf-interleaved-C reflector-from-" + from);
        Process javaServer = null;
        Process cServer = null;
        try {
            javaServer = SockperfRuns.start(settings.calibrate() ? SockperfRuns.cReflector(reflector, sides[1])
                : SockperfRuns.javaServer(javaLauncher, uri.apply(sides[1]), sides[1]), javaLog, javaWhat);
            SockperfRuns.signal(javaServer, false);
            cServer = SockperfRuns.start(SockperfRuns.cReflector(reflector, sides[3]), cLog, "C reflector");
            SockperfRuns.signal(cServer, false);
            // the first live traffic after a start recompiles some of the Java server's code: unrecorded, once per start
            warmUp(javaServer, sides[0], sides[1], javaLog, javaWhat);
            warmUp(cServer, sides[2], sides[3], cLog, "C reflector");
            for (int i = from; i < to; i++) {
                final double[] j = new double[5];
                final double[] r = new double[5];
                // the sleeping client's pair, then the spinning client's, each pair's two turns back to back; Java
                // first in even pairs, C first in odd ones, as in the fresh method
                for (final boolean spinning : new boolean[] {false, true}) {
                    for (int k = 0; k < 2; k++) {
                        final boolean javaTurn = (k == 0) == (i % 2 == 0);
                        final double[] figures = javaTurn ? turn(javaServer, sides[0], sides[1], spinning, javaLog, javaWhat, i)
                            : turn(cServer, sides[2], sides[3], spinning, cLog, "C reflector", i);
                        System.arraycopy(figures, 0, javaTurn ? j : r, spinning ? 2 : 0, 2);
                    }
                }
                j[4] = Double.NaN;
                r[4] = Double.NaN;
                for (int k = 0; k < java.length; k++) {
                    java[k][i] = j[k];
                    c[k][i] = r[k];
                }
                SockperfScenario.printPair(backend, i, settings.pairs(), j, r);
            }
        } finally {
            // each step even if one before it failed: neither server may stay behind, paused or running
            try {
                if (javaServer != null) {
                    SockperfRuns.stop(javaServer);
                }
            } finally {
                try {
                    if (cServer != null) {
                        SockperfRuns.stop(cServer);
                    }
                } finally {
                    harness.awaitNoXdp(sides[1]);
                    harness.awaitNoXdp(sides[3]);
                }
            }
        }
    }

    /** Unrecorded traffic against a server just started, both clients: {@code warmupSeconds} each. */
    private void warmUp(final Process server, final NetHarness.Side a, final NetHarness.Side b, final Path log,
                        final String what) throws Exception {
        if (settings.warmupSeconds() > 0) {
            whileResumed(server, log, what, "warm-up after start (not recorded)", () -> {
                SockperfRuns.turn(a, b, 0, settings.warmupSeconds(), false, log, what);
                return SockperfRuns.turn(a, b, 0, settings.warmupSeconds(), true, log, what);
            });
        }
    }

    /** One server's turn with one client: resumed, measured, paused again. {avg, p99.9}. */
    private double[] turn(final Process server, final NetHarness.Side a, final NetHarness.Side b, final boolean spinning,
                          final Path log, final String what, final int pair) throws Exception {
        // sockperf's own warm-up (its first 400 ms, not in its figures) warms what the pause cooled
        return whileResumed(server, log, what, "pair " + (pair + 1) + (spinning ? ", spinning client" : ", sleeping client"),
            () -> SockperfRuns.turn(a, b, 0, settings.seconds(), spinning, log, what));
    }

    /**
     * Resumes the server, lets it settle, marks {@code header} in its log, runs {@code work} and pauses the server
     * again; on a failure it is paused too, a failure to do so kept with the work's own.
     */
    private static double[] whileResumed(final Process server, final Path log, final String what, final String header,
                                         final Callable<double[]> work) throws Exception {
        if (!server.isAlive()) {
            throw new IllegalStateException(what + " exited with " + server.exitValue() + " between its turns; see " + log);
        }
        SockperfRuns.signal(server, true);
        final double[] figures;
        try {
            Thread.sleep(RESUME_SETTLE_MS);
            Files.writeString(log, "\n=== " + header + "\n", StandardOpenOption.APPEND);
            figures = work.call();
        } catch (final Exception e) {
            try {
                if (server.isAlive()) {
                    SockperfRuns.signal(server, false);
                }
            } catch (final Exception pause) {
                e.addSuppressed(pause);
            }
            throw e;
        }
        SockperfRuns.signal(server, false);
        return figures;
    }
}
