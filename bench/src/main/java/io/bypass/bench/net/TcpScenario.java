package io.bypass.bench.net;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The TCP scenarios, per backend, on the harness's veth pair (client in namespace A on CPU 0, server in
 * B on CPU 1). Both ends of every comparison run the same implementation, so the kernel's TCP stack
 * (or Bypass's) is on both sides of each figure alike:
 * <ul>
 *   <li>tcp-pingpong: one message of {@code payload} bytes (default 64) in flight; the client records
 *       the round trip from before the claim to the poll that saw the whole echo. Per run, in turn:
 *       Bypass TCP on the backend ({@link TcpWorker}, both ends), kernel TCP in C ({@code bench_tcp}:
 *       TCP_NODELAY, non-blocking recv in a spin loop, SO_BUSY_POLL where allowed, both ends), and
 *       Bypass UDP on the same backend ({@link JavaWorker} {@code api=udp}, the pingpong scenario's
 *       UdpEndpoint path, same payload). Ratios pair run i with run i.</li>
 *   <li>tcp-bulk: {@code bulkBytes} one way, A to B, Bypass TCP both ends vs kernel TCP in C both
 *       ends; the sink checks every byte against the pattern ({@link TcpStreamCheck}) and both sides'
 *       CRC32C must agree, or the run fails as corrupted. Gb/s at the sink, first byte to last.</li>
 * </ul>
 * A backend whose {@code openTcp} refuses is reported "not available" with its reason.
 */
public final class TcpScenario {
    /** Server port in namespace B. */
    static final int PORT = 9100;

    /**
     * Knobs.
     *
     * @param pingRepeats  ping-pong runs per implementation
     * @param pingWarmupMs warm-up round trips' duration per run, not recorded
     * @param pingCount    round trips recorded per run
     * @param payload      message bytes (16..4096)
     * @param bulkRepeats  bulk transfers per implementation
     * @param bulkBytes    bytes per bulk transfer
     */
    public record Settings(int pingRepeats, int pingWarmupMs, int pingCount, int payload, int bulkRepeats, long bulkBytes) {
    }

    /**
     * One bulk implementation's transfers.
     *
     * @param label  what ran
     * @param gbps   Gb/s per transfer that passed the check
     * @param errors failed transfers (corruption, short stream, timeouts), with why
     */
    public record Bulk(String label, List<Double> gbps, List<String> errors) {
        /** @return the median Gb/s, NaN if none passed */
        public double median() {
            return Measurement.median(gbps.stream().mapToDouble(Double::doubleValue).toArray());
        }
    }

    /**
     * One backend's results.
     *
     * @param backend     backend name
     * @param unavailable why Bypass TCP could not run on it, or null
     * @param tcp         ping-pong, Bypass TCP (null if not run)
     * @param kernel      ping-pong, kernel TCP in C (null if not run or not built)
     * @param udp         ping-pong, Bypass UDP on the same backend (null if not run)
     * @param bypassBulk  bulk, Bypass TCP (null if not run)
     * @param kernelBulk  bulk, kernel TCP in C (null if not run or not built)
     */
    public record Outcome(String backend, String unavailable, Measurement tcp, Measurement kernel, Measurement udp, Bulk bypassBulk,
                          Bulk kernelBulk) {
    }

    private final NetHarness harness;
    private final Settings settings;
    private final Implementations impls;

    TcpScenario(final NetHarness harness, final Settings settings, final Implementations impls) {
        this.harness = harness;
        this.settings = settings;
        this.impls = impls;
    }

    /** A participant: command for one side. */
    private interface Cmd {
        List<String> command(NetHarness.Side self, NetHarness.Side peer, Map<String, String> args);
    }

    /**
     * Runs what {@code scenarios} asks for (tcp-pingpong, tcp-bulk) on one backend.
     *
     * @param backend   backend name
     * @param scenarios the scenarios asked for
     * @param a         client side
     * @param b         server side
     * @return the outcome
     */
    Outcome run(final String backend, final List<String> scenarios, final NetHarness.Side a, final NetHarness.Side b) {
        final Path cTcp = harness.natives().binary("tcp");
        final Cmd bypass = (self, peer, args) -> impls.tcpWorker(backend, self, args);
        final Cmd kernel = cTcp == null ? null : (self, peer, args) -> {
            final List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", self.ns(), cTcp.toString()));
            args.forEach((k, v) -> cmd.add(k + "=" + v));
            return cmd;
        };
        if (cTcp == null) {
            final String note = "C kernel TCP baseline (bench_tcp) not built, TCP ratios missing: " + harness.natives().failures().get("tcp");
            if (!harness.notes().contains(note)) {
                harness.notes().add(note);
            }
        }
        Measurement tcp = null;
        Measurement cPing = null;
        Measurement udp = null;
        if (scenarios.contains("tcp-pingpong")) {
            tcp = new Measurement(backend, "tcp", "tcp-pingpong", "java", "Bypass TCP " + backend);
            cPing = kernel == null ? null : new Measurement(backend, "c", "tcp-pingpong", "c", "C kernel TCP (busy poll)");
            udp = new Measurement(backend, "udp", "tcp-pingpong", "java", "Bypass UDP " + backend + " (UdpEndpoint)");
            for (int r = 0; r < settings.pingRepeats(); r++) {
                try {
                    tcp.add(ping(backend, "Bypass TCP", bypass, a, b, r));
                } catch (final WorkerProcess.Unavailable e) {
                    System.out.println("not available: " + e.getMessage());
                    return new Outcome(backend, e.getMessage(), null, null, null, null, null);
                } catch (final Exception e) {
                    tcp.addError(String.valueOf(e.getMessage()));
                    System.out.println("FAILED: " + e.getMessage());
                }
                if (cPing != null) {
                    try {
                        cPing.add(ping(backend, "C kernel TCP", kernel, a, b, r));
                    } catch (final Exception e) {
                        cPing.addError(String.valueOf(e.getMessage()));
                        System.out.println("FAILED: " + e.getMessage());
                    }
                }
                try {
                    udp.add(udpPing(backend, a, b, r));
                } catch (final Exception e) {
                    udp.addError(String.valueOf(e.getMessage()));
                    System.out.println("FAILED: " + e.getMessage());
                }
            }
        }
        Bulk bypassBulk = null;
        Bulk kernelBulk = null;
        if (scenarios.contains("tcp-bulk")) {
            bypassBulk = new Bulk("Bypass TCP " + backend, new ArrayList<>(), new ArrayList<>());
            kernelBulk = kernel == null ? null : new Bulk("C kernel TCP", new ArrayList<>(), new ArrayList<>());
            for (int r = 0; r < settings.bulkRepeats(); r++) {
                try {
                    bulk(backend, bypassBulk, bypass, a, b, r);
                } catch (final WorkerProcess.Unavailable e) {
                    System.out.println("not available: " + e.getMessage());
                    return new Outcome(backend, e.getMessage(), tcp, cPing, udp, null, null);
                }
                if (kernelBulk != null) {
                    bulk(backend, kernelBulk, kernel, a, b, r);
                }
            }
        }
        return new Outcome(backend, null, tcp, cPing, udp, bypassBulk, kernelBulk);
    }

    private Map<String, String> args(final NetHarness.Side self, final NetHarness.Side peer, final String mode) {
        final Map<String, String> m = new java.util.LinkedHashMap<>();
        m.put("mode", mode);
        m.put("cpu", Integer.toString(self.cpu()));
        m.put("bind_ip", self.ip());
        m.put("port", Integer.toString(PORT));
        m.put("dst_ip", peer.ip());
        m.put("dport", Integer.toString(PORT));
        return m;
    }

    private Measurement.Run ping(final String backend, final String what, final Cmd cmd, final NetHarness.Side a,
                                 final NetHarness.Side b, final int r) throws Exception {
        System.out.printf(Locale.ROOT, "[net] %-6s %-12s %-26s run %d/%d ... ", backend, "tcp-pingpong", what, r + 1,
            settings.pingRepeats());
        System.out.flush();
        final Path samples = harness.logFile(what + "-rtt").resolveSibling("tcp-rtt-" + System.nanoTime() + ".bin");
        try (WorkerProcess server = harness.start(what + "-echo", cmd.command(b, a, args(b, a, "echo")))) {
            server.awaitReady(60_000);
            final Map<String, String> p = args(a, b, "ping");
            p.put("payload", Integer.toString(settings.payload()));
            p.put("warmup_ms", Integer.toString(settings.pingWarmupMs()));
            p.put("duration_ms", "600000");
            p.put("count", Integer.toString(settings.pingCount()));
            p.put("samples", samples.toString());
            try (WorkerProcess client = harness.start(what + "-ping", cmd.command(a, b, p))) {
                final Measurement.Run run = NetHarness.toRun(client.awaitResult(settings.pingWarmupMs() + 600_000L), samples);
                System.out.printf(Locale.ROOT, "p50 %.1f us, p99 %.1f us (%d round trips)%n", run.p50Nanos() / 1e3,
                    run.p99Nanos() / 1e3, run.packets());
                return run;
            }
        } finally {
            harness.awaitNoXdp(a);
            harness.awaitNoXdp(b);
        }
    }

    private Measurement.Run udpPing(final String backend, final NetHarness.Side a, final NetHarness.Side b, final int r) throws Exception {
        System.out.printf(Locale.ROOT, "[net] %-6s %-12s %-26s run %d/%d ... ", backend, "tcp-pingpong", "Bypass UDP", r + 1,
            settings.pingRepeats());
        System.out.flush();
        final Path samples = harness.logFile("udp-rtt").resolveSibling("udp-rtt-" + System.nanoTime() + ".bin");
        try (WorkerProcess echo = harness.start("Bypass UDP-echo", impls.udpWorker(backend, b, harness.udpArgs(b, a, "echo",
            settings.payload(), settings.pingWarmupMs())))) {
            echo.awaitReady(60_000);
            final Map<String, String> p = harness.udpArgs(a, b, "ping", settings.payload(), settings.pingWarmupMs());
            p.put("duration_ms", "600000");
            p.put("count", Integer.toString(settings.pingCount()));
            p.put("samples", samples.toString());
            try (WorkerProcess client = harness.start("Bypass UDP-ping", impls.udpWorker(backend, a, p))) {
                final Measurement.Run run = NetHarness.toRun(client.awaitResult(settings.pingWarmupMs() + 600_000L), samples);
                System.out.printf(Locale.ROOT, "p50 %.1f us, p99 %.1f us (%d round trips)%n", run.p50Nanos() / 1e3,
                    run.p99Nanos() / 1e3, run.packets());
                return run;
            }
        } finally {
            harness.awaitNoXdp(a);
            harness.awaitNoXdp(b);
        }
    }

    /** One transfer A to B; a failed or corrupted one is recorded in {@code into}'s errors. */
    private void bulk(final String backend, final Bulk into, final Cmd cmd, final NetHarness.Side a, final NetHarness.Side b,
                      final int r) {
        System.out.printf(Locale.ROOT, "[net] %-6s %-12s %-26s run %d/%d ... ", backend, "tcp-bulk", into.label(), r + 1,
            settings.bulkRepeats());
        System.out.flush();
        final long timeoutMs = 60_000 + settings.bulkBytes() / 10_000; // 10 MB/s at the very least
        try (WorkerProcess sink = harness.start(into.label() + "-sink", cmd.command(b, a, args(b, a, "sink")))) {
            sink.awaitReady(60_000);
            final Map<String, String> s = args(a, b, "bulk");
            s.put("bytes", Long.toString(settings.bulkBytes()));
            try (WorkerProcess sender = harness.start(into.label() + "-bulk", cmd.command(a, b, s))) {
                final Map<String, Double> tx = NetHarness.parse(sender.awaitResult(timeoutMs));
                final Map<String, Double> rx = NetHarness.parse(sink.awaitResult(timeoutMs));
                final String bad = verdict(tx, rx, settings.bulkBytes());
                if (bad != null) {
                    throw new IllegalStateException(bad + " (sender " + tx + ", sink " + rx + "; see " + sink.log() + ")");
                }
                into.gbps().add(rx.get("gbps"));
                System.out.printf(Locale.ROOT, "%.2f Gb/s, %d bytes byte-exact (CRC32C %08x)%n", rx.get("gbps"), rx.get("bytes").longValue(),
                    rx.get("crc").longValue());
            }
        } catch (final WorkerProcess.Unavailable e) {
            throw e;
        } catch (final Exception e) {
            into.errors().add(String.valueOf(e.getMessage()));
            System.out.println("FAILED: " + e.getMessage());
        } finally {
            harness.awaitNoXdp(a);
            harness.awaitNoXdp(b);
        }
    }

    /**
     * @param tx       the sender's result
     * @param rx       the sink's result
     * @param expected bytes the transfer was asked to carry
     * @return null if the sink got exactly what was asked and the sender sent, byte for byte, else what is wrong
     */
    static String verdict(final Map<String, Double> tx, final Map<String, Double> rx, final long expected) {
        final long sent = tx.getOrDefault("bytes", -1.0).longValue();
        final long got = rx.getOrDefault("bytes", -1.0).longValue();
        if (sent != expected) {
            return "the sender sent " + sent + " of " + expected + " bytes";
        }
        if (rx.getOrDefault("mismatches", 0.0) != 0) {
            return "CORRUPTED: " + rx.get("mismatches").longValue() + " bytes differ from the pattern";
        }
        if (got != sent) {
            return "short stream: sent " + sent + " bytes, received " + got;
        }
        if (!rx.containsKey("crc") || !rx.get("crc").equals(tx.get("crc"))) {
            return "CORRUPTED: CRC32C sent " + tx.get("crc") + ", received " + rx.get("crc");
        }
        if (rx.getOrDefault("eof", 0.0) != 1) {
            return "the sink saw no FIN after the last byte";
        }
        return null;
    }
}
