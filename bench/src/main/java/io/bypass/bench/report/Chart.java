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
import java.util.Map;
import java.util.Locale;

import javax.imageio.ImageIO;

/**
 * Draws round-trip latency by percentile (HdrHistogram style: the x axis stretches the
 * tail, 0% .. 99.99%; the y axis is logarithmic, microseconds), one line per backend and
 * C baseline, into a PNG with {@link BufferedImage} and {@link ImageIO}, headless; and
 * bar charts ({@link #writeBars}, the zero-loss rates) in the same style.
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
     * One panel per group (backend), two columns, sharing one y range so panels compare.
     *
     * @param title  chart title
     * @param panels group name to its lines (empty lines are drawn as "no data")
     * @param out    PNG file
     * @throws IOException if it cannot be written
     */
    public static void write(final String title, final Map<String, List<Series>> panels, final Path out) throws IOException {
        System.setProperty("java.awt.headless", "true");
        final int cols = panels.size() <= 1 ? 1 : 2;
        final int rows = Math.max(1, (panels.size() + cols - 1) / cols);
        final int pwFull = 620;
        final int phFull = 400;
        final int w = cols * pwFull;
        final int h = 60 + rows * phFull;
        final BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        final Graphics2D g = canvas(img, title, 18, 32, "x: percentile (tail stretched); y: round trip, log scale; "
            + "solid = Java, dashed = C baseline; one panel per backend, same y scale");

        double minUs = Double.MAX_VALUE;
        double maxUs = 0;
        final Map<Series, double[]> sorted = new java.util.IdentityHashMap<>();
        for (final List<Series> list : panels.values()) {
            for (final Series s : list) {
                final double[] v = Arrays.stream(s.rtts()).mapToDouble(x -> x / 1000.0).sorted().toArray();
                sorted.put(s, v);
                if (v.length > 0) {
                    minUs = Math.min(minUs, v[0]);
                    maxUs = Math.max(maxUs, v[v.length - 1]);
                }
            }
        }
        if (maxUs == 0) {
            minUs = 1;
            maxUs = 10;
        }
        final double yMin = Math.floor(Math.log10(Math.max(minUs, 0.1)));
        final double yMax = Math.ceil(Math.log10(maxUs * 1.05));
        int i = 0;
        for (final Map.Entry<String, List<Series>> e : panels.entrySet()) {
            final int x0 = (i % cols) * pwFull;
            final int y0 = 60 + (i / cols) * phFull;
            panel(g, e.getKey(), e.getValue(), sorted, x0 + 70, y0 + 30, pwFull - 95, phFull - 80, yMin, yMax);
            i++;
        }
        g.dispose();
        ImageIO.write(img, "png", out.toFile());
    }

    private static void panel(final Graphics2D g, final String name, final List<Series> series, final Map<Series, double[]> sorted,
                              final int left, final int top, final int pw, final int ph, final double yMin, final double yMax) {
        final double ySpan = Math.max(1, yMax - yMin);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.setColor(Color.BLACK);
        g.drawString(name, left, top - 10);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        final FontMetrics fm = g.getFontMetrics();
        g.setStroke(new BasicStroke(1f));
        final String[] xLabels = {"0%", "90%", "99%", "99.9%", "99.99%"};
        for (int k = 0; k <= MAX_NINES; k++) {
            final int x = left + (int) Math.round(pw * k / MAX_NINES);
            g.setColor(new Color(0xdddddd));
            g.drawLine(x, top, x, top + ph);
            g.setColor(Color.DARK_GRAY);
            g.drawString(xLabels[k], x - fm.stringWidth(xLabels[k]) / 2, top + ph + 15);
        }
        final int x50 = left + (int) Math.round(pw * Math.log10(2) / MAX_NINES);
        g.setColor(new Color(0xeeeeee));
        g.drawLine(x50, top, x50, top + ph);
        g.setColor(Color.GRAY);
        g.drawString("50%", x50 - fm.stringWidth("50%") / 2, top + ph + 15);
        for (double d = yMin; d <= yMax + 1e-9; d++) {
            for (int m = 1; m < 10; m++) {
                final double val = Math.log10(m) + d;
                if (val > yMax + 1e-9) {
                    break;
                }
                final int y = top + ph - (int) Math.round(ph * (val - yMin) / ySpan);
                g.setColor(m == 1 ? new Color(0xcccccc) : new Color(0xf2f2f2));
                g.drawLine(left, y, left + pw, y);
                if (m == 1) {
                    final String label = formatUs(Math.pow(10, d));
                    g.setColor(Color.DARK_GRAY);
                    g.drawString(label, left - 6 - fm.stringWidth(label), y + 4);
                }
            }
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, pw, ph);
        int legendY = top + 16;
        for (int k = 0; k < series.size(); k++) {
            final Series s = series.get(k);
            final double[] v = sorted.get(s);
            final Color c = COLORS[k % COLORS.length];
            final BasicStroke stroke = s.dashed()
                ? new BasicStroke(2.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f, new float[] {7f, 4f}, 0f)
                : new BasicStroke(2.4f);
            g.setColor(c);
            g.setStroke(stroke);
            if (v.length > 0) {
                int px = -1;
                int py = -1;
                for (int step = 0; step <= 400; step++) {
                    final double nines = MAX_NINES * step / 400.0;
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
            // Legend inside the panel, top left, on a white box so lines do not hide it.
            final String text = v.length == 0 ? s.label() + ": no data"
                : String.format(Locale.ROOT, "%s: p50 %s, p99 %s", s.label(), formatUs(v[v.length / 2]),
                    formatUs(v[Math.min(v.length - 1, (int) Math.floor(0.99 * v.length))]));
            g.setColor(Color.WHITE);
            g.fillRect(left + 6, legendY - 11, 36 + fm.stringWidth(text), 15);
            g.setColor(c);
            g.drawLine(left + 10, legendY - 4, left + 34, legendY - 4);
            g.setStroke(new BasicStroke(1f));
            g.setColor(Color.BLACK);
            g.drawString(text, left + 40, legendY);
            legendY += 16;
        }
        g.setStroke(new BasicStroke(1f));
    }

    /**
     * One bar.
     *
     * @param label   legend text (under the bar)
     * @param value   its height (packets per second)
     * @param hatched true for C baselines
     * @param text    printed above the bar
     */
    public record Bar(String label, double value, boolean hatched, String text) {
    }

    /**
     * A bar chart: one group of bars per key (backend), one linear y axis for all.
     *
     * @param title    chart title
     * @param subtitle the line under it
     * @param groups   group name to its bars
     * @param out      PNG file
     * @throws IOException if it cannot be written
     */
    public static void writeBars(final String title, final String subtitle, final Map<String, List<Bar>> groups, final Path out)
        throws IOException {
        System.setProperty("java.awt.headless", "true");
        final int barW = 130;
        final int gap = 50;
        final int left = 80;
        int bars = 0;
        for (final List<Bar> g : groups.values()) {
            bars += g.size();
        }
        final int w = Math.max(860, left + 40 + bars * barW + Math.max(1, groups.size()) * gap);
        final int h = 520;
        final int top = 80;
        final int ph = 340;
        final BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        final Graphics2D g = canvas(img, title, 16, 30, subtitle);
        double max = 0;
        for (final List<Bar> list : groups.values()) {
            for (final Bar b : list) {
                max = Math.max(max, b.value());
            }
        }
        final double step = niceStep(max <= 0 ? 1000 : max / 5);
        final double yMax = Math.max(step, Math.ceil(max * 1.1 / step) * step);
        final FontMetrics fm = g.getFontMetrics();
        for (double v = 0; v <= yMax + 1e-9; v += step) {
            final int y = top + ph - (int) Math.round(ph * v / yMax);
            g.setColor(new Color(0xdddddd));
            g.drawLine(left, y, w - 20, y);
            final String label = String.format(Locale.ROOT, "%.0f k", v / 1e3);
            g.setColor(Color.DARK_GRAY);
            g.drawString(label, left - 6 - fm.stringWidth(label), y + 4);
        }
        int x = left + gap / 2;
        int colour = 0;
        for (final Map.Entry<String, List<Bar>> e : groups.entrySet()) {
            final int groupX = x;
            for (final Bar b : e.getValue()) {
                final int bh = (int) Math.round(ph * b.value() / yMax);
                final Color c = COLORS[colour++ % COLORS.length];
                g.setColor(c);
                if (b.hatched()) {
                    g.setStroke(new BasicStroke(2f));
                    g.drawRect(x + 10, top + ph - bh, barW - 20, bh);
                    final java.awt.Shape clip = g.getClip();
                    g.clipRect(x + 10, top + ph - bh, barW - 20, bh);
                    for (int d = -ph; d < barW + ph; d += 9) {
                        g.drawLine(x + 10 + d, top + ph, x + 10 + d + ph, top);
                    }
                    g.setClip(clip);
                } else {
                    g.fillRect(x + 10, top + ph - bh, barW - 20, bh);
                }
                g.setStroke(new BasicStroke(1f));
                g.setColor(Color.BLACK);
                g.drawString(b.text(), x + barW / 2 - fm.stringWidth(b.text()) / 2, top + ph - bh - 6);
                final String name = b.label().length() > 18 ? b.label().substring(0, 18) : b.label();
                g.drawString(name, x + barW / 2 - fm.stringWidth(name) / 2, top + ph + 16);
                x += barW;
            }
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
            g.drawString(e.getKey(), groupX + (x - groupX) / 2 - g.getFontMetrics().stringWidth(e.getKey()) / 2, top + ph + 36);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            x += gap;
        }
        g.setColor(Color.BLACK);
        g.drawLine(left, top + ph, w - 20, top + ph);
        if (groups.isEmpty()) {
            g.drawString("no data", left + 20, top + ph / 2);
        }
        g.dispose();
        ImageIO.write(img, "png", out.toFile());
    }

    private static double niceStep(final double raw) {
        final double p = Math.pow(10, Math.floor(Math.log10(raw)));
        for (final double m : new double[] {1, 2, 5, 10}) {
            if (m * p >= raw) {
                return m * p;
            }
        }
        return 10 * p;
    }

    private static String formatUs(final double us) {
        if (us >= 1000) {
            return String.format(Locale.ROOT, "%.0f ms", us / 1000).replace(".0 ", " ");
        }
        return us >= 10 ? String.format(Locale.ROOT, "%.0f us", us) : String.format(Locale.ROOT, "%.1f us", us);
    }

    /** A white canvas with the chart's title and, below it, one line of explanation. */
    private static Graphics2D canvas(final BufferedImage img, final String title, final int titleSize, final int titleY,
                                     final String subtitle) {
        final Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, titleSize));
        g.drawString(title, 20, titleY);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString(subtitle, 20, 50);
        return g;
    }
}
