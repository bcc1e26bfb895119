package io.bypass.samples.e2e;

import io.bypass.samples.pcap.FeedCapture;
import io.bypass.samples.pcap.PcapWriter;
import io.bypass.testing.Requirements;
import io.bypass.testkit.Cmd;
import io.bypass.testkit.VethPair;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code bypass stat} in its own JVM reading a {@code bypass feed} running in another, fed by
 * tcpreplay over a veth pair: the counters grow while it runs and end equal to the feed's own
 * summary; a process killed with {@code kill -9} shows as stale and {@code --clean} removes its
 * file only; {@code /metrics} answers a plain HTTP GET with the counters.
 */
public class StatTest {
    private static final Pattern RECORD = Pattern.compile("\"label\":\\{([^}]*)},\"counters\":\\{([^}]*)}");
    private static final Pattern NUMBER = Pattern.compile("\"([a-z_]+)\":(-?[0-9]+)");

    /** UDP ports on loopback, apart for each test JVM. */
    private static final int PORT = 38000 + (int) (ProcessHandle.current().pid() % 400) * 4;

    private final List<Process> processes = new ArrayList<>();
    private VethPair topo;

    @AfterEach
    void tearDown() {
        processes.forEach(Process::destroyForcibly);
        if (topo != null) {
            topo.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"nio", "afxdp", "dpdk", "efvi"})
    void statReadsALiveFeedAndEndsEqualToItsSummary(final String backend, @TempDir final Path dir) throws Exception {
        Requirements.requireNetns();
        Requirements.requireCommand("tcpreplay");
        Requirements.requireBackendAvailable(backend);
        final Path capture = dir.resolve("feed.pcap");
        final FeedCapture.Config config = new FeedCapture.Config();
        config.packets = 5_000;
        config.malformed = 14;
        final FeedCapture.Stats stats = new FeedCapture(config).write(capture, PcapWriter.Format.PCAP_NANOS);
        final Path counters = Files.createDirectories(dir.resolve("counters"));
        topo = VethPair.create();
        final String uri = "dpdk".equals(backend) ? "dpdk:net_af_packet0,iface=" + topo.ifaceB() + "?ip=" + topo.addressBText() + "/24"
            : backend + ":" + topo.ifaceB();
        final Process feed = start(dir.resolve("feed"), topo.b().name(), counters, "feed", "--uri", uri, "--json", "--duration", "120s",
            "--warm-up", "1000");
        awaitLine(feed, dir.resolve("feed.err"), "ready");
        final Process stat = start(dir.resolve("stat"), null, counters, "stat", "--dir", counters.toString(), "--json",
            "--interval", "200ms", "--process", Long.toString(feed.pid()));

        awaitLine(stat, dir.resolve("stat.out"), "{\"time_ms\"");
        // Everything but the two end-of-session frames, so the feed keeps running for stat to read; at the capture's
        // 2,500 packets/s it lasts 2 s, read by stat every 200 ms meanwhile.
        final Process replay = new ProcessBuilder("ip", "netns", "exec", topo.a().name(), "tcpreplay", "-q", "--limit="
            + (stats.frames() - 2), "-i", topo.ifaceA(), capture.toString()).redirectErrorStream(true)
            .redirectOutput(dir.resolve("tcpreplay.out").toFile()).start();
        processes.add(replay);

        // Wait for stat to show every message, then for two more intervals with the same values.
        Map<String, Long> app = Map.of();
        Map<String, Long> port = Map.of();
        final List<Long> seen = new ArrayList<>();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int stable = 0;
        String previous = "";
        while (stable < 3) {
            if (System.nanoTime() > deadline) {
                fail("stat never showed " + stats.messages() + " messages; last: " + app + "\nstat stderr: " + read(dir.resolve("stat.err")));
            }
            Thread.sleep(200);
            final String[] lines = read(dir.resolve("stat.out")).split("\n");
            final String last = lines[lines.length - 1];
            if (last.isEmpty() || !last.endsWith("}")) {
                continue;
            }
            final Map<String, Map<String, Long>> records = records(last);
            app = records.getOrDefault("app", Map.of());
            port = records.getOrDefault("udp", Map.of());
            seen.add(app.getOrDefault("messages", 0L));
            final String values = last.replaceAll("\"time_ms\":[0-9]+|\"heartbeat_age_ms\":[0-9]+|\"rates\":\\{[^}]*}", "");
            stable = app.getOrDefault("messages", 0L) == stats.messages() && values.equals(previous) ? stable + 1 : 0;
            previous = values;
        }
        assertTrue(replay.waitFor(30, TimeUnit.SECONDS) && replay.exitValue() == 0, "tcpreplay: " + read(dir.resolve("tcpreplay.out")));
        assertTrue(seen.stream().filter(m -> m > 0 && m < stats.messages()).distinct().count() >= 2,
            "stat read the messages growing while the feed received them: " + seen);
        assertTrue(read(dir.resolve("stat.out")).matches("(?s).*\"rates\":\\{[^}]*\"messages\":[1-9].*"),
            "a non-zero rate of messages while traffic flowed");
        assertTrue(read(dir.resolve("stat.out")).contains("\"state\":\"alive\""), "the feed is alive");
        feed.destroy();  // SIGTERM: the feed stops, prints its summary and exits
        assertTrue(feed.waitFor(30, TimeUnit.SECONDS), read(dir.resolve("feed.err")));
        stat.destroy();
        final String[] out = read(dir.resolve("feed.out")).strip().split("\n");
        final Map<String, Long> summary = TcpreplayFeedTest.fields(out[out.length - 1]);
        for (final String k : List.of("messages", "lost", "gaps", "malformed", "duplicates", "recovered", "packets", "heartbeats")) {
            assertEquals(summary.get(k), app.get(k), k + " read by stat vs the feed's summary " + summary + "\nstat: " + app);
        }
        long drops = 0;
        for (final Map.Entry<String, Long> e : port.entrySet()) {
            if (e.getKey().startsWith("drop_")) {
                assertEquals(summary.getOrDefault("drop." + e.getKey().substring(5), 0L), e.getValue(), e.getKey() + " vs " + summary);
                drops += e.getValue();
            }
        }
        assertEquals(summary.get("endpoint_drops"), drops, "drops by reason sum to the summary's");
        if (!"nio".equals(backend)) {
            assertTrue(drops > 0, backend + ": the capture's malformed frames are counted drops by reason: " + port);
        }
        System.out.printf("stat %s: messages %d, malformed %d, drops %d, %d stat reads while it ran%n", backend, app.get("messages"),
            app.get("malformed"), drops, seen.stream().filter(m -> m > 0 && m < stats.messages()).count());
        try (Stream<Path> files = Files.list(counters)) {
            assertEquals(0, files.count(), "the feed removed its counters file when it exited");
        }
    }

