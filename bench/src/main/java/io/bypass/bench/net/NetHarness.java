package io.bypass.bench.net;

import io.bypass.Bypass;
import io.bypass.bench.internal.NativeBuild;
import io.bypass.bench.internal.NicTopology;
import io.bypass.bench.internal.Topology;
import io.bypass.bench.internal.VethTopology;
import io.bypass.spi.BackendProvider;
import io.bypass.spi.Closer;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Packet rates (RX, TX) and ping-pong round trips of each Java backend and of its C
 * baseline, on one veth pair between two namespaces this harness creates and removes, or
 * on two interfaces the user names ({@link Config#nics()}), moved into those namespaces
 * for the run and given back afterwards ({@link NicTopology}).
 *
 * <ul>
 *   <li>rx: a kernel-socket generator (C, sendmmsg) in B blasts UDP at A; the device under
 *       test in A counts frames for {@code durationMs} after {@code warmupMs}.</li>
 *   <li>tx: the device under test in A sends as fast as its ring takes frames to a bound,
 *       never-read socket in B; counted at the sender.</li>
 *   <li>pingpong: a client in A sends one frame, waits for the echo from the same
 *       implementation in B, records the round trip.</li>
 *   <li>zeroloss: the highest rate of a MoldUDP64 multicast feed from B that the receiver
 *       in A (UdpEndpoint + feed handler, or C on the same library) takes with zero loss,
 *       by RFC 2544 search ({@link ZeroLossScenario}).</li>
 * </ul>
 * The DUT is pinned to {@code cpuA}, the peer to {@code cpuB}; one scenario at a time;
 * Java and C runs alternate so slow drifts of a noisy host hit both.
 */
public final class NetHarness {
    private static final Pattern NUM = Pattern.compile("\"(\\w+)\":(-?[0-9.]+)");
    private static final int PORT_A = 9000;
    private static final int PORT_B = 9001;

    /**
     * What to run.
     *
     * @param backends    backends to measure, in order
     * @param scenarios   rx, tx, pingpong
     * @param udpVariants also measure the L2 backends through UdpEndpoint (protocol layer)
     * @param warmupMs    warm-up before each measured window
     * @param durationMs  measured window
     * @param repeats     runs per implementation of rx and tx
     * @param pingRepeats runs per implementation of ping-pong
     * @param pingWarmupMs ping-pong warm-up: long enough that the JIT has finished, whose
     *                    background compiles would otherwise show in Java's p99
     * @param pingCount   most round trips recorded per ping-pong run
     * @param payload     UDP payload bytes (frame = payload + 42)
     * @param cpuA        CPU of the device under test (-1: not pinned)
     * @param cpuB        CPU of the peer
     * @param classpath   class path for Java worker JVMs
     * @param javaCommand the java launcher
     * @param jvmProps    -D options passed to worker JVMs (e.g. bypass.efvi.libciul)
     * @param workDir     logs, samples and compiled baselines go here
     * @param nics        "IFACE_A,IFACE_B" to run on two existing interfaces instead of a veth pair, or null
     * @param zeroLoss    knobs of the zeroloss scenario
     * @param sockperf    knobs of the sockperf scenario
     * @param tcp         knobs of the tcp-pingpong and tcp-bulk scenarios
     */
    public record Config(List<String> backends, List<String> scenarios, boolean udpVariants, int warmupMs, int durationMs,
                         int repeats, int pingRepeats, int pingWarmupMs, int pingCount, int payload, int cpuA, int cpuB, String classpath, String javaCommand,
                         List<String> jvmProps, Path workDir, String nics, ZeroLossScenario.Settings zeroLoss,
                         SockperfScenario.Settings sockperf, TcpScenario.Settings tcp) {
    }

    private final Config config;
    private final List<String> notes = new ArrayList<>();
    private final List<ZeroLossScenario.Outcome> zeroLoss = new ArrayList<>();
    private final List<SockperfScenario.Outcome> sockperf = new ArrayList<>();
    private final List<TcpScenario.Outcome> tcp = new ArrayList<>();
    private NativeBuild natives;
    private Topology topology;
    // links made during the run besides the topology (the interleaved sockperf's second veth pair): removed on exit too
    private final List<Topology> secondLinks = new CopyOnWriteArrayList<>();
    private int runCounter;

    /**
     * @param config what to run
     */
    public NetHarness(final Config config) {
        this.config = config;
    }

    /** @return notes for the report: backends skipped and why, baselines that did not build */
    public List<String> notes() {
        return notes;
    }

    /** @return the sockperf scenario's pairs, one outcome per backend (after {@link #run()}) */
    public List<SockperfScenario.Outcome> sockperf() {
        return sockperf;
    }

    /** @return the TCP scenarios' outcomes, one per backend (after {@link #run()}) */
    public List<TcpScenario.Outcome> tcp() {
        return tcp;
    }

    /** @return the zeroloss scenario's searches, one per backend and implementation (after {@link #run()}) */
    public List<ZeroLossScenario.Outcome> zeroLoss() {
        return zeroLoss;
    }

    NativeBuild natives() {
        return natives;
    }

    /** @return the topology used (valid after {@link #run()} started) */
    public Topology topology() {
        return topology;
    }

    record Side(String ns, String iface, String ip, String mac, int port, int cpu) {
    }

    interface Impl {
        String label();

        String api();

        String impl();

        boolean supports(String mode);

        List<String> command(Side self, Side peer, String mode, Map<String, String> args);
    }

    /**
     * Runs every scenario; the topology is removed before returning.
     *
     * @return one measurement per backend, variant, scenario and implementation
     * @throws IOException if the work directory cannot be written
     */
    public List<Measurement> run() throws IOException {
        Files.createDirectories(config.workDir().resolve("logs"));
        natives = NativeBuild.build(config.workDir().resolve("native"));
        natives.failures().forEach((k, v) -> notes.add("C baseline " + k + " did not build: " + v));
        final Implementations implementations = new Implementations(config, natives, notes);
        final List<Measurement> all = new ArrayList<>();
        topology = config.nics() != null ? NicTopology.create(config.nics()) : VethTopology.create();
        // Ctrl-C or SIGTERM: named NICs must still go back to the root namespace, and no namespace may stay behind
        final Topology created = topology;
        final Thread hook = new Thread(() -> {
            try {
                stopWorkers();
                closeSecondLinks();
                created.close();
            } catch (final RuntimeException e) {
                System.err.println("[net] cleanup on exit failed: " + e.getMessage());
            }
        }, "bench-topology-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            final Side a = new Side(topology.nsA(), topology.ifaceA(), topology.addressA(), topology.macA(), PORT_A, config.cpuA());
            final Side b = new Side(topology.nsB(), topology.ifaceB(), topology.addressB(), topology.macB(), PORT_B, config.cpuB());
            for (final String backend : config.backends()) {
                final BackendProvider p = Bypass.backend(backend);
                if (p == null) {
                    notes.add(backend + ": not on the class path, skipped");
                    continue;
                }
                if (!p.isAvailable()) {
                    notes.add(backend + ": unavailable, skipped: " + p.unavailabilityCause().getMessage());
                    continue;
                }
                final List<Impl> impls = implementations.impls(backend);
                if (config.scenarios().contains("tcp-pingpong") || config.scenarios().contains("tcp-bulk")) {
                    tcp.add(new TcpScenario(this, config.tcp(), implementations).run(backend, config.scenarios(), a, b));
                }
                for (final String scenario : config.scenarios()) {
                    if (scenario.startsWith("tcp-")) {
                        continue;
                    }
                    if ("zeroloss".equals(scenario)) {
                        zeroLoss.addAll(new ZeroLossScenario(this, config.zeroLoss()).run(backend, implementations.zeroLossImpls(backend), a, b));
                        continue;
                    }
                    if ("sockperf".equals(scenario)) {
                        if (Implementations.sockperfUri(backend, b) != null) {
                            sockperf.add(new SockperfScenario(this, config.sockperf(), implementations.javaLauncher())
                                .run(backend, side -> Implementations.sockperfUri(backend, side), a, b));
                        }
                        continue;
                    }
                    final List<Measurement> ms = new ArrayList<>();
                    final List<Impl> active = new ArrayList<>();
                    for (final Impl impl : impls) {
                        if (impl.supports("pingpong".equals(scenario) ? "ping" : scenario)) {
                            active.add(impl);
                            ms.add(new Measurement(backend, impl.api(), scenario, impl.impl(), impl.label()));
                        }
                    }
                    final int runs = "pingpong".equals(scenario) ? config.pingRepeats() : config.repeats();
                    for (int r = 0; r < runs; r++) {
                        for (int i = 0; i < active.size(); i++) {
                            final Impl impl = active.get(i);
                            final Measurement m = ms.get(i);
                            System.out.printf("[net] %-6s %-8s %-28s run %d/%d ... ", backend, scenario, impl.label(), r + 1,
                                runs);
                            System.out.flush();
                            try {
                                final Measurement.Run run = switch (scenario) {
                                    case "rx" -> runRx(impl, a, b);
                                    case "tx" -> runTx(impl, a, b);
                                    case "pingpong" -> runPingPong(impl, a, b);
                                    default -> throw new IllegalArgumentException("unknown scenario " + scenario);
                                };
                                m.add(run);
                                System.out.println("pingpong".equals(scenario)
                                    ? String.format("p50 %.1f us, p99 %.1f us (%d round trips)", run.p50Nanos() / 1e3,
                                        run.p99Nanos() / 1e3, run.packets())
                                    : String.format("%.0f pps", run.pps()));
                            } catch (final Exception e) {
                                m.addError(String.valueOf(e.getMessage()));
                                System.out.println("FAILED: " + e.getMessage());
                            }
                            awaitNoXdp(a);
                            awaitNoXdp(b);
                        }
                    }
                    all.addAll(ms);
                }
            }
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (final IllegalStateException shuttingDown) {
                // the hook is running or will run; close() is idempotent
            }
            try {
                closeSecondLinks();
            } finally {
                topology.close();
            }
            if (topology instanceof NicTopology nic && !nic.restoreProblems().isEmpty()) {
                notes.add("--nics: not fully restored after the run: " + String.join("; ", nic.restoreProblems()));
            }
        }
        return all;
    }

    /** On Ctrl-C/SIGTERM: workers still running would keep AF_XDP sockets and XDP programs on the interfaces. */
    private static void stopWorkers() {
        final List<ProcessHandle> children = ProcessHandle.current().descendants().toList();
        // a server paused by the interleaved sockperf method would not act on SIGTERM until resumed
        children.forEach(c -> io.bypass.testkit.Cmd.runUnchecked("kill", "-CONT", Long.toString(c.pid())));
        children.forEach(ProcessHandle::destroy);
        final long deadline = System.nanoTime() + 5_000_000_000L;
        for (final ProcessHandle child : children) {
            try {
                child.onExit().get(Math.max(1, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
            } catch (final Exception e) {
                child.destroyForcibly();
            }
        }
    }

    /**
     * A second veth pair between two more namespaces, made like the harness's own (the interleaved sockperf method
     * runs one server on each). Removed by {@link #closeSecondLink}; one still there on Ctrl-C / SIGTERM or at the
     * end of the run is removed then.
     *
     * @return the link
     * @throws IllegalStateException on named NICs ({@code --nics}), which give one link only
     */
    Topology createSecondLink() {
        if (topology instanceof NicTopology) {
            throw new IllegalStateException("the interleaved method needs a second link, and --nics gives one: measure "
                + "the named NICs with fresh servers (without --sp-interleaved)");
        }
        final Topology link = VethTopology.create();
        secondLinks.add(link);
        return link;
    }

    /** @param link a link from {@link #createSecondLink}, removed now (a failure to remove it is thrown, once) */
    void closeSecondLink(final Topology link) {
        secondLinks.remove(link);
        link.close();
    }

    /** Removes every second link still there; each is tried even if another fails, and every failure is reported. */
    private void closeSecondLinks() {
        final Closer closer = new Closer("bench: removing the second veth pairs");
        for (final Topology link : secondLinks) {
            closer.close("removing " + link, () -> closeSecondLink(link));
        }
        closer.throwIfFailed();
    }

    /**
     * @param label what the log is of
     * @return a fresh log file under the work directory
     */
    Path logFile(final String label) {
        return config.workDir().resolve("logs").resolve(String.format("%03d-%s.log", ++runCounter,
            label.replaceAll("[^A-Za-z0-9]+", "_")));
    }

    /**
     * @return the UDP ping-pong worker's arguments with another payload and warm-up (the TCP scenario's UDP comparison)
     */
    Map<String, String> udpArgs(final Side self, final Side peer, final String mode, final int payload, final int warmupMs) {
        final Map<String, String> m = args(self, peer, mode);
        m.put("payload", Integer.toString(payload));
        m.put("warmup_ms", Integer.toString(warmupMs));
        return m;
    }

    private Map<String, String> args(final Side self, final Side peer, final String mode) {
        final Map<String, String> m = new LinkedHashMap<>();
        m.put("mode", mode);
        m.put("cpu", Integer.toString(self.cpu()));
        m.put("payload", Integer.toString(config.payload()));
        m.put("warmup_ms", Integer.toString(config.warmupMs()));
        m.put("duration_ms", Integer.toString(config.durationMs()));
        m.put("idle_ms", "10000");
        m.put("iface", self.iface());
        m.put("local_ip", self.ip());
        m.put("bind_ip", self.ip());
        m.put("port", Integer.toString(self.port()));
        m.put("src_ip", self.ip());
        m.put("src_mac", self.mac());
        m.put("sport", Integer.toString(self.port()));
        m.put("dst_ip", peer.ip());
        m.put("dst_mac", peer.mac());
        m.put("dport", Integer.toString(peer.port()));
        return m;
    }

    WorkerProcess start(final String label, final List<String> command) throws IOException {
        final Path log = logFile(label);
        Files.writeString(log, String.join(" ", command) + "\n");
        return new WorkerProcess(label, command, log);
    }

    private long resultTimeout() {
        return Math.max(config.warmupMs(), config.pingWarmupMs()) + config.durationMs() + 60_000L;
    }

    /** @return what generates the RX scenario's traffic: the fastest sender that built (AF_XDP TX, else sendmmsg) */
    public String generatorLabel() {
        return natives == null ? "?" : natives.binary("xsk") != null
            ? "C libxdp xsk TX in namespace B (copy mode, XDP in skb mode on B's veth)"
            : "C kernel UDP sendmmsg in namespace B";
    }

    private Measurement.Run runRx(final Impl impl, final Side a, final Side b) throws Exception {
        final Path xsk = natives.binary("xsk");
        final Path gen = xsk != null ? xsk : natives.binary("udp");
        if (gen == null) {
            throw new IllegalStateException("no generator: neither the xsk nor the kernel UDP baseline built");
        }
        try (WorkerProcess dut = start(impl.label() + "-rx", impl.command(a, b, "rx", args(a, b, "rx")))) {
            dut.awaitReady(60_000);
            final Map<String, String> g = args(b, a, "tx");
            g.put("warmup_ms", "0");
            g.put("duration_ms", Integer.toString(config.warmupMs() + config.durationMs() + 20_000));
            final List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", b.ns(), gen.toString()));
            if (xsk != null) {
                // skb mode: the generator only sends, and B's veth then needs no native XDP setup
                cmd.add("xdp=skb");
            }
            g.forEach((k, v) -> cmd.add(k + "=" + v));
            try (WorkerProcess generator = start("generator", cmd)) {
                return toRun(dut.awaitResult(resultTimeout()), null);
            }
        }
    }

    private Measurement.Run runTx(final Impl impl, final Side a, final Side b) throws Exception {
        final Path sinkBin = natives.binary("udp");
        if (sinkBin == null) {
            throw new IllegalStateException("no sink: the kernel UDP baseline did not build");
        }
        final Map<String, String> s = args(b, a, "sink");
        s.put("duration_ms", Integer.toString(config.warmupMs() + config.durationMs() + 120_000));
        final List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", b.ns(), sinkBin.toString()));
        s.forEach((k, v) -> cmd.add(k + "=" + v));
        try (WorkerProcess sink = start("sink", cmd)) {
            sink.awaitReady(30_000);
            try (WorkerProcess dut = start(impl.label() + "-tx", impl.command(a, b, "tx", args(a, b, "tx")))) {
                return toRun(dut.awaitResult(resultTimeout()), null);
            }
        }
    }

    private Measurement.Run runPingPong(final Impl impl, final Side a, final Side b) throws Exception {
        final Path samples = config.workDir().resolve("logs").resolve(String.format("%03d-rtt.bin", runCounter + 1));
        final Map<String, String> e = args(b, a, "echo");
        e.put("warmup_ms", Integer.toString(config.pingWarmupMs()));
        try (WorkerProcess echo = start(impl.label() + "-echo", impl.command(b, a, "echo", e))) {
            echo.awaitReady(60_000);
            final Map<String, String> p = args(a, b, "ping");
            p.put("warmup_ms", Integer.toString(config.pingWarmupMs()));
            p.put("count", Integer.toString(config.pingCount()));
            p.put("samples", samples.toString());
            try (WorkerProcess client = start(impl.label() + "-ping", impl.command(a, b, "ping", p))) {
                return toRun(client.awaitResult(resultTimeout()), samples);
            }
        }
    }

    /**
     * XDP programs and AF_XDP bindings go away asynchronously after a process exits; the next run needs
     * them gone. If one stays (a peer killed before it could detach), it is removed: these are the
     * harness's own interfaces (or NICs lent to it with --nics) in its own namespaces.
     */
    void awaitNoXdp(final Side side) {
        final long deadline = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!hasXdp(side)) {
                return;
            }
            try {
                Thread.sleep(50);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        for (final String mode : new String[] {"xdpgeneric", "xdpdrv", "xdp"}) {
            io.bypass.testkit.Cmd.runUnchecked("ip", "-n", side.ns(), "link", "set", "dev", side.iface(), mode, "off");
        }
        final String note = "an XDP program stayed on " + side.iface() + " after a run and was detached by the harness"
            + (hasXdp(side) ? ", unsuccessfully" : "");
        System.out.println("[net] warning: " + note);
        if (!notes.contains(note)) {
            notes.add(note);
        }
    }

    private static boolean hasXdp(final Side side) {
        return io.bypass.testkit.Cmd.runUnchecked("ip", "-n", side.ns(), "link", "show", "dev", side.iface()).stdout()
            .contains("prog/xdp");
    }

    static Map<String, Double> parse(final String json) {
        final Map<String, Double> m = new LinkedHashMap<>();
        final Matcher matcher = NUM.matcher(json);
        while (matcher.find()) {
            m.put(matcher.group(1), Double.parseDouble(matcher.group(2)));
        }
        return m;
    }

    static Measurement.Run toRun(final String json, final Path samples) throws IOException {
        final Map<String, Double> m = parse(json);
        final long packets = m.getOrDefault("packets", 0.0).longValue();
        final double pps = m.getOrDefault("pps", 0.0);
        final long alloc = m.getOrDefault("alloc_bytes", 0.0).longValue();
        if (samples == null) {
            if (packets == 0) {
                throw new IllegalStateException("no packets in the measured window: " + json);
            }
            return new Measurement.Run(pps, packets, 0, 0, 0, 0, alloc, new long[0]);
        }
        final byte[] bytes = Files.readAllBytes(samples);
        Files.deleteIfExists(samples);
        final ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        final long[] rtts = new long[bytes.length / 8];
        final Histogram h = new Histogram(10_000_000_000L, 3);
        for (int i = 0; i < rtts.length; i++) {
            rtts[i] = bb.getLong();
            h.recordValue(Math.max(1, Math.min(rtts[i], 10_000_000_000L)));
        }
        if (rtts.length == 0) {
            throw new IllegalStateException("no round trips recorded: " + json);
        }
        return new Measurement.Run(pps, rtts.length, m.getOrDefault("lost", 0.0).longValue(), h.getValueAtPercentile(50),
            h.getValueAtPercentile(99), h.getValueAtPercentile(99.9), alloc, rtts);
    }
}
