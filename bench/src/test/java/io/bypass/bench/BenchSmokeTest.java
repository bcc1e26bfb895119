package io.bypass.bench;

import io.bypass.bench.report.Report;
import io.bypass.testing.Requirements;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.imageio.ImageIO;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The harness end to end, tiny: rx and ping-pong on nio and afxdp against their C
 * baselines (compiled with cc), on a veth pair it creates; checks the report's table,
 * the chart and the JSON. Measures nothing worth reading; it proves bin/bench works.
 */
class BenchSmokeTest {
    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void harnessRunsNioAndAfxdpAndWritesTheReport() throws Exception {
        Requirements.requireNetns();
        Requirements.requireCommand("ethtool");
        Requirements.requireCommand("cc");
        Requirements.requireBackendAvailable("nio");
        Requirements.requireBackendAvailable("afxdp");
        final Path out = Path.of("target", "bench-smoke", Long.toString(System.nanoTime()));
        final BenchMain.Options o = BenchMain.Options.parse(new String[] {
            "--no-jmh", "--backends", "nio,afxdp", "--scenarios", "rx,pingpong", "--repeats", "1", "--ping-repeats", "1",
            "--warmup-ms", "200", "--duration-ms", "500", "--ping-count", "20000", "--out", out.toString()});
        final Path dir = BenchMain.run(o);
        assertEquals(out, dir);

        final String md = Files.readString(dir.resolve("report.md"));
        final String header = "| " + String.join(" | ", Report.COLUMNS) + " |";
        assertTrue(md.contains(header), "table header missing:\n" + md);
        for (final String expected : List.of("| nio (UdpEndpoint) | rx vs C kernel UDP", "| nio (UdpEndpoint) | pingpong vs C kernel UDP",
            "| afxdp (Port) | rx vs C libxdp xsk", "| afxdp (Port) | pingpong vs C libxdp xsk")) {
            final String row = md.lines().filter(l -> l.startsWith(expected)).findFirst().orElse(null);
            assertTrue(row != null, "no row '" + expected + "' in:\n" + md);
            assertEquals(Report.COLUMNS.size(), row.split("\\|", -1).length - 2, "cells in " + row);
            assertFalse(row.contains("failed") || row.contains("n/a | n/a"), "a run failed or had no C figure: " + row);
        }
        assertFalse(md.contains("Failed runs"), md);
        assertTrue(md.contains("kernel:") && md.contains("pinning:") && md.contains("nic: veth pair"), "host facts missing:\n" + md);

        final BufferedImage png = ImageIO.read(dir.resolve("latency.png").toFile());
        assertTrue(png != null && png.getWidth() >= 800 && png.getHeight() >= 400, "latency.png unreadable");

        final String json = Files.readString(dir.resolve("results.json"));
        assertTrue(json.contains("\"network\"") && json.contains("\"p99_ns\"") && json.contains("\"host\""), json);
        // The harness removed its namespaces (names carry the veth suffix recorded in the host facts).
        final java.util.regex.Matcher m = java.util.regex.Pattern.compile("veth pair bba([0-9a-f]{6}) ").matcher(md);
        assertTrue(m.find(), "veth pair not recorded:\n" + md);
        final String namespaces = io.bypass.testkit.Cmd.run("ip", "netns", "list");
        assertFalse(java.util.regex.Pattern.compile("^bbn[ab]-\\d+-" + m.group(1) + "\\b", java.util.regex.Pattern.MULTILINE)
            .matcher(namespaces).find(), namespaces);
    }
}
