package io.bypass.bench;

import io.bypass.bench.report.Report;
import io.bypass.testing.Requirements;
import io.bypass.testkit.Cmd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bin/bench --nics A,B}: a veth pair created in the root namespace stands in for two
 * NIC ports. The harness must borrow them for the run and give them back as they were, and
 * must refuse bad names with exit code 2 before changing anything.
 */
class NamedNicsTest {
    private static final Pattern FLAGS = Pattern.compile("<([^>]*)>.* mtu (\\d+)");

    /** Up/down, MTU, addresses (link-local IPv6 excluded: the kernel makes those itself), TX checksum offload. */
    private static String state(final String iface) {
        final String link = Cmd.run("ip", "-o", "link", "show", "dev", iface);
        final Matcher m = FLAGS.matcher(link);
        assertTrue(m.find(), link);
        final boolean up = List.of(m.group(1).split(",")).contains("UP");
        final TreeSet<String> addresses = new TreeSet<>();
        for (final String line : Cmd.run("ip", "-o", "addr", "show", "dev", iface).split("\n")) {
            final String[] w = line.trim().split("\\s+");
            if (w.length > 3 && w[2].startsWith("inet") && !line.contains("scope link")) {
                addresses.add(w[3]);
            }
        }
        final String tx = Cmd.run("ethtool", "-k", iface).lines().filter(l -> l.startsWith("tx-checksumming:")).findFirst()
            .orElse("?");
        return (up ? "UP" : "DOWN") + " mtu " + m.group(2) + " " + addresses + " " + tx;
    }

    private static String suffix() {
        return String.format("%06x", ThreadLocalRandom.current().nextInt(1 << 24));
    }

    /** Two veth ends in the root namespace: A up with MTU 1400 and a documentation-range /32, B down and bare. */
    private static void createPair(final String a, final String b, final String address) {
        Cmd.run("ip", "link", "add", a, "type", "veth", "peer", "name", b);
        Cmd.run("ip", "link", "set", "dev", a, "mtu", "1400");
        Cmd.run("ip", "addr", "add", address + "/32", "dev", a);
        Cmd.run("ip", "link", "set", "dev", a, "up");
    }

    private static TreeSet<String> benchNamespaces() {
        final TreeSet<String> names = new TreeSet<>();
        for (final String line : Cmd.run("ip", "netns", "list").split("\n")) {
            final String name = line.split(" ")[0];
            if (name.startsWith("bbna-") || name.startsWith("bbnb-")) {
                names.add(name);
            }
        }
        return names;
    }

    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void harnessBorrowsTheNamedInterfacesAndGivesThemBack() throws Exception {
        Requirements.requireNetns();
        Requirements.requireCommand("ethtool");
        Requirements.requireCommand("cc");
        Requirements.requireBackendAvailable("nio");
        Requirements.requireBackendAvailable("afxdp");
        final String sfx = suffix();
        final String a = "bbxa" + sfx;
        final String b = "bbxb" + sfx;
        final String address = "198.51.100." + ThreadLocalRandom.current().nextInt(1, 255);
        final TreeSet<String> namespacesBefore = benchNamespaces();
        try {
            createPair(a, b, address);
            final String stateA = state(a);
            final String stateB = state(b);
            assertTrue(stateA.startsWith("UP mtu 1400 [" + address + "/32]"), stateA);
            assertTrue(stateB.startsWith("DOWN mtu 1500 []"), stateB);

            final Path out = Path.of("target", "bench-nics", Long.toString(System.nanoTime()));
            final Path dir = BenchMain.run(BenchMain.Options.parse(new String[] {
                "--no-jmh", "--backends", "nio,afxdp", "--scenarios", "pingpong", "--no-udp-variants", "--repeats", "1", "--ping-repeats", "1",
                "--warmup-ms", "300", "--duration-ms", "1000", "--ping-count", "5000", "--nics", a + "," + b,
                "--out", out.toString()}));
            final String md = Files.readString(dir.resolve("report.md"));
            assertTrue(md.contains("| " + String.join(" | ", Report.COLUMNS) + " |"), "table header missing:\n" + md);
            for (final String expected : List.of("| nio (UdpEndpoint) | pingpong vs C kernel UDP",
                "| afxdp (Port) | pingpong vs C libxdp xsk")) {
                final String row = md.lines().filter(l -> l.startsWith(expected)).findFirst().orElse(null);
                assertTrue(row != null, "no row '" + expected + "' in:\n" + md);
                assertFalse(row.contains("failed") || row.contains("n/a | n/a"), "a run failed or had no C figure: " + row);
            }
            assertFalse(md.contains("Failed runs"), md);
            assertTrue(md.contains("nic: named NICs (--nics) " + a + " <-> " + b), "named NICs not in host facts:\n" + md);
            assertTrue(md.contains("named NICs: yes (--nics " + a + "," + b + ")") && md.contains("dedicated to the benchmark"), md);
            assertTrue(md.contains(a + ": driver veth") && md.contains(b + ": driver veth") && md.contains("NUMA node"),
                "driver facts missing:\n" + md);
            assertFalse(md.contains("not fully restored"), md);

            // back in the root namespace (ip link show would fail otherwise), as they were
            assertEquals(stateA, state(a));
            assertEquals(stateB, state(b));
            final TreeSet<String> left = benchNamespaces();
            left.removeAll(namespacesBefore);
            assertTrue(left.isEmpty(), "namespaces left behind: " + left);
        } finally {
            Cmd.runUnchecked("ip", "link", "del", a);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void badNamesAreRefusedWithExitCode2AndNothingChanges() throws Exception {
        Requirements.requireNetns();
        Requirements.requireCommand("ethtool");
        final String sfx = suffix();
        final String a = "bbxa" + sfx;
        final String b = "bbxb" + sfx;
        final String address = "198.51.100." + ThreadLocalRandom.current().nextInt(1, 255);
        final TreeSet<String> namespacesBefore = benchNamespaces();
        try {
            createPair(a, b, address);
            final String stateA = state(a);
            final String stateB = state(b);
            final List<String[]> cases = new ArrayList<>(List.of(
                new String[] {"bbzz" + sfx + "," + b, "no interface 'bbzz" + sfx + "'"},
                new String[] {a + "," + a, "names " + a + " twice"},
                new String[] {a + ",lo", "lo is a loopback interface"},
                new String[] {a, "needs two interface names"}));
            final Matcher def = Pattern.compile("\\sdev\\s+(\\S+)").matcher(Cmd.run("ip", "-4", "route", "show", "default"));
            if (def.find()) {
                cases.add(new String[] {a + "," + def.group(1), def.group(1) + " carries the default route"});
            }
            for (final String[] c : cases) {
                final Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), BenchMain.class.getName(), "--no-jmh", "--backends", "nio",
                    "--nics", c[0], "--out", Path.of("target", "bench-nics-refused").toString())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                final String err = new String(p.getErrorStream().readAllBytes());
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), "bench did not exit for --nics " + c[0]);
                assertEquals(2, p.exitValue(), "--nics " + c[0] + ": " + err);
                assertTrue(err.contains(c[1]), "--nics " + c[0] + ": expected '" + c[1] + "' in: " + err);
                assertEquals(stateA, state(a), "--nics " + c[0] + " changed " + a);
                assertEquals(stateB, state(b), "--nics " + c[0] + " changed " + b);
            }
            assertFalse(Files.exists(Path.of("target", "bench-nics-refused")), "a refused run wrote a report");
            assertEquals(namespacesBefore, benchNamespaces());
        } finally {
            Cmd.runUnchecked("ip", "link", "del", a);
        }
    }
}
