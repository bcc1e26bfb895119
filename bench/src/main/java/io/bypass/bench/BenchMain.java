package io.bypass.bench;

import io.bypass.Bypass;
import io.bypass.bench.jmh.JmhRunner;
import io.bypass.bench.net.Measurement;
import io.bypass.bench.net.NetHarness;
import io.bypass.bench.net.SockperfScenario;
import io.bypass.bench.net.TcpScenario;
import io.bypass.bench.net.ZeroLossScenario;
import io.bypass.bench.report.HostFacts;
import io.bypass.bench.report.Report;
import io.bypass.spi.BackendProvider;
import io.bypass.testkit.Cmd;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code bin/bench}: runs the JMH benchmarks and the network harness and writes
 * {@code report.md}, {@code latency.png} and {@code results.json} into
 * {@code bench/results/<timestamp>/}.
 *
 * <pre>
 * bin/bench [--quick] [--backends nio,afxdp,dpdk,efvi] [--scenarios rx,tx,pingpong,zeroloss,sockperf,tcp-pingpong,tcp-bulk]
 *           [--no-jmh] [--no-net] [--repeats N] [--ping-repeats N] [--ping-warmup-ms N] [--duration-ms N] [--warmup-ms N]
 *           [--cpus A,B] [--payload N] [--udp-variants] [--out DIR] [--nics IFACE_A,IFACE_B]
 *           [--zl-trial-ms N] [--zl-trials N] [--zl-precision F] [--zl-max-pps N] [--zl-warmup-ms N]
 *           [--sp-pairs N] [--sp-seconds N] [--sp-warmup-seconds N] [--sp-interleaved [--sp-calibrate]]
 *           [--tcp-repeats N] [--tcp-count N] [--tcp-warmup-ms N] [--tcp-payload N]
 *           [--bulk-repeats N] [--bulk-bytes N]
 * </pre>
 *
 * With {@code --nics}, the network harness runs on two existing interfaces (two NIC ports
 * cabled back to back, two VFs) instead of its own veth pair: they are moved into the
 * harness's namespaces for the run, so their traffic and addresses are gone meanwhile,
 * and given back afterwards (also on Ctrl-C / SIGTERM).
 */
public final class BenchMain {
    private BenchMain() {
    }

    /**
     * Settings parsed from the command line.
     */
    static final class Options {
        boolean quick;
        List<String> backends;
        List<String> scenarios = List.of("rx", "tx", "pingpong", "zeroloss", "sockperf", "tcp-pingpong", "tcp-bulk");
        boolean jmh = true;
        boolean net = true;
        Integer repeats;
        Integer durationMs;
        Integer warmupMs;
        Integer pingCount;
        Integer pingRepeats;
        Integer pingWarmupMs;
        int cpuA = 0;
        int cpuB = 1;
        int payload = 32;
        Boolean udpVariants;
        Path out;
        String command = "bin/bench";
        String nics;
        Integer zlTrialMs;
        Integer spPairs;
        Integer spSeconds;
        Integer spWarmupSeconds;
        boolean spInterleaved;
        boolean spCalibrate;
        Integer zlTrials;
        Double zlPrecision;
        Double zlMaxPps;
        Integer zlWarmupMs;
        Integer tcpRepeats;
        Integer tcpCount;
        Integer tcpWarmupMs;
        int tcpPayload = 64;
        Integer bulkRepeats;
        Long bulkBytes;

