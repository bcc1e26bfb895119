package io.bypass.bench.net;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The zeroloss scenario (RFC 2544 throughput on the feed path): for each implementation of
 * a backend (the Java worker's {@code UdpEndpoint} + the samples' feed handler, and the C
 * baseline's feed check on the same library), the highest rate of a MoldUDP64 multicast feed
 * it receives with zero loss, found by {@link ZeroLossSearch}.
 *
 * <p>Sender: the C libxdp xsk baseline in {@code feedtx} mode in namespace B (copy mode, XDP
 * in skb mode, pinned to the peer CPU), paced against the clock, one MoldUDP64 session per
 * trial with sequence numbers 1..N and three end-of-session packets after it; it reports the
 * rate it achieved. Not tcpreplay: on this veth it tops out at about 300 kpps with
 * {@code --topspeed}, below the rates the AF_XDP receivers handle, so the search would find
 * the sender's limit.
 *
 * <p>Receiver: one process per search (Java or C alike), started once, warmed up by one
 * unscored trial ({@code warmupMs} at a quarter of the maximum rate, at most 200 kpps), then
 * kept for every trial of the search: both are measured warm.
 */
public final class ZeroLossScenario {
    /** The feed's group and port. */
    static final String GROUP = "239.9.9.9";
    static final String GROUP_MAC = "01:00:5e:09:09:09";
    static final int GROUP_PORT = 30001;
    private static final int SENDER_PORT = 30000;

    /**
     * Knobs of the scenario.
     *
     * @param trialMs       length of one trial (packets = rate x length)
     * @param trialsPerRate consecutive passing trials for a rate to pass
     * @param precision     search precision, relative (0.05: within 5%)
     * @param maxPps        highest rate offered, the first one tried
     * @param warmupMs      the receiver's unscored warm-up trial
     */
    public record Settings(int trialMs, int trialsPerRate, double precision, double maxPps, int warmupMs) {
    }

    /**
     * The search of one implementation.
     *
     * @param backend backend the row belongs to
     * @param impl    java or c
     * @param label   what received
     * @param result  the search, or null if it could not run
     * @param error   why it could not run, or null
     */
    public record Outcome(String backend, String impl, String label, ZeroLossSearch.Result result, String error) {
    }

    private final NetHarness harness;
    private final Settings settings;
    private int session;

    ZeroLossScenario(final NetHarness harness, final Settings settings) {
        this.harness = harness;
        this.settings = settings;
    }

    /**
     * Searches Java then C for one backend.
     *
     * @param backend backend name
     * @param impls   its receivers (Java first, then the C baseline if it built)
     * @param a       device under test's side
     * @param b       sender's side
     * @return one outcome per implementation
     */
    List<Outcome> run(final String backend, final List<NetHarness.Impl> impls, final NetHarness.Side a, final NetHarness.Side b) {
        final List<Outcome> out = new ArrayList<>();
        final Path sender = harness.natives().binary("xsk");
        for (final NetHarness.Impl impl : impls) {
            if (sender == null) {
                out.add(new Outcome(backend, impl.impl(), impl.label(), null, "no sender: the C libxdp xsk baseline did not build"));
                continue;
            }
            System.out.printf("[net] %-6s zeroloss %-28s search ...%n", backend, impl.label());
            try {
                out.add(new Outcome(backend, impl.impl(), impl.label(), search(impl, sender, a, b), null));
            } catch (final Exception e) {
                System.out.println("[net]   FAILED: " + e.getMessage());
                out.add(new Outcome(backend, impl.impl(), impl.label(), null, String.valueOf(e.getMessage())));
            }
            harness.awaitNoXdp(a);
            harness.awaitNoXdp(b);
        }
        return out;
    }

    private ZeroLossSearch.Result search(final NetHarness.Impl impl, final Path sender, final NetHarness.Side a,
                                         final NetHarness.Side b) throws Exception {
        final Map<String, String> args = new LinkedHashMap<>();
        args.put("mode", "feed");
        args.put("cpu", Integer.toString(a.cpu()));
        args.put("iface", a.iface());
        args.put("local_ip", a.ip());
        args.put("group", GROUP);
        args.put("port", Integer.toString(GROUP_PORT));
        args.put("idle_gap_ms", "300");
        args.put("duration_ms", Long.toString(3_600_000L));
        try (WorkerProcess receiver = harness.start(impl.label() + "-feed", impl.command(a, b, "feed", args))) {
            receiver.awaitReady(60_000);
            Thread.sleep(200); // the join's IGMP report and group filter settle
            final double warmRate = Math.min(200_000, settings.maxPps() / 4);
            final ZeroLossSearch.Trial warm = trial(receiver, sender, b, warmRate, settings.warmupMs());
            System.out.printf(Locale.ROOT, "[net]   warm-up %.0f pps: %s%n", warm.achievedPps(), describe(warm));
            final ZeroLossSearch.Result r = ZeroLossSearch.search(
                new ZeroLossSearch.Settings(settings.maxPps(), 1000, settings.trialsPerRate(), settings.precision()), rate -> {
                    final ZeroLossSearch.Trial t = trial(receiver, sender, b, rate, settings.trialMs());
                    System.out.printf(Locale.ROOT, "[net]   asked %9.0f pps, achieved %9.0f: %s%n", rate, t.achievedPps(), describe(t));
                    return t;
                });
            System.out.printf(Locale.ROOT, "[net]   zero-loss rate %.0f pps (%d trials)%n", r.zeroLossPps(), r.trialCount());
            return r;
        }
    }

    private static String describe(final ZeroLossSearch.Trial t) {
        return t.passed() ? "pass" : String.format(Locale.ROOT, "FAIL (%d of %d, %d gaps%s)", t.received(), t.sent(), t.gaps(),
            t.note().isEmpty() ? "" : ", " + t.note());
    }

    /** One trial: a new session of rate x length packets from the sender, then the receiver's figures for it. */
    private ZeroLossSearch.Trial trial(final WorkerProcess receiver, final Path sender, final NetHarness.Side b, final double rate,
                                       final int lengthMs) throws Exception {
        if (!receiver.isAlive()) {
            throw new IllegalStateException("the receiver exited; see " + receiver.log());
        }
        final long count = Math.max(2, Math.round(rate * lengthMs / 1000.0));
        final String name = String.format(Locale.ROOT, "ZL%08d", ++session);
        final List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", b.ns(), sender.toString(), "xdp=skb", "mode=feedtx",
            "iface=" + b.iface(), "cpu=" + b.cpu(), "src_mac=" + b.mac(), "dst_mac=" + GROUP_MAC, "src_ip=" + b.ip(),
            "dst_ip=" + GROUP, "sport=" + SENDER_PORT, "dport=" + GROUP_PORT, "pps=" + Math.round(rate), "count=" + count,
            "session=" + name));
        receiver.clearTrials();
        final Map<String, Double> sent;
        try (WorkerProcess tx = harness.start("feed-sender", cmd)) {
            sent = NetHarness.parse(tx.awaitResult(lengthMs * 4L + 30_000));
        }
        final long packets = sent.getOrDefault("packets", 0.0).longValue();
        final double achieved = sent.getOrDefault("pps", 0.0);
        // The receiver prints at the end of session; without one (all three lost), after 300 ms idle.
        String last = null;
        final long deadline = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() < deadline) {
            final String line = receiver.pollTrial(100);
            if (line != null && line.contains("\"session\":\"" + name + "\"")) {
                last = line;
                if (line.contains("\"eos\":1")) {
                    break;
                }
            }
        }
        if (last == null) {
            return new ZeroLossSearch.Trial(rate, achieved, packets, 0, 0, packets, false, "no figures from the receiver");
        }
        final Map<String, Double> got = NetHarness.parse(last);
        final long messages = got.getOrDefault("messages", 0.0).longValue();
        final long highest = got.getOrDefault("highest", 0.0).longValue();
        final long gaps = got.getOrDefault("gaps", 0.0).longValue();
        final long lost = Math.max(got.getOrDefault("lost", 0.0).longValue(), packets - messages);
        final long malformed = got.getOrDefault("malformed", 0.0).longValue();
        final boolean passed = packets > 0 && messages == packets && highest == packets && gaps == 0 && lost == 0 && malformed == 0;
        final String note = malformed > 0 ? malformed + " malformed" : sent.getOrDefault("uncompleted", 0.0) > 0
            ? "sender: frames not completed" : "";
        return new ZeroLossSearch.Trial(rate, achieved, packets, messages, gaps, lost, passed, note);
    }
}
