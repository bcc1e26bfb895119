package io.bypass.bench;

import io.bypass.bench.report.ZeroLossReport;
import io.bypass.testing.Requirements;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.imageio.ImageIO;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The zeroloss scenario end to end on nio, tiny: one 200 ms trial per rate, 25% precision,
 * at most 300 kpps; the Java UdpEndpoint + feed handler and the C recvmmsg receiver each get
 * a positive zero-loss rate from the xsk sender, and the report has the table, the chart and
 * the JSON. Measures nothing worth reading.
 */
class ZeroLossHarnessTest {
    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void zeroLossSearchOnNioWritesTheTableChartAndJson() throws Exception {
        Requirements.requireNetns();
        Requirements.requireCommand("ethtool");
        Requirements.requireCommand("cc");
        Requirements.requireBackendAvailable("nio");
        Requirements.requireBackendAvailable("afxdp"); // the sender is the C libxdp xsk baseline
        final Path out = Path.of("target", "bench-zeroloss", Long.toString(System.nanoTime()));
        final Path dir = BenchMain.run(BenchMain.Options.parse(new String[] {
            "--no-jmh", "--backends", "nio", "--scenarios", "zeroloss", "--zl-trial-ms", "200", "--zl-trials", "1",
            "--zl-precision", "0.25", "--zl-max-pps", "300000", "--zl-warmup-ms", "300", "--out", out.toString()}));

        final String md = Files.readString(dir.resolve("report.md"));
        assertTrue(md.contains("| " + String.join(" | ", ZeroLossReport.COLUMNS) + " |"), "zeroloss table header missing:\n" + md);
        final String row = md.lines().filter(l -> l.startsWith("| nio (UdpEndpoint) vs C kernel UDP")).findFirst().orElse(null);
        assertTrue(row != null, "no nio zeroloss row in:\n" + md);
        assertEquals(ZeroLossReport.COLUMNS.size(), row.split("\\|", -1).length - 2, "cells in " + row);
        assertFalse(row.contains("failed"), row);
        assertTrue(row.matches(".*\\| [0-9]+\\.[0-9]{2} \\|.*"), "a ratio Java/C in " + row);

        final BufferedImage png = ImageIO.read(dir.resolve("zeroloss.png").toFile());
        assertTrue(png != null && png.getWidth() >= 700 && png.getHeight() >= 400, "zeroloss.png unreadable");

        final String json = Files.readString(dir.resolve("results.json"));
        final List<Double> rates = new ArrayList<>();
        final Matcher m = Pattern.compile("\"zero_loss_pps\": ([0-9.]+)").matcher(json);
        while (m.find()) {
            rates.add(Double.parseDouble(m.group(1)));
        }
        assertEquals(2, rates.size(), "Java and C searches in results.json:\n" + json);
        for (final double r : rates) {
            assertTrue(r > 1000 && r <= 300_000 * 1.05, "a sane zero-loss rate, achieved <= the maximum asked: " + r);
        }
        assertTrue(json.contains("\"ratio_to_c\": ") && json.contains("\"steps\"") && json.contains("\"achieved_pps\""), json);
        assertTrue(json.contains("\"zeroloss_trial_ms\": 200"), "settings recorded");
    }
}