    @Test
    void aKilledProcessIsStaleAndCleanRemovesOnlyItsFile(@TempDir final Path dir) throws Exception {
        final Path counters = Files.createDirectories(dir.resolve("counters"));
        final Process killed = start(dir.resolve("killed"), null, counters, "feed", "--uri", "nio:lo", "--a", "127.0.0.1:" + PORT, "--b", "none",
            "--duration", "120s", "--warm-up", "0", "--idle", "backoff");
        final Process alive = start(dir.resolve("alive"), null, counters, "feed", "--uri", "nio:lo", "--a", "127.0.0.1:" + (PORT + 1), "--b", "none",
            "--duration", "120s", "--warm-up", "0", "--idle", "backoff");
        awaitLine(killed, dir.resolve("killed.err"), "ready");
        awaitLine(alive, dir.resolve("alive.err"), "ready");
        final Path killedFile = counters.resolve(fileOf(counters, killed.pid()));
        final Path aliveFile = counters.resolve(fileOf(counters, alive.pid()));
        Cmd.run("kill", "-9", Long.toString(killed.pid()));
        assertTrue(killed.waitFor(10, TimeUnit.SECONDS));
        assertTrue(Files.exists(killedFile), "kill -9 leaves the file");

        final Cmd.Result json = runStat(counters, "--json", "--count", "1");
        assertEquals(0, json.exitCode(), json.stderr());
        assertTrue(json.stdout().contains("\"pid\":" + killed.pid()) && json.stdout().matches("(?s).*\"pid\":" + killed.pid()
            + ",[^]]*?\"state\":\"stale\",\"stale_reason\":\"process " + killed.pid() + " has exited\".*"), json.stdout());
        assertTrue(json.stdout().matches("(?s).*\"pid\":" + alive.pid() + ",[^]]*?\"state\":\"alive\".*"), json.stdout());
        final Cmd.Result table = runStat(counters, "--count", "1");
        assertTrue(table.stdout().contains("pid " + killed.pid() + "  STALE (process " + killed.pid() + " has exited)"), table.stdout());

        final Cmd.Result clean = runStat(counters, "--clean");
        assertEquals(0, clean.exitCode(), clean.stderr());
        assertTrue(clean.stdout().contains("1 stale file removed, 1 live process left alone"), clean.stdout());
        assertFalse(Files.exists(killedFile), "--clean removed the stale file");
        assertTrue(Files.exists(aliveFile), "--clean left the live process's file");
        alive.destroy();
        assertTrue(alive.waitFor(30, TimeUnit.SECONDS));
        assertFalse(Files.exists(aliveFile), "a process that exits normally removes its own file");
    }