        static Options parse(final String[] args) {
            final Options o = new Options();
            final List<String> raw = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                final String a = args[i];
                raw.add(a);
                switch (a) {
                    case "--quick" -> o.quick = true;
                    case "--no-jmh" -> o.jmh = false;
                    case "--no-net" -> o.net = false;
                    case "--udp-variants" -> o.udpVariants = true;
                    case "--sp-interleaved" -> o.spInterleaved = true;
                    case "--sp-calibrate" -> o.spCalibrate = true;
                    case "--no-udp-variants" -> o.udpVariants = false;
                    case "--backends" -> o.backends = List.of(value(args, ++i, a).split(","));
                    case "--scenarios" -> o.scenarios = List.of(value(args, ++i, a).split(","));
                    case "--repeats" -> o.repeats = Integer.parseInt(value(args, ++i, a));
                    case "--duration-ms" -> o.durationMs = Integer.parseInt(value(args, ++i, a));
                    case "--warmup-ms" -> o.warmupMs = Integer.parseInt(value(args, ++i, a));
                    case "--ping-count" -> o.pingCount = Integer.parseInt(value(args, ++i, a));
                    case "--ping-repeats" -> o.pingRepeats = Integer.parseInt(value(args, ++i, a));
                    case "--ping-warmup-ms" -> o.pingWarmupMs = Integer.parseInt(value(args, ++i, a));
                    case "--payload" -> o.payload = Integer.parseInt(value(args, ++i, a));
                    case "--out" -> o.out = Path.of(value(args, ++i, a));
                    case "--command" -> o.command = value(args, ++i, a);
                    case "--nics" -> o.nics = value(args, ++i, a);
                    case "--sp-pairs" -> o.spPairs = Integer.parseInt(value(args, ++i, a));
                    case "--sp-seconds" -> o.spSeconds = Integer.parseInt(value(args, ++i, a));
                    case "--sp-warmup-seconds" -> o.spWarmupSeconds = Integer.parseInt(value(args, ++i, a));
                    case "--zl-trial-ms" -> o.zlTrialMs = Integer.parseInt(value(args, ++i, a));
                    case "--zl-trials" -> o.zlTrials = Integer.parseInt(value(args, ++i, a));
                    case "--zl-precision" -> o.zlPrecision = Double.parseDouble(value(args, ++i, a));
                    case "--zl-max-pps" -> o.zlMaxPps = Double.parseDouble(value(args, ++i, a));
                    case "--zl-warmup-ms" -> o.zlWarmupMs = Integer.parseInt(value(args, ++i, a));
                    case "--tcp-repeats" -> o.tcpRepeats = Integer.parseInt(value(args, ++i, a));
                    case "--tcp-count" -> o.tcpCount = Integer.parseInt(value(args, ++i, a));
                    case "--tcp-warmup-ms" -> o.tcpWarmupMs = Integer.parseInt(value(args, ++i, a));
                    case "--tcp-payload" -> o.tcpPayload = Integer.parseInt(value(args, ++i, a));
                    case "--bulk-repeats" -> o.bulkRepeats = Integer.parseInt(value(args, ++i, a));
                    case "--bulk-bytes" -> o.bulkBytes = Long.parseLong(value(args, ++i, a));
                    case "--cpus" -> {
                        final String[] c = value(args, ++i, a).split(",");
                        o.cpuA = Integer.parseInt(c[0]);
                        o.cpuB = Integer.parseInt(c[c.length - 1]);
                    }
                    case "--help", "-h" -> throw new IllegalArgumentException("help");
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
                if (i < args.length && raw.size() < i + 1) {
                    raw.add(args[i]);
                }
            }
            for (final String s : o.scenarios) {
                if (!List.of("rx", "tx", "pingpong", "zeroloss", "sockperf", "tcp-pingpong", "tcp-bulk").contains(s)) {
                    throw new IllegalArgumentException("unknown scenario " + s + " (rx, tx, pingpong, zeroloss, sockperf, tcp-pingpong, tcp-bulk)");
                }
            }
            if (o.spCalibrate && !o.spInterleaved) {
                throw new IllegalArgumentException("--sp-calibrate runs the interleaved method with the C reflector in "
                    + "the Java server's place: give --sp-interleaved too");
            }
            if (o.spPairs != null && o.spPairs < 1) {
                throw new IllegalArgumentException("--sp-pairs must be at least 1, was " + o.spPairs);
            }
            if (o.spInterleaved && o.nics != null && o.scenarios.contains("sockperf")) {
                throw new IllegalArgumentException("--sp-interleaved needs two links of the harness's own (two veth pairs); "
                    + "--nics gives one: leave out --sp-interleaved to measure the named NICs with fresh servers");
            }
            return o;
        }

        private static String value(final String[] args, final int i, final String option) {
            if (i >= args.length) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return args[i];
        }
    }

