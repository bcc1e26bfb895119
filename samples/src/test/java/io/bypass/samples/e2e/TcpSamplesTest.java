package io.bypass.samples.e2e;

import io.bypass.testing.Requirements;
import io.bypass.testkit.Cmd;
import io.bypass.testkit.VethPair;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The TCP samples against third-party peers, across a veth pair between two namespaces: Bypass in
 * namespace B ({@code nio:} on the kernel's TCP, {@code dpdk:} with its own TCP on a net_af_packet
 * vdev whose interface the kernel then holds no address on), the peer in namespace A.
 * {@code sockperf ping-pong --tcp} measures {@code bypass pingpong server --tcp}, {@code bypass
 * pingpong client --tcp} measures {@code sockperf server --tcp}, and {@code bypass tcpcat} moves
 * 20 MB each way at once with {@code socat}, compared by SHA-256, from either end of the open.
 */
class TcpSamplesTest {
    private static final long BYTES = 20L * 1024 * 1024;
    /** vdev names are unique for the life of the JVM's EAL; EndToEndTest counts from 0. */
    private static final AtomicInteger VDEV = new AtomicInteger(200);
    private static final Pattern AVG_LATENCY = Pattern.compile("Summary: Latency is ([0-9.]+) usec");
    private static final Pattern TOTAL_RECEIVED = Pattern.compile("\\[Total Run\\].*ReceivedMessages=([0-9]+)");
    /** The server's steady window opens after 20,000 replies; this leaves it thousands to measure. */
    private static final long STEADY_REPLIES_WANTED = 26_000;
    private static final int MAX_SMALL_RUNS = 8;
    private VethPair topo;
    private final List<Process> peers = new ArrayList<>();

    @AfterEach
    void tearDown() {
        for (final Process p : peers) {
            p.destroyForcibly();
        }
        if (topo != null) {
            topo.close();
        }
    }

    private VethPair topology(final String backend) {
        Requirements.requireNetns();
        Requirements.requireBackendAvailable(backend);
        topo = VethPair.create();
        return topo;
    }

    /** Bypass's URI in namespace B; for dpdk the kernel gives up B's address so it sends no RST for our flows. */
    private String uri(final String backend) {
        if ("dpdk".equals(backend)) {
            topo.b().ip("addr", "flush", "dev", topo.ifaceB());
            return "dpdk:net_af_packet" + VDEV.getAndIncrement() + ",iface=" + topo.ifaceB() + "?hugepages=false&ip=" + topo.addressBText()
                + "/" + VethPair.PREFIX_LENGTH;
        }
        return backend + ":" + topo.ifaceB();
    }

    private Cmd.Result inA(final String... cmd) {
        final List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", topo.a().name()));
        argv.addAll(List.of(cmd));
        return Cmd.runUnchecked(argv.toArray(String[]::new));
    }

    private Process startInA(final Path log, final String... cmd) throws IOException {
        final List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", topo.a().name()));
        argv.addAll(List.of(cmd));
        final Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        peers.add(p);
        return p;
    }

