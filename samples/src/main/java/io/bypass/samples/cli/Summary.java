package io.bypass.samples.cli;

import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.threads.HiccupRecorder;
import org.HdrHistogram.Histogram;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The end-of-run summary of a subcommand: printed as readable {@code key: value} lines,
 * and with {@code --json} also as one JSON object on the last line of stdout.
 */
public final class Summary {
    private final Map<String, Object> fields = new LinkedHashMap<>();

    /** Creates an empty summary. */
    public Summary() {
    }

    /**
     * @param key   field name, snake_case
     * @param value number, string, boolean, list or map
     * @return this
     */
    public Summary put(final String key, final Object value) {
        fields.put(key, value);
        return this;
    }

    /**
     * Adds {@code endpoint_drops}, the total of every drop counter, and {@code drops}, each
     * non-zero drop counter by reason (summed over the endpoints), so a loss is never
     * reported without its cause; and {@code partial_checksums}, the datagrams delivered with
     * a kernel peer's unfinished checksum ({@code RX_PARTIAL_CHECKSUM}: a peer on this host over
     * veth, see {@code bypass doctor}).
     *
     * @param counters the counters of each endpoint the command used
     * @return this
     */
    public Summary drops(final Counters... counters) {
        final Map<String, Object> byReason = new LinkedHashMap<>();
        long total = 0;
        long partial = 0;
        for (final Counters cs : counters) {
            if (cs != null) {
                partial += cs.get(Counter.RX_PARTIAL_CHECKSUM);
            }
        }
        for (final Counter c : Counter.values()) {
            if (!c.isDrop()) {
                continue;
            }
            long sum = 0;
            for (final Counters cs : counters) {
                if (cs != null) {
                    sum += cs.get(c);
                }
            }
            if (sum != 0) {
                byReason.put(c.name().toLowerCase(Locale.ROOT).substring("drop_".length()), sum);
            }
            total += sum;
        }
        put("endpoint_drops", total);
        put("drops", byReason);
        put("partial_checksums", partial);
        return this;
    }

    /**
     * @param udp an endpoint
     * @return its counters, with the kernel's or NIC's statistics copied in
     */
    public static Counters refreshed(final io.bypass.udp.UdpEndpoint udp) {
        final Counters c = udp.counters();
        c.refresh();
        return c;
    }

    /** @return the fields, in insertion order */
    public Map<String, Object> fields() {
        return fields;
    }

    /**
     * Adds latency percentiles of a histogram recorded in nanoseconds, as microseconds,
     * under {@code prefix_p50_us} and so on; nothing if it is empty.
     *
     * @param prefix name prefix, such as {@code latency}
     * @param h      histogram in nanoseconds
     * @return this
     */
    public Summary percentiles(final String prefix, final Histogram h) {
        put(prefix + "_samples", h.getTotalCount());
        if (h.getTotalCount() == 0) {
            return this;
        }
        put(prefix + "_min_us", us(h.getMinValue()));
        put(prefix + "_p50_us", us(h.getValueAtPercentile(50)));
        put(prefix + "_p90_us", us(h.getValueAtPercentile(90)));
        put(prefix + "_p99_us", us(h.getValueAtPercentile(99)));
        put(prefix + "_p99_9_us", us(h.getValueAtPercentile(99.9)));
        put(prefix + "_max_us", us(h.getMaxValue()));
        put(prefix + "_mean_us", Math.round(h.getMean() / 10.0) / 100.0);
        return this;
    }

    /**
     * Adds the polling loop's stalls, the gaps between consecutive polls: {@code poll_gaps}
     * (how many), {@code poll_gap_p50_us} .. {@code poll_gap_p99_99_us}, {@code poll_gap_max_us},
     * {@code poll_gaps_over_1ms} (exact, or over the recorder's threshold, named after it),
     * {@code poll_stalled_ms} (their sum) and {@code poll_gap_longest_us} (the longest, descending).
     *
     * @param r the polling loop's recorder
     * @return this
     */
    public Summary pollGaps(final HiccupRecorder r) {
        put("poll_gaps", r.gapCount());
        if (r.gapCount() == 0) {
            return this;
        }
        put("poll_gap_p50_us", us(r.gapAtPercentile(50)));
        put("poll_gap_p99_us", us(r.gapAtPercentile(99)));
        put("poll_gap_p99_9_us", us(r.gapAtPercentile(99.9)));
        put("poll_gap_p99_99_us", us(r.gapAtPercentile(99.99)));
        put("poll_gap_max_us", us(r.maxGapNanos()));
        final long t = r.thresholdNanos();
        put("poll_gaps_over_" + (t % 1_000_000 == 0 ? t / 1_000_000 + "ms" : t % 1000 == 0 ? t / 1000 + "us" : t + "ns"), r.stallCount());
        put("poll_stalled_ms", Math.round(r.stallNanos() / 1e3) / 1e3);
        final List<Double> longest = new ArrayList<>();
        for (int i = 0; i < Math.min(5, r.longestCount()); i++) {
            longest.add(us(r.longestGapNanos(i)));
        }
        put("poll_gap_longest_us", longest);
        return this;
    }

    private static double us(final long nanos) {
        return Math.round(nanos / 10.0) / 100.0;
    }

    /**
     * Prints to the context's stdout (JSON too with {@code --json}) and keeps the summary
     * in the context for callers running the subcommand in-process.
     *
     * @param ctx the running subcommand's context
     */
    public void print(final Context ctx) {
        ctx.setSummary(this);
        print(ctx.out(), ctx.json());
    }

    /**
     * Prints the readable form, then the JSON line if asked.
     *
     * @param out  stdout
     * @param json whether to end with the JSON object
     */
    public void print(final PrintStream out, final boolean json) {
        for (final Map.Entry<String, Object> e : fields.entrySet()) {
            final Object v = e.getValue();
            if (v instanceof Collection<?> c && !c.isEmpty() && c.iterator().next() instanceof Map) {
                out.println(e.getKey() + ":");
                for (final Object o : c) {
                    out.println("  " + Json.write(o));
                }
            } else if (v instanceof Map<?, ?> m) {
                out.println(e.getKey() + ":");
                for (final Map.Entry<?, ?> inner : m.entrySet()) {
                    out.println("  " + inner.getKey() + ": " + readable(inner.getValue()));
                }
            } else {
                out.println(e.getKey() + ": " + readable(v));
            }
        }
        if (json) {
            out.println(Json.write(fields));
        }
        out.flush();
    }

    private static String readable(final Object v) {
        return v instanceof String s ? s : Json.write(v);
    }
}