    /**
     * @param args see the class comment
     * @throws Exception if the run fails as a whole
     */
    public static void main(final String[] args) throws Exception {
        final Options o;
        try {
            o = Options.parse(args);
        } catch (final IllegalArgumentException e) {
            final boolean help = "help".equals(e.getMessage());
            (help ? System.out : System.err).println((help ? "" : e.getMessage() + "\n")
                + "usage: bin/bench [--quick] [--backends nio,afxdp,dpdk,efvi] [--scenarios rx,tx,pingpong,zeroloss,sockperf,tcp-pingpong,tcp-bulk]\n"
                + "                 [--no-jmh] [--no-net]\n"
                + "                 [--repeats N] [--duration-ms N] [--warmup-ms N] [--ping-count N] [--cpus A,B] [--payload N]\n"
                + "                 [--ping-repeats N] [--ping-warmup-ms N] [--udp-variants] [--out DIR] [--nics IFACE_A,IFACE_B]\n"
                + "                 [--zl-trial-ms N] [--zl-trials N] [--zl-precision F] [--zl-max-pps N] [--zl-warmup-ms N]\n"
                + "                 [--sp-pairs N] [--sp-seconds N] [--sp-warmup-seconds N] [--sp-interleaved [--sp-calibrate]] [--tcp-repeats N]\n"
                + "                 [--tcp-count N] [--tcp-warmup-ms N] [--tcp-payload N] [--bulk-repeats N] [--bulk-bytes N]\n"
                + "  tcp-pingpong: Bypass TCP (openTcp on the backend, both ends) vs kernel TCP in C (bench_tcp, busy poll, both\n"
                + "              ends) vs Bypass UDP on the same backend, --tcp-repeats runs each (default 10, quick 3) of\n"
                + "              --tcp-count round trips (default 100000, quick 20000) after --tcp-warmup-ms (default 3000, quick 500),\n"
                + "              --tcp-payload bytes (default 64); a backend whose openTcp refuses is reported not available\n"
                + "  tcp-bulk:  --bulk-bytes (default 1000000000, quick 50000000) one way, Bypass TCP vs kernel TCP in C, checked\n"
                + "              byte for byte and by CRC32C at the sink, --bulk-repeats transfers each (default 3, quick 1)\n"
                + "  sockperf: sockperf ping-pong (kernel UDP client) against bypass pingpong server and against a C reflector\n"
                + "              on libxdp, in --sp-pairs pairs (default 8, quick 1; Java first and C first by turns) of --sp-seconds runs (default 4,\n"
                + "              quick 2), each after --sp-warmup-seconds of unrecorded sockperf traffic (default 2, quick 1; 0 = none)\n"
                + "              against the same server; afxdp and dpdk (net_af_xdp); ratios are medians of per-pair ratios.\n"
                + "              A fresh server per run by default; --sp-interleaved: both servers up at once on two veth pairs,\n"
                + "              taking turns (the other paused by SIGSTOP), one client per turn, so the two runs of a ratio are\n"
                + "              seconds apart (not with --nics; defaults: 16 pairs (quick 1) of 2-second turns, and 1 s of\n"
                + "              warm-up from each client after each server's start); --sp-calibrate: the same with the C\n"
                + "              reflector in the Java server's place, the method's own zero and spread on this host\n"
                + "  zeroloss: RFC 2544 throughput of the feed path: the highest MoldUDP64 multicast rate received with zero\n"
                + "              loss in --zl-trials consecutive trials (default 3) of --zl-trial-ms each (default 2000, quick 1000),\n"
                + "              by binary search from --zl-max-pps (default 2000000) down to --zl-precision (default 0.05),\n"
                + "              after a --zl-warmup-ms (default 2000) warm-up trial; Java UdpEndpoint + feed handler vs C\n"
                + "              on the same library (efvi: Java only, no C baseline)\n"
                + "  --ping-repeats N  ping-pong runs per implementation (default twice --repeats, of --ping-count\n"
                + "              round trips each, default 100000): short runs, Java and C alternating, so a host whose\n"
                + "              speed changes over time lands on both alike\n"
                + "  --ping-warmup-ms N  ping-pong warm-up per run (default 3000, or --warmup-ms if given): the JVM's background\n"
                + "              compiles must be over before the window opens, or they show in Java's p99\n"
                + "  --nics A,B  run the network harness on two existing interfaces (e.g. two NIC ports cabled back to\n"
                + "              back, two VFs) instead of a veth pair. They must be DEDICATED to the benchmark while it\n"
                + "              runs: they are moved into the harness's namespaces (their traffic, addresses and routes\n"
                + "              are taken away), and moved back with their up/down state, MTU and addresses restored\n"
                + "              at the end (also on error, Ctrl-C, SIGTERM; not on SIGKILL). Refused: loopback, the\n"
                + "              same interface twice, the interface of the default route, and non-root users.");
            System.exit(help ? 0 : 2);
            return;
        }
        if (o.nics != null && o.net) {
            try {
                io.bypass.bench.internal.NicTopology.validate(o.nics);
            } catch (final IllegalArgumentException e) {
                System.err.println("bench: " + e.getMessage());
                System.exit(2);
                return;
            }
        }
        final Path dir = run(o);
        System.out.println("report: " + dir.resolve("report.md"));
        System.exit(0);
    }

