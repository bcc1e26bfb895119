package io.bypass.samples.cli;

import io.bypass.samples.Main;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArgsTest {
    private final Options o = new Options("t", "test")
        .value("--rate", "PPS", "rate", "100")
        .value("--a", "GROUP:PORT", "a", null)
        .value("--duration", "TIME", "d", null)
        .flag("--json", "json")
        .positional("ROLE", "client", "server");

    @Test
    void parsesBothValueForms() throws Exception {
        final Args a = o.parse(new String[] {"t", "server", "--rate=5k", "--a", "239.1.1.1:30001", "--json", "--duration", "1.5s"}, 1);
        assertEquals(5000, a.longValue("--rate", 0, Long.MAX_VALUE));
        assertEquals(30001, a.groupPort("--a").port());
        assertTrue(a.flag("--json"));
        assertEquals("server", a.positional(0));
        assertEquals(1_500_000_000L, a.durationNanos("--duration"));
    }

    @Test
    void defaultsApply() throws Exception {
        final Args a = o.parse(new String[] {"t", "client"}, 1);
        assertEquals(100, a.intValue("--rate", 0, 1000));
        assertEquals(0, a.durationNanos("--duration"));
    }

    @Test
    void badArgumentsNameTheProblem() {
        assertTrue(assertThrows(UsageException.class, () -> o.parse(new String[] {"t", "client", "--rte", "5"}, 1))
            .getMessage().contains("did you mean --rate"));
        assertTrue(assertThrows(UsageException.class, () -> o.parse(new String[] {"t", "client", "--rate"}, 1))
            .getMessage().contains("missing value"));
        assertTrue(assertThrows(UsageException.class, () -> o.parse(new String[] {"t", "both"}, 1))
            .getMessage().contains("client|server"));
        assertTrue(assertThrows(UsageException.class, () -> o.parse(new String[] {"t"}, 1))
            .getMessage().contains("missing ROLE"));
        assertTrue(assertThrows(UsageException.class, () -> o.parse(new String[] {"t", "client", "--json=yes"}, 1))
            .getMessage().contains("flag"));
        assertTrue(assertThrows(UsageException.class, () -> o.parse(new String[] {"t", "client", "--rate", "1", "--rate", "2"}, 1))
            .getMessage().contains("twice"));
        assertTrue(assertThrows(UsageException.class, () -> o.parse(new String[] {"t", "client", "--rate", "fast"}, 1)
            .longValue("--rate", 0, 10)).getMessage().contains("'fast'"));
        assertTrue(assertThrows(UsageException.class, () -> o.parse(new String[] {"t", "client", "--rate", "11"}, 1)
            .longValue("--rate", 0, 10)).getMessage().contains("outside"));
        assertTrue(assertThrows(UsageException.class, () -> o.parse(new String[] {"t", "client", "--a", "239.1.1.1"}, 1)
            .groupPort("--a")).getMessage().contains("ADDRESS:PORT"));
        assertTrue(assertThrows(UsageException.class, () -> o.parse(new String[] {"t", "client", "--a", "300.1.1.1:5"}, 1)
            .groupPort("--a")).getMessage().contains("not an IPv4"));
        assertTrue(assertThrows(UsageException.class, () -> o.parse(new String[] {"t", "client", "--duration", "5 parsecs"}, 1)
            .durationNanos("--duration")).getMessage().contains("unit"));
    }

    static int run(final StringBuilder err, final String... argv) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream e = new ByteArrayOutputStream();
        final int rc = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        err.append(e.toString(StandardCharsets.UTF_8));
        return rc;
    }

    @Test
    void everyCommandRejectsBadArgumentsWithExit2AndUsage() {
        final String[][] cases = {
            {},
            {"nonsense"},
            {"feed", "--bogus"},
            {"feed", "--a", "not-an-address"},
            {"feed", "--idle", "sleepy"},
            {"feed", "--cpu", "-3"},
            {"feed", "--cpu", "100000"},
            {"feed", "--a", "239.1.1.1:30001", "--b", "239.1.1.1:30001"},
            {"feed", "--uri", "bogus"},
            {"publish", "--rate", "fast"},
            {"publish", "--messages-per-packet", "0"},
            {"publish", "--session", "MUCH-TOO-LONG-SESSION"},
            {"replay"},
            {"replay", "--file", "/nonexistent.pcap"},
            {"replay", "--file", "/etc/hostname", "--speed", "-1"},
            {"capture", "--out", "/tmp/x.pcap"},
            {"pingpong"},
            {"pingpong", "sideways"},
            {"pingpong", "client"},
            {"pingpong", "client", "--server", "10.0.0.1"},
            {"trade"},
            {"exchange", "--rate", "0"},
            {"doctor", "--verbose"},
            {"demo", "--seconds", "0"},
            {"feed", "--duration", "ten"},
        };
        for (final String[] c : cases) {
            final StringBuilder err = new StringBuilder();
            assertEquals(Main.USAGE, run(err, c), "exit code for " + String.join(" ", c) + ": " + err);
            assertTrue(err.toString().contains("usage: bypass"), "usage printed for " + String.join(" ", c) + ": " + err);
        }
    }

    @Test
    void helpExitsZero() {
        final StringBuilder err = new StringBuilder();
        assertEquals(0, run(err, "--help"));
        assertEquals(0, run(err, "feed", "--help"));
    }

    @Test
    void theCommandListIsEachCommandsOwnSummary() {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, Main.run(new String[] {"--help"}, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
        final String help = out.toString(StandardCharsets.UTF_8);
        for (final Command c : Main.commands().values()) {
            final String summary = c.options().summary();
            assertTrue(!summary.isBlank() && help.contains(String.format("  %-10s %s%n", c.name(), summary)),
                c.name() + " listed with its own summary '" + summary + "' in:\n" + help);
            assertTrue(c.options().usage().contains(summary), c.name() + "'s usage says the same summary");
        }
    }
}
