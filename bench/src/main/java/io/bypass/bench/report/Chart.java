package io.bypass.bench.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import javax.imageio.ImageIO;

/**
 * Draws round-trip latency by percentile (HdrHistogram style: the x axis stretches the
 * tail, 0% .. 99.99%; the y axis is logarithmic, microseconds), one line per backend and
 * C baseline, into a PNG with {@link BufferedImage} and {@link ImageIO}, headless.
 */
public final class Chart {
    private static final Color[] COLORS = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
        new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf),
    };
    private static final double MAX_NINES = 4; // 99.99%

    private Chart() {
    }

    /**
     * One line.
     *
     * @param label  legend text
     * @param rtts   round trips in nanoseconds (any order)
     * @param dashed true for C baselines
     */
    public record Series(String label, long[] rtts, boolean dashed) {
    }

    /**
     * @param title  chart title
     * @param series lines to draw (empty ones are skipped)
     * @param out    PNG file
     * @throws IOException if it cannot be written
     */
    public static void write(final String title, final List<Series> series, final Path out) throws IOException {
        System.setProperty("java.awt.headless", "true");
        final int w = 1100;
        final int h = 650;
        final int left = 80;
        final int right = 330;
        final int top = 50;
        final int bottom = 60;
        final BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        final Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        final int pw = w - left - right;
        final int ph = h - top - bottom;

        double minUs = Double.MAX_VALUE;
        double maxUs = 0;
        final List<double[]> sorted = new java.util.ArrayList<>();
        for (final Series s : series) {
            final double[] v = Arrays.stream(s.rtts()).mapToDouble(x -> x / 1000.0).sorted().toArray();
            sorted.add(v);
            if (v.length > 0) {
                minUs = Math.min(minUs, v[0]);
                maxUs = Math.max(maxUs, v[v.length - 1]);
            }
        }
        if (maxUs == 0) {
            minUs = 1;
            maxUs = 10;
        }
        final double yMin = Math.floor(Math.log10(Math.max(minUs, 0.1)));
        final double yMax = Math.ceil(Math.log10(maxUs * 1.05));
        final double ySpan = Math.max(1, yMax - yMin);

        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        g.setColor(Color.BLACK);
        g.drawString(title, left, 30);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        final FontMetrics fm = g.getFontMetrics();

        // Grid: percentiles across, decades of microseconds up.
        final String[] xLabels = {"0%", "90%", "99%", "99.9%", "99.99%"};
        for (int i = 0; i <= MAX_NINES; i++) {
            final int x = left + (int) Math.round(pw * i / MAX_NINES);
            g.setColor(new Color(0xdddddd));
            g.drawLine(x, top, x, top + ph);
            g.setColor(Color.DARK_GRAY);
            g.drawString(xLabels[i], x - fm.stringWidth(xLabels[i]) / 2, top + ph + 20);
        }
        final int x50 = left + (int) Math.round(pw * Math.log10(2) / MAX_NINES);
        g.setColor(new Color(0xeeeeee));
        g.drawLine(x50, top, x50, top + ph);
        g.setColor(Color.GRAY);
        g.drawString("50%", x50 - fm.stringWidth("50%") / 2, top + ph + 20);
        for (double d = yMin; d <= yMax + 1e-9; d++) {
            for (int m = 1; m < 10; m++) {
                final double val = Math.log10(m) + d;
                if (val > yMax + 1e-9) {
                    break;
                }
                final int y = top + ph - (int) Math.round(ph * (val - yMin) / ySpan);
                g.setColor(m == 1 ? new Color(0xcccccc) : new Color(0xf0f0f0));
                g.drawLine(left, y, left + pw, y);
                if (m == 1) {
                    final String label = formatUs(Math.pow(10, d));
                    g.setColor(Color.DARK_GRAY);
                    g.drawString(label, left - 8 - fm.stringWidth(label), y + 5);
                }
            }
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, pw, ph);
        g.drawString("percentile", left + pw / 2 - 30, h - 15);
        final Graphics2D gr = (Graphics2D) g.create();
        gr.rotate(-Math.PI / 2);
        gr.drawString("round trip (us, log scale)", -(top + ph / 2 + 80), 20);
        gr.dispose();

        int legendY = top + 10;
        for (int i = 0; i < series.size(); i++) {
            final double[] v = sorted.get(i);
            final Series s = series.get(i);
            final Color c = COLORS[i % COLORS.length];
            g.setColor(c);
            g.setStroke(s.dashed()
                ? new BasicStroke(2.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f, new float[] {8f, 5f}, 0f)
                : new BasicStroke(2.5f));
            if (v.length > 0) {
                int px = -1;
                int py = -1;
                for (int k = 0; k <= 400; k++) {
                    final double nines = MAX_NINES * k / 400.0;
                    final double p = 1 - Math.pow(10, -nines);
                    final int idx = Math.min(v.length - 1, (int) Math.floor(p * v.length));
                    final double us = Math.max(v[idx], Math.pow(10, yMin));
                    final int x = left + (int) Math.round(pw * nines / MAX_NINES);
                    final int y = top + ph - (int) Math.round(ph * (Math.log10(us) - yMin) / ySpan);
                    if (px >= 0) {
                        g.drawLine(px, py, x, y);
                    }
                    px = x;
                    py = y;
                }
            }
            g.setStroke(s.dashed()
                ? new BasicStroke(2.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f, new float[] {8f, 5f}, 0f)
                : new BasicStroke(2.5f));
            g.drawLine(left + pw + 15, legendY, left + pw + 45, legendY);
            g.setColor(Color.BLACK);
            final String text = v.length == 0 ? s.label() + " (no data)"
                : String.format(Locale.ROOT, "%s  p50 %s", s.label(), formatUs(v[v.length / 2]));
            g.drawString(text, left + pw + 52, legendY + 5);
            legendY += 22;
        }
        g.dispose();
        ImageIO.write(img, "png", out.toFile());
    }

    private static String formatUs(final double us) {
        if (us >= 1000) {
            return String.format(Locale.ROOT, "%.0f ms", us / 1000).replace(".0 ", " ");
        }
        return us >= 10 ? String.format(Locale.ROOT, "%.0f us", us) : String.format(Locale.ROOT, "%.1f us", us);
    }
}