    /**
     * Runs what the options ask for and writes the report.
     *
     * @param o options
     * @return the run directory
     * @throws Exception if the run fails as a whole
     */
    static Path run(final Options o) throws Exception {
        final String started = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        final Path dir = o.out != null ? o.out : Path.of(System.getProperty("bypass.bench.results", "bench/results")).resolve(started);
        final List<String> notes = new ArrayList<>();
        final List<String> backends = new ArrayList<>();
        final List<String> wanted = o.backends != null ? o.backends : List.of("nio", "afxdp", "dpdk", "efvi");
        for (final String b : wanted) {
            final BackendProvider p = Bypass.backend(b);
            if (p == null) {
                notes.add(b + ": not on the class path, skipped");
            } else if (!p.isAvailable()) {
                notes.add(b + ": unavailable on this host, skipped: " + p.unavailabilityCause().getMessage());
            } else {
                backends.add(b);
            }
        }
        final int cpus = Runtime.getRuntime().availableProcessors();
        final int cpuA = cpus >= 2 ? o.cpuA : -1;
        final int cpuB = cpus >= 2 ? o.cpuB : -1;
        final List<String> jvmProps = new ArrayList<>();
        for (final String prop : List.of("bypass.efvi.libciul")) {
            final String v = System.getProperty(prop);
            if (v != null) {
                jvmProps.add("-D" + prop + "=" + v);
            }
        }
        final int warmup = o.warmupMs != null ? o.warmupMs : o.quick ? 500 : 1000;
        final int duration = o.durationMs != null ? o.durationMs : o.quick ? 2000 : 4000;
        final int repeats = o.repeats != null ? o.repeats : o.quick ? 3 : 5;
        final int pingCount = o.pingCount != null ? o.pingCount : 100_000;
        final int pingRepeats = o.pingRepeats != null ? o.pingRepeats : 2 * repeats;
        final int pingWarmup = o.pingWarmupMs != null ? o.pingWarmupMs : o.warmupMs != null || o.quick ? warmup : 3000;
        final boolean udpVariants = o.udpVariants != null ? o.udpVariants : !o.quick;
        final ZeroLossScenario.Settings zeroLoss = new ZeroLossScenario.Settings(
            o.zlTrialMs != null ? o.zlTrialMs : o.quick ? 1000 : 2000, o.zlTrials != null ? o.zlTrials : 3,
            o.zlPrecision != null ? o.zlPrecision : 0.05, o.zlMaxPps != null ? o.zlMaxPps : 2_000_000,
            o.zlWarmupMs != null ? o.zlWarmupMs : 2000);

        // interleaved turns are short by default: the shorter a turn, the closer in time the two runs a ratio compares
        final SockperfScenario.Settings sockperf = new SockperfScenario.Settings(
            o.spPairs != null ? o.spPairs : o.quick ? 1 : o.spInterleaved ? 16 : 8,
            o.spSeconds != null ? o.spSeconds : o.quick || o.spInterleaved ? 2 : 4,
            o.spWarmupSeconds != null ? o.spWarmupSeconds : o.quick || o.spInterleaved ? 1 : 2, o.spInterleaved, o.spCalibrate);

        final TcpScenario.Settings tcp = new TcpScenario.Settings(o.tcpRepeats != null ? o.tcpRepeats : o.quick ? 3 : 10,
            o.tcpWarmupMs != null ? o.tcpWarmupMs : o.quick ? 500 : 3000, o.tcpCount != null ? o.tcpCount : o.quick ? 20_000 : 100_000,
            o.tcpPayload, o.bulkRepeats != null ? o.bulkRepeats : o.quick ? 1 : 3,
            o.bulkBytes != null ? o.bulkBytes : o.quick ? 50_000_000L : 1_000_000_000L);
        final boolean tcpAsked = o.scenarios.contains("tcp-pingpong") || o.scenarios.contains("tcp-bulk");
        final List<TcpScenario.Outcome> tcpResults = new ArrayList<>();
        if (tcpAsked && o.net) {
            // a backend that cannot run at all still gets its TCP row, with the reason
            for (final String b : wanted) {
                final BackendProvider p = Bypass.backend(b);
                if (p == null || !p.isAvailable()) {
                    tcpResults.add(new TcpScenario.Outcome(b, p == null ? "backend not on the class path"
                        : "backend unavailable on this host: " + p.unavailabilityCause().getMessage(), null, null, null, null, null));
                }
            }
        }

        final Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("backends", String.join(",", backends));
        settings.put("scenarios", String.join(",", o.scenarios));
        settings.put("warmup_ms", warmup);
        settings.put("duration_ms", duration);
        settings.put("repeats", repeats);
        settings.put("pingpong_repeats", pingRepeats);
        settings.put("pingpong_warmup_ms", pingWarmup);
        settings.put("pingpong_round_trips_per_run", pingCount);
        settings.put("payload_bytes", o.payload);
        settings.put("frame_bytes", o.payload + 42);
        if (o.scenarios.contains("zeroloss")) {
            settings.put("zeroloss_trial_ms", zeroLoss.trialMs());
            settings.put("zeroloss_trials_per_rate", zeroLoss.trialsPerRate());
            settings.put("zeroloss_precision", zeroLoss.precision());
            settings.put("zeroloss_max_pps", zeroLoss.maxPps());
            settings.put("zeroloss_warmup_ms", zeroLoss.warmupMs());
        }
        if (tcpAsked) {
            settings.put("tcp_pingpong_repeats", tcp.pingRepeats());
            settings.put("tcp_pingpong_warmup_ms", tcp.pingWarmupMs());
            settings.put("tcp_pingpong_round_trips_per_run", tcp.pingCount());
            settings.put("tcp_message_bytes", tcp.payload());
            settings.put("tcp_bulk_repeats", tcp.bulkRepeats());
            settings.put("tcp_bulk_bytes", tcp.bulkBytes());
        }
        if (o.scenarios.contains("sockperf")) {
            settings.put("sockperf_pairs", sockperf.pairs());
            settings.put("sockperf_seconds_per_run", sockperf.seconds());
            settings.put("sockperf_warmup_seconds_per_run", sockperf.warmupSeconds());
        }
        settings.put("jmh", o.jmh ? (o.quick ? "quick (2x1s warmup, 3x1s measure, 1 fork)" : "3x1s warmup, 5x1s measure, 1 fork") : "off");

        final String pinning = cpuA < 0 ? "none (fewer than 2 CPUs)"
            : "device under test's polling thread on CPU " + cpuA + ", peer (generator/sink/echo) on CPU " + cpuB
              + " (sched_setaffinity per thread; JIT/GC threads unpinned); one scenario at a time";

        List<JmhRunner.Score> scores = List.of();
        if (o.jmh) {
            System.out.println("[jmh] running (backends " + backends + ") ...");
            try {
                java.nio.file.Files.createDirectories(dir);
                scores = JmhRunner.run(backends, backends.contains("dpdk"), o.quick, jvmProps, dir.resolve("jmh.json"));
            } catch (final Exception e) {
                notes.add("JMH failed: " + e);
            }
        }
        List<Measurement> measurements = List.of();
        List<ZeroLossScenario.Outcome> zeroLossResults = List.of();
        List<SockperfScenario.Outcome> sockperfResults = List.of();
        String nic = "veth pair between two network namespaces created by the harness";
        String driver = "veth (virtual Ethernet, kernel driver 'veth')";
        if (o.net && !backends.isEmpty()) {
            final NetHarness harness = new NetHarness(new NetHarness.Config(backends, o.scenarios, udpVariants, warmup, duration,
                repeats, pingRepeats, pingWarmup, pingCount, o.payload, cpuA, cpuB, System.getProperty("java.class.path"), javaCommand(), jvmProps,
                dir.resolve("work"), o.nics, zeroLoss, sockperf, tcp));
            measurements = harness.run();
            zeroLossResults = harness.zeroLoss();
            sockperfResults = harness.sockperf();
            tcpResults.addAll(0, harness.tcp());
            notes.addAll(harness.notes());
            settings.put("rx_generator", harness.generatorLabel());
            settings.put("tx_sink", "kernel UDP socket bound in namespace B, never read");
            settings.put("pingpong_peer", "the same implementation echoing in namespace B");
            if (o.scenarios.contains("zeroloss")) {
                settings.put("zeroloss_sender", "C libxdp xsk feedtx in namespace B (copy mode, XDP skb mode), paced, MoldUDP64 to "
                    + "multicast; receivers warmed up by one unscored trial and kept for the whole search (Java and C alike)");
            }
            nic = harness.topology().describe();
            driver = harness.topology().driverFacts();
        }
        final Map<String, String> facts = HostFacts.collect(pinning, nic, driver);
        facts.put("named NICs", o.nics != null && o.net ? "yes (--nics " + o.nics + ")" : "no (veth pair)");
        Report.write(dir, o.command, started, facts, settings, measurements, zeroLossResults, sockperfResults, tcpResults, scores, notes);
        return dir;
    }

    private static String javaCommand() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** @return true if this host can run the harness (root, ip, ethtool, cc) */
    static String cannotRun() {
        for (final String c : List.of("ip", "ethtool", "cc")) {
            if (!Cmd.exists(c)) {
                return "needs the '" + c + "' command";
            }
        }
        return null;
    }
}
