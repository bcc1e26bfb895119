package io.bypass.deployment;

import io.bypass.Bypass;
import io.bypass.PortUri;
import io.bypass.samples.Main;
import io.bypass.spi.Privileges;
import io.bypass.testkit.Cmd;
import io.bypass.testkit.VethPair;
import io.bypass.testing.Requirements;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged feed handler ({@code bypass-samples.jar} and {@code lib/}) started with the sample
 * systemd unit's command, as uid 65534 holding only the unit's capabilities as ambient
 * capabilities ({@code setpriv}, as systemd's {@code User=} and {@code AmbientCapabilities=} do),
 * in a network namespace, receiving a feed a kernel sender publishes across a veth pair.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class UnprivilegedFeedTest {
    private static final int NOBODY = 65534;
    private static final int MESSAGES = 10_000;
    private static final String LINE_A = "239.77.1.1:30001";
    private static Path app;
    private VethPair t;

    @BeforeAll
    static void copyTheApplicationWhereNobodyCanReadIt() throws IOException {
        Requirements.requireNetns();
        Requirements.requireCommand("setpriv");
        Requirements.requireCommand("prlimit");
        Requirements.requireBackendAvailable("afxdp");
        final Path samples = Docs.root().resolve("samples/target");
        final Path jar = samples.resolve("bypass-samples.jar");
        if (!Files.exists(jar) || !Files.isDirectory(samples.resolve("lib"))) {
            throw new AssertionError(jar + " and lib/ are not built: run the reactor (./mvnw verify), or -pl deployment-tests -am");
        }
        // The build tree may sit under a directory only root can enter (/root): copy it out, world-readable.
        app = Files.createTempDirectory("bypass-deploy", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.createDirectory(app.resolve("lib"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.copy(jar, app.resolve(jar.getFileName()));
        try (Stream<Path> lib = Files.list(samples.resolve("lib"))) {
            for (final Path p : lib.toList()) {
                Files.copy(p, app.resolve("lib").resolve(p.getFileName()));
            }
        }
        try (Stream<Path> all = Files.walk(app)) {
            for (final Path p : all.filter(Files::isRegularFile).toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
            }
        }
    }

    @AfterAll
    static void removeTheCopy() throws IOException {
        if (app != null) {
            try (Stream<Path> s = Files.walk(app)) {
                for (final Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    @BeforeEach
    void topology() {
        t = VethPair.create();
    }

    @AfterEach
    void removeTopology() {
        t.close();
    }

    /** The unit's capabilities: what afxdp says it needs, and CAP_IPC_LOCK for the UMEM. */
    @Test
    void theUnitGivesWhatAfxdpNeedsAndNothingMore() throws Exception {
        final List<String> ambient = Docs.unit("AmbientCapabilities");
        assertEquals(ambient, Docs.unit("CapabilityBoundingSet"), "bounding set and ambient set differ");
        final List<String> needed = new ArrayList<>(Bypass.backend("afxdp").privilegeNeeds(PortUri.parse("afxdp:eth1")).capabilities());
        needed.add(Privileges.CAP_IPC_LOCK);
        assertEquals(new TreeSet<>(needed), new TreeSet<>(ambient));
        assertEquals(List.of("bypass"), Docs.unit("User"));
        final List<String> exec = Docs.unit("ExecStart");
        assertTrue(exec.contains("io.bypass.samples.Main") && exec.contains("feed") && exec.contains("--enable-native-access=ALL-UNNAMED"), exec.toString());
        if (Requirements.findCommand("systemd-analyze") != null) {
            // With this JVM in place of /usr/bin/java (which may be older than 22 or absent): no warning at all.
            final Path unit = app.resolve("bypass-feed.service");
            Files.writeString(unit, Files.readString(Docs.root().resolve(Docs.UNIT)).replace("ExecStart=/usr/bin/java ", "ExecStart=" + java() + " "));
            final Cmd.Result r = Cmd.runUnchecked("systemd-analyze", "verify", unit.toString());
            assertEquals("", (r.stdout() + r.stderr()).strip(), "systemd-analyze verify: " + r);
        }
    }

    @Test
    void feedOnAfxdpWithOnlyTheUnitsCapabilitiesLosesNothing() throws Exception {
        final List<String> caps = Docs.unit("AmbientCapabilities");
        // A memlock limit far below the 72 MiB UMEM: CAP_IPC_LOCK must be what lets it lock.
        try (Child feed = feed(caps, 65536, "afxdp:" + t.ifaceB())) {
            feed.awaitLine("ready", 60);
            final Map<String, String> status = status(feed.pid());
            assertTrue(status.get("Uid").startsWith(NOBODY + "\t"), "runs as uid " + NOBODY + ": " + status);
            assertEquals(new TreeSet<>(caps), new TreeSet<>(Privileges.decode(status.get("CapEff"))), "holds exactly the unit's capabilities");
            publish(5000);
            assertNoLoss(feed);
        }
    }

    /** nio needs no capability at all. */
    @Test
    void feedOnNioNeedsNoCapability() throws Exception {
        try (Child feed = feed(List.of(), -1, "nio:" + t.ifaceB())) {
            feed.awaitLine("ready", 60);
            assertEquals("0000000000000000", status(feed.pid()).get("CapEff"));
            publish(5000);
            assertNoLoss(feed);
        }
    }

    /** Without CAP_IPC_LOCK the memlock limit the doctor gives is enough, and one page less fails at open naming it. */
    @Test
    void withoutIpcLockTheMemlockTheDoctorGivesIsEnoughAndLessFailsAtOpen() throws Exception {
        final List<String> caps = new ArrayList<>(Docs.unit("AmbientCapabilities"));
        caps.remove(Privileges.CAP_IPC_LOCK);
        // 4 MiB, within the usual 8 MiB hard limit; 1024 RX frames, 400 ms of this feed (the 2-CPU CI host stalls 150 ms).
        final String uri = "afxdp:" + t.ifaceB() + "?frames=2048&frameSize=2048";
        final long bytes = Bypass.backend("afxdp").privilegeNeeds(PortUri.parse(uri)).lockedBytes();
        assertEquals(2048 * 2048, bytes);
        Requirements.require(hardMemlock() >= bytes, "needs a hard memlock limit of at least " + bytes + " bytes (prlimit cannot raise it)");

        final String enough = doctor(caps, bytes, uri);
        assertTrue(enough.contains("\n  locked_bytes: " + bytes + "\n") && enough.contains("\n  ready: yes\n"), enough);
        try (Child feed = feed(caps, bytes, uri)) {
            feed.awaitLine("ready", 60);
            publish(2500);
            assertNoLoss(feed);
        }

        final long less = bytes - 4096;
        final String short_ = doctor(caps, less, uri);
        assertTrue(short_.contains("\n  ready: NO: RLIMIT_MEMLOCK below " + bytes + " bytes\n"), short_);
        try (Child feed = feed(caps, less, uri)) {
            assertNotEquals(0, feed.await(60), feed.toString());
            final String out = feed.output();
            assertTrue(out.contains("XDP_UMEM_REG") && out.contains("ENOBUFS") && out.contains("LimitMEMLOCK=" + bytes)
                && out.contains("ulimit -l " + bytes / 1024) && out.contains("here " + less + " bytes,") && out.contains("CAP_IPC_LOCK"), out);
            assertTrue(!out.contains("\nready\n"), "failed at open, before it said ready: " + out);
        }
    }

    /** Each capability the unit lists for afxdp is needed: without it the open fails, naming it. */
    @Test
    void everyCapabilityTheUnitListsIsNeeded() throws Exception {
        for (final String dropped : Docs.unit("AmbientCapabilities")) {
            if (Privileges.CAP_IPC_LOCK.equals(dropped)) {
                continue; // its absence is the memlock case above
            }
            final List<String> caps = new ArrayList<>(Docs.unit("AmbientCapabilities"));
            caps.remove(dropped);
            try (Child feed = feed(caps, -1, "afxdp:" + t.ifaceB())) {
                assertNotEquals(0, feed.await(60), dropped + " dropped, yet: " + feed);
                assertTrue(feed.output().contains("this process lacks " + dropped + ";")
                    && feed.output().contains("AmbientCapabilities=") && !feed.output().contains("setcap cap_"), dropped + ": " + feed);
            }
        }
    }

    /** The unit's ExecStart up to the main class, with this JVM and the copied application. */
    private static List<String> unitCommand() throws IOException {
        final List<String> exec = new ArrayList<>(Docs.unit("ExecStart"));
        final List<String> out = new ArrayList<>();
        out.add(java());
        for (final String w : exec.subList(1, exec.indexOf("io.bypass.samples.Main") + 1)) {
            out.add(w.replace("/opt/bypass", app.toString()));
        }
        return out;
    }

    /** ip netns exec B [prlimit] setpriv (uid 65534, ambient and bounding sets = caps) java ... Main ARGS. */
    private Child runAs(final List<String> caps, final long memlock, final String... args) throws IOException {
        final List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", t.b().name()));
        if (memlock >= 0) {
            cmd.addAll(List.of("prlimit", "--memlock=" + memlock + ":" + memlock));
        }
        final String list = String.join(",", caps.stream().map(c -> "+" + c.substring(4).toLowerCase(Locale.ROOT)).toList());
        cmd.addAll(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups",
            "--bounding-set=-all" + (list.isEmpty() ? "" : "," + list)));
        cmd.addAll(list.isEmpty() ? List.of("--inh-caps=-all") : List.of("--inh-caps=" + list, "--ambient-caps=" + list));
        cmd.addAll(unitCommand());
        cmd.addAll(List.of(args));
        return Child.start(cmd, app, Map.of());
    }

    private Child feed(final List<String> caps, final long memlock, final String uri) throws IOException {
        return runAs(caps, memlock, "feed", "--uri", uri, "--a", LINE_A, "--b", "none", "--expect", String.valueOf(MESSAGES),
            "--duration", "60s", "--json", "--idle", "backoff", "--warm-up", "20000");
    }

    private String doctor(final List<String> caps, final long memlock, final String uri) throws Exception {
        try (Child doctor = runAs(caps, memlock, "doctor", "--uri", uri)) {
            assertEquals(0, doctor.await(60), doctor.toString());
            return doctor.output();
        }
    }

    /** A kernel sender (nio) in namespace A: MESSAGES messages, one a packet, at {@code rate} a second. */
    private void publish(final int rate) throws Exception {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final int rc = t.executorA().call(() -> Main.run(new String[] {"publish", "--uri", "nio:" + t.ifaceA(), "--a", LINE_A,
            "--b", "none", "--rate", String.valueOf(rate), "--count", String.valueOf(MESSAGES), "--idle", "backoff", "--quiet"},
            new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(out, true, StandardCharsets.UTF_8)));
        assertEquals(0, rc, out.toString(StandardCharsets.UTF_8));
    }

    private static void assertNoLoss(final Child feed) throws InterruptedException {
        assertEquals(0, feed.await(90), feed.toString());
        final String out = feed.output();
        final String json = out.substring(out.lastIndexOf("\n{") + 1);
        assertEquals(MESSAGES, number(json, "messages"), out);
        assertEquals(0, number(json, "lost"), out);
        assertEquals(0, number(json, "gaps"), out);
    }

    private static long number(final String json, final String key) {
        final Matcher m = Pattern.compile("\"" + key + "\":(\\d+)").matcher(json);
        if (!m.find()) {
            throw new AssertionError("no " + key + " in " + json);
        }
        return Long.parseLong(m.group(1));
    }

    private static Map<String, String> status(final long pid) throws IOException {
        final Map<String, String> m = new java.util.HashMap<>();
        for (final String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
            final int colon = line.indexOf(':');
            if (colon > 0) {
                m.put(line.substring(0, colon), line.substring(colon + 1).trim());
            }
        }
        return m;
    }

    private static long hardMemlock() throws IOException {
        for (final String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max locked memory")) {
                final String hard = line.substring("Max locked memory".length()).trim().split("\\s+")[1];
                return "unlimited".equals(hard) ? Long.MAX_VALUE : Long.parseLong(hard);
            }
        }
        return -1;
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