    @Test
    void aFileOfAnotherLayoutVersionIsRefusedByStat(@TempDir final Path dir) throws Exception {
        final Path counters = Files.createDirectories(dir.resolve("counters"));
        final Process feed = start(dir.resolve("feed"), null, counters, "feed", "--uri", "nio:lo", "--a", "127.0.0.1:" + (PORT + 2), "--b", "none",
            "--duration", "120s", "--warm-up", "0", "--idle", "backoff");
        awaitLine(feed, dir.resolve("feed.err"), "ready");
        final Path copy = counters.resolve("1-1.counters");
        final byte[] bytes = Files.readAllBytes(counters.resolve(fileOf(counters, feed.pid())));
        bytes[8] = 9;  // the layout version
        Files.write(copy, bytes);
        final Cmd.Result r = runStat(counters, "--count", "1");
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stdout().contains("skipped: " + copy + ": counters file layout version 9, but this bypass stat reads version 1 only"),
            r.stdout());
        assertTrue(r.stdout().contains("pid " + feed.pid() + "  alive"), "the good file is still read: " + r.stdout());
    }

    @Test
    void prometheusMetricsAnswerAPlainHttpGet(@TempDir final Path dir) throws Exception {
        Requirements.requireCommand("socat");
        Requirements.requireCommand("curl");
        final Path counters = Files.createDirectories(dir.resolve("counters"));
        final int port = PORT + 3;
        final Process feed = start(dir.resolve("feed"), null, counters, "feed", "--uri", "nio:lo", "--a", "127.0.0.1:" + port, "--b", "none",
            "--duration", "120s", "--warm-up", "0", "--idle", "backoff");
        awaitLine(feed, dir.resolve("feed.err"), "ready");
        for (int i = 0; i < 7; i++) {
            Cmd.run("sh", "-c", "printf short | socat -u - UDP-SENDTO:127.0.0.1:" + port);
        }
        final Process stat = start(dir.resolve("stat"), null, counters, "stat", "--dir", counters.toString(), "--prometheus", "0", "--quiet");
        final String serving = awaitLine(stat, dir.resolve("stat.err"), "serving http://127.0.0.1:");
        final String url = serving.substring("serving ".length()).strip();
        final String expected = "bypass_counter{pid=\"" + feed.pid() + "\",type=\"udp\",backend=\"nio\",iface=\"lo\",queue=\"all\","
            + "endpoint=\"nio:lo\",record=\"0\",name=\"rx_packets\"} 7";
        String body = "";
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline && !body.contains(expected)) {
            // curl, a plain HTTP/1.1 GET as a Prometheus server's scrape is
            final Cmd.Result r = Cmd.runUnchecked("curl", "-sS", "-i", url);
            assertEquals(0, r.exitCode(), r.stderr());
            assertTrue(r.stdout().startsWith("HTTP/1.1 200"), r.stdout());
            assertTrue(r.stdout().toLowerCase(java.util.Locale.ROOT).contains("content-type: text/plain; version=0.0.4"), r.stdout());
            body = r.stdout();
            Thread.sleep(100);
        }
        assertTrue(body.contains(expected), expected + "\nnot in:\n" + body);
        assertTrue(body.contains("name=\"malformed_short_header\"} 7"), "the feed's own counters: " + body);
        assertTrue(body.contains("bypass_process_up{pid=\"" + feed.pid() + "\"} 1"), body);
        assertTrue(body.contains("# TYPE bypass_counter counter"), body);
        final Cmd.Result other = Cmd.runUnchecked("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url.replace("/metrics", "/other"));
        assertEquals("404", other.stdout().strip());
    }

    private Process start(final Path prefix, final String netns, final Path counters, final String... args) throws IOException {
        final List<String> cmd = new ArrayList<>();
        if (netns != null) {
            cmd.addAll(List.of("ip", "netns", "exec", netns));
        }
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-Dbypass.counters.dir=" + counters));
        final String standin = System.getProperty("bypass.efvi.libciul");
        if (standin != null) {
            cmd.add("-Dbypass.efvi.libciul=" + standin);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.bypass.samples.Main"));
        cmd.addAll(List.of(args));
        final Process p = new ProcessBuilder(cmd).redirectOutput(Path.of(prefix + ".out").toFile())
            .redirectError(Path.of(prefix + ".err").toFile()).start();
        processes.add(p);
        return p;
    }

    private static Cmd.Result runStat(final Path counters, final String... args) {
        final List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), "io.bypass.samples.Main", "stat", "--dir", counters.toString()));
        cmd.addAll(List.of(args));
        return Cmd.runUnchecked(cmd.toArray(String[]::new));
    }

    private static String awaitLine(final Process p, final Path stderr, final String start) throws Exception {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            for (final String line : read(stderr).split("\n")) {
                if (line.startsWith(start)) {
                    return line;
                }
            }
            if (!p.isAlive()) {
                fail("exited before '" + start + "': " + read(stderr));
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no '" + start + "' in 60 s: " + read(stderr));
    }

    private static String fileOf(final Path dir, final long pid) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(pid + "-")).findFirst()
                .orElseThrow(() -> new AssertionError("no counters file of pid " + pid + " in " + dir));
        }
    }

    /** The records of one stat JSON line by their label's type: counter name to value. */
    private static Map<String, Map<String, Long>> records(final String json) {
        final Map<String, Map<String, Long>> out = new LinkedHashMap<>();
        final Matcher m = RECORD.matcher(json);
        while (m.find()) {
            final Matcher type = Pattern.compile("\"type\":\"([a-z]+)\"").matcher(m.group(1));
            final Map<String, Long> values = new LinkedHashMap<>();
            final Matcher n = NUMBER.matcher(m.group(2));
            while (n.find()) {
                values.put(n.group(1), Long.parseLong(n.group(2)));
            }
            out.put(type.find() ? type.group(1) : "?", values);
        }
        return out;
    }

    private static String read(final Path p) throws IOException {
        return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
    }
}