    /** Waits until a TCP port listens in namespace A. */
    private void awaitListeningInA(final int port) throws InterruptedException {
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (!inA("ss", "-Hltn", "sport = :" + port).stdout().contains(":" + port)) {
            assertTrue(System.nanoTime() < deadline, "nothing listens on port " + port + " in " + topo.a().name());
            Thread.sleep(20);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "dpdk", "afxdp"})
    void sockperfTcpPingPongMeasuresOurServer(final String backend) throws Exception {
        Requirements.requireCommand("sockperf");
        topology(backend);
        final Run server = Run.startReady(topo.executorB(), "pingpong", "server", "--tcp", "--uri", uri(backend), "--port", "11111",
            "--json", "--quiet", "--duration", "60s");
        // the server reads its allocations only after STEADY_AFTER replies: on a host slowed for a while, one
        // 3-second run may not reach them, so short runs go on (each a new connection) until they have
        final List<Cmd.Result> runs = new ArrayList<>();
        long received = 0;
        while (received < STEADY_REPLIES_WANTED && runs.size() < MAX_SMALL_RUNS) {
            final Cmd.Result small = inA("sockperf", "ping-pong", "--tcp", "-i", topo.addressBText(), "-p", "11111", "--time", "3", "-m", "64");
            runs.add(small);
            final Matcher total = TOTAL_RECEIVED.matcher(small.stdout() + small.stderr());
            assertTrue(total.find(), small.stdout() + small.stderr());
            received += Long.parseLong(total.group(1));
        }
        // messages longer than a segment: our stack hands each over in pieces the server must gather
        runs.add(inA("sockperf", "ping-pong", "--tcp", "-i", topo.addressBText(), "-p", "11111", "--time", "1", "-m", "4000"));
        server.stop();
        assertEquals(0, server.await(30), server.err());
        System.out.printf("sockperf ping-pong --tcp on %s: %d runs of 64-byte messages for %,d replies%n", backend, runs.size() - 1, received);
        for (final Cmd.Result r : runs) {
            final String out = r.stdout() + r.stderr();
            assertEquals(0, r.exitCode(), out);
            final Matcher m = AVG_LATENCY.matcher(out);
            assertTrue(m.find(), out);
            assertTrue(out.contains("# dropped messages = 0; # duplicated messages = 0; # out-of-order messages = 0"), out);
            assertTrue(!out.contains("No messages were received"), out);
            System.out.printf("sockperf ping-pong --tcp against bypass pingpong server --tcp on %s: avg %s us%n", backend, m.group(1));
        }
        assertEquals(runs.size(), server.num("connections"), server.describe());
        assertTrue(server.num("sockperf_replies") > 1000, server.describe());
        assertEquals(0, server.num("unframed_streams"), server.describe());
        assertEquals(0, server.num("send_failures"), server.describe());
        assertEquals(0, server.num("backlog_full"), server.describe());
        // every request answered whole: what went back is what came in, less what sockperf asks no answer for
        if (server.num("sockperf_warmup") + server.num("sockperf_no_reply") == 0) {
            assertEquals(server.num("bytes_in"), server.num("bytes_replied"), server.describe());
        } else {
            assertTrue(server.num("bytes_replied") < server.num("bytes_in"), server.describe());
        }
        @SuppressWarnings("unchecked")
        final Map<String, Object> tcp = (Map<String, Object>) server.summary().get("tcp");
        assertEquals(server.num("bytes_replied"), tcp.get("bytes_out"), "every reply left through the stack: " + server.describe());
        if (!"nio".equals(backend)) {
            // Bypass's own TCP hands each segment over as it comes: a 4000-byte request is in pieces
            assertTrue(server.num("gathered") > 0, "4000-byte requests came in segments and were gathered: " + server.describe());
        }
        // not one object per request: the smallest is 16 bytes, and thousands of requests were answered
        assertTrue(server.num("steady_replies") > 1000, server.describe());
        assertTrue(server.num("steady_allocated_bytes") < 65536, server.describe());
        System.out.printf("bypass pingpong server --tcp on %s: %,d bytes allocated over %,d steady replies and %d connections%n", backend,
            server.num("steady_allocated_bytes"), server.num("steady_replies"), server.num("connections"));
        EndToEndTest.assertPollGaps(server);
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "dpdk", "afxdp"})
    void ourTcpClientMeasuresSockperfServer(final String backend, @TempDir final Path dir) throws Exception {
        Requirements.requireCommand("sockperf");
        topology(backend);
        final String bypassUri = uri(backend);
        startInA(dir.resolve("sockperf.log"), "sockperf", "server", "--tcp", "-i", topo.addressAText(), "-p", "11111");
        awaitListeningInA(11111);
        final Run client = Run.start(topo.executorB(), "pingpong", "client", "--tcp", "--uri", bypassUri, "--server",
            topo.addressAText() + ":11111", "--count", "3000", "--warmup", "500", "--msg-size", "100", "--timeout", "1s", "--json", "--quiet");
        assertEquals(0, client.await(60), client.err() + client.out());
        assertEquals(3000, client.num("round_trips"), client.describe());
        assertEquals(0, client.num("late"), client.describe());
        assertEquals(0, client.num("unexpected"), client.describe());
        assertEquals(0, client.num("send_failures"), client.describe());
        assertTrue(client.num("steady_allocated_bytes") >= 0 && client.num("steady_allocated_bytes") < 65536, client.describe());
        assertEquals("", client.summary().get("ended"), client.describe());
        assertTrue(client.dbl("rtt_p50_us") > 0 && client.dbl("rtt_p99_us") >= client.dbl("rtt_p50_us"), client.describe());
        @SuppressWarnings("unchecked")
        final Map<String, Object> tcp = (Map<String, Object>) client.summary().get("tcp");
        assertEquals(3500L * 100, tcp.get("bytes_in"), client.describe());
        assertEquals(3500L * 100, tcp.get("bytes_out"), client.describe());
        System.out.printf("bypass pingpong client --tcp on %s against sockperf server --tcp: p50 %.1f us mean %.1f us%n", backend,
            client.dbl("rtt_p50_us"), client.dbl("rtt_mean_us"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "dpdk", "afxdp"})
    void tcpcatConnectsToSocatAndMovesTwentyMegabytesEachWay(final String backend, @TempDir final Path dir) throws Exception {
        Requirements.requireCommand("socat");
        topology(backend);
        final String bypassUri = uri(backend);
        final Path ours = random(dir.resolve("ours.bin"), 1);
        final Path theirs = random(dir.resolve("theirs.bin"), 2);
        final Path socatGot = dir.resolve("socat-got.bin");
        final Path weGot = dir.resolve("we-got.bin");
        final Process socat = startInA(dir.resolve("socat.log"), "socat", "-t", "30", "TCP-LISTEN:9000,bind=" + topo.addressAText() + ",reuseaddr",
            "OPEN:" + theirs + "!!OPEN:" + socatGot + ",creat,trunc");
        awaitListeningInA(9000);
        final Run cat = Run.start(topo.executorB(), "tcpcat", "--uri", bypassUri, "--connect", topo.addressAText() + ":9000",
            "--in", ours.toString(), "--out", weGot.toString(), "--json", "--idle", "yield");
        assertEquals(0, cat.await(60), cat.err());
        assertTrue(socat.waitFor(30, TimeUnit.SECONDS), "socat did not finish");
        assertEquals(0, socat.exitValue(), Files.readString(dir.resolve("socat.log")));
        assertByteExact(ours, socatGot, cat);
        assertByteExact(theirs, weGot, cat);
        assertEquals(BYTES, cat.num("bytes_sent"), cat.describe());
        assertEquals(BYTES, cat.num("bytes_received"), cat.describe());
        assertEquals("", cat.summary().get("failure"), cat.describe());
        System.out.printf("tcpcat --connect on %s with socat: 20 MB each way at once in %.2f s%n", backend, cat.dbl("elapsed_s"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "dpdk", "afxdp"})
    void tcpcatListensForSocatAndMovesTwentyMegabytesEachWay(final String backend, @TempDir final Path dir) throws Exception {
        Requirements.requireCommand("socat");
        topology(backend);
        final Path ours = random(dir.resolve("ours.bin"), 3);
        final Path theirs = random(dir.resolve("theirs.bin"), 4);
        final Path socatGot = dir.resolve("socat-got.bin");
        final Path weGot = dir.resolve("we-got.bin");
        final Run cat = Run.startReady(topo.executorB(), "tcpcat", "--uri", uri(backend), "--listen", "9000",
            "--in", ours.toString(), "--out", weGot.toString(), "--json", "--idle", "yield");
        final Process socat = startInA(dir.resolve("socat.log"), "socat", "-t", "30", "OPEN:" + theirs + "!!OPEN:" + socatGot + ",creat,trunc",
            "TCP:" + topo.addressBText() + ":9000");
        assertEquals(0, cat.await(60), cat.err());
        assertTrue(socat.waitFor(30, TimeUnit.SECONDS), "socat did not finish");
        assertEquals(0, socat.exitValue(), Files.readString(dir.resolve("socat.log")));
        assertByteExact(ours, socatGot, cat);
        assertByteExact(theirs, weGot, cat);
        assertEquals("listen", cat.summary().get("role"), cat.describe());
        System.out.printf("tcpcat --listen on %s with socat: 20 MB each way at once in %.2f s%n", backend, cat.dbl("elapsed_s"));
    }

    /** The real stdin and stdout: tcpcat in its own JVM with both redirected, as a shell pipeline runs it. */
    @ParameterizedTest
    @ValueSource(strings = {"nio"})
    void tcpcatPipesStdinToThePeerAndThePeerToStdout(final String backend, @TempDir final Path dir) throws Exception {
        Requirements.requireCommand("socat");
        topology(backend);
        final Path ours = random(dir.resolve("ours.bin"), 6);
        final Path theirs = random(dir.resolve("theirs.bin"), 7);
        final Path socatGot = dir.resolve("socat-got.bin");
        final Path stdout = dir.resolve("stdout.bin");
        final Path stderr = dir.resolve("stderr.txt");
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final Process cat = new ProcessBuilder(List.of("ip", "netns", "exec", topo.b().name(), java, "--enable-native-access=ALL-UNNAMED",
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "io.bypass.samples.Main",
            "tcpcat", "--uri", uri(backend), "--listen", "9000", "--json"))
            .redirectInput(ours.toFile()).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        peers.add(cat);
        final long deadline = System.nanoTime() + 30_000_000_000L;
        while (!Files.readString(stderr).contains("ready")) {
            assertTrue(cat.isAlive() && System.nanoTime() < deadline, "tcpcat never became ready: " + Files.readString(stderr));
            Thread.sleep(20);
        }
        final Process socat = startInA(dir.resolve("socat.log"), "socat", "-t", "30", "OPEN:" + theirs + "!!OPEN:" + socatGot + ",creat,trunc",
            "TCP:" + topo.addressBText() + ":9000");
        assertTrue(cat.waitFor(60, TimeUnit.SECONDS), "tcpcat did not finish: " + Files.readString(stderr));
        final String err = Files.readString(stderr);
        assertEquals(0, cat.exitValue(), err);
        assertTrue(socat.waitFor(30, TimeUnit.SECONDS), "socat did not finish");
        assertEquals(0, socat.exitValue(), Files.readString(dir.resolve("socat.log")));
        assertEquals(sha256(ours), sha256(socatGot), "stdin to the peer: " + err);
        assertEquals(sha256(theirs), sha256(stdout), "the peer to stdout: " + err);
        final String[] lines = err.strip().split("\n");
        assertTrue(lines[lines.length - 1].startsWith("{\"command\":\"tcpcat\"") && lines[lines.length - 1].contains("\"failure\":\"\""), err);
    }

    /** The half-close at end of input: the FIN goes at once, for a peer that reads until it sees it ({@code socat -u}). */
    @ParameterizedTest
    @ValueSource(strings = {"nio", "dpdk", "afxdp"})
    void tcpcatHalfClosesAtEndOfInputSoAOneWayPeerFinishes(final String backend, @TempDir final Path dir) throws Exception {
        Requirements.requireCommand("socat");
        topology(backend);
        final Path ours = random(dir.resolve("ours.bin"), 5);
        final Path socatGot = dir.resolve("socat-got.bin");
        final Process socat = startInA(dir.resolve("socat.log"), "socat", "-u", "TCP-LISTEN:9000,bind=" + topo.addressAText() + ",reuseaddr",
            "CREATE:" + socatGot);
        awaitListeningInA(9000);
        final Run cat = Run.start(topo.executorB(), "tcpcat", "--uri", uri(backend), "--connect", topo.addressAText() + ":9000",
            "--in", ours.toString(), "--out", dir.resolve("nothing").toString(), "--json", "--idle", "yield");
        assertEquals(0, cat.await(60), cat.err());
        assertTrue(socat.waitFor(30, TimeUnit.SECONDS), "socat did not finish");
        assertByteExact(ours, socatGot, cat);
        assertEquals(0, cat.num("bytes_received"), cat.describe());
    }

    private static Path random(final Path file, final long seed) throws IOException {
        final byte[] bytes = new byte[(int) BYTES];
        new Random(seed).nextBytes(bytes);
        return Files.write(file, bytes);
    }

    private static void assertByteExact(final Path sent, final Path received, final Run run) throws Exception {
        assertEquals(Files.size(sent), Files.size(received), received + ": " + run.describe());
        assertEquals(sha256(sent), sha256(received), received + " differs from " + sent);
    }

    private static String sha256(final Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
