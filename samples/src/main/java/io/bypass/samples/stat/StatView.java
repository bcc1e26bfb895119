package io.bypass.samples.stat;

import io.bypass.stat.CountersFileReader.Record;
import io.bypass.stat.CountersFileReader.Snapshot;
import io.bypass.stat.CountersPublisher;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code bypass stat} prints for one interval: the processes' counters with per-second
 * rates against the previous interval, as a readable table or one JSON object. Keeps the
 * previous interval's values; not thread-safe.
 *
 * <p>A rate is measured over the publisher's own clock, the heartbeat stored with each sample,
 * not over the time between two readings: the publisher samples once a second by default, so
 * a reading between two samples would otherwise show no change, and the next one twice the rate.
 * A process whose heartbeat has not moved since the last reading shows its last rates again,
 * until the heartbeat is older than two of the longest periods ({@link CountersPublisher#MAX_PERIOD_MS}):
 * then it has missed a sample (hung, stopped, or exiting) and its rates read zero.
 */
public final class StatView {
    /** Per counter (file#record/name): the value at the process's last heartbeat that gave rates. */
    private final Map<String, Long> previous = new HashMap<>();
    /** Per counter: the rate shown last. */
    private final Map<String, Double> previousRates = new HashMap<>();
    /** Per file: the heartbeat the values in {@link #previous} were read at. */
    private final Map<String, Long> previousHeartbeat = new HashMap<>();

    /** Creates a view with no previous interval (the first one prints no rates). */
    public StatView() {
    }

    /**
     * Builds one interval's JSON object and remembers its values for the next interval's rates.
     *
     * @param snapshots the processes read, already filtered
     * @param errors    files that could not be read, with why
     * @param nowMillis epoch ms of the reading
     * @return the object: time_ms, processes (pid, start_ms, command, file, state, stale_reason, heartbeat_age_ms,
     *         records with label, counters, rates), errors
     */
    public Map<String, Object> interval(final List<Filtered> snapshots, final List<String> errors, final long nowMillis) {
        final Map<String, Long> current = new HashMap<>();
        final Map<String, Double> currentRates = new HashMap<>();
        final Map<String, Long> currentHeartbeat = new HashMap<>();
        final List<Object> processes = new ArrayList<>();
        for (final Filtered f : snapshots) {
            final Snapshot s = f.snapshot();
            final String file = s.file().toString();
            final Long heartbeatBefore = previousHeartbeat.get(file);
            // no new sample since the last reading: keep the old base, so the next rate spans whole samples
            final boolean sameSample = heartbeatBefore != null && heartbeatBefore == s.heartbeatMillis();
            final boolean missedSample = nowMillis - s.heartbeatMillis() > 2 * CountersPublisher.MAX_PERIOD_MS;
            final double secs = heartbeatBefore == null ? 0 : (s.heartbeatMillis() - heartbeatBefore) / 1e3;
            currentHeartbeat.put(file, sameSample ? heartbeatBefore : s.heartbeatMillis());
            final Map<String, Object> p = new LinkedHashMap<>();
            p.put("pid", s.pid());
            p.put("start_ms", s.startMillis());
            p.put("command", s.command());
            p.put("file", s.file().toString());
            final String stale = s.staleReason(nowMillis);
            p.put("state", stale == null ? "alive" : "stale");
            if (stale != null) {
                p.put("stale_reason", stale);
            }
            p.put("heartbeat_age_ms", nowMillis - s.heartbeatMillis());
            final List<Object> records = new ArrayList<>();
            for (final Filtered.Part part : f.records()) {
                final Record r = part.record();
                final Map<String, Object> rec = new LinkedHashMap<>();
                rec.put("index", r.index());
                rec.put("closed", r.closed());
                rec.put("label", r.label());
                final Map<String, Object> counters = new LinkedHashMap<>();
                final Map<String, Object> rates = new LinkedHashMap<>();
                for (final String name : part.names()) {
                    final long v = r.values().get(name);
                    counters.put(name, v);
                    final String key = file + "#" + r.index() + "/" + name;
                    final Long before = previous.get(key);
                    Double rate = null;
                    if (sameSample) {
                        rate = missedSample && previousRates.containsKey(key) ? Double.valueOf(0.0) : previousRates.get(key);
                        current.put(key, before == null ? v : before);
                    } else {
                        current.put(key, v);
                        if (secs > 0 && before != null) {
                            rate = Math.round((v - before) / secs * 10) / 10.0;
                        }
                    }
                    if (rate != null) {
                        rates.put(name, rate);
                        currentRates.put(key, rate);
                    }
                }
                rec.put("counters", counters);
                rec.put("rates", rates);
                records.add(rec);
            }
            p.put("records", records);
            processes.add(p);
        }
        previous.clear();
        previous.putAll(current);
        previousRates.clear();
        previousRates.putAll(currentRates);
        previousHeartbeat.clear();
        previousHeartbeat.putAll(currentHeartbeat);
        final Map<String, Object> o = new LinkedHashMap<>();
        o.put("time_ms", nowMillis);
        o.put("processes", processes);
        o.put("errors", errors);
        return o;
    }

    /**
     * Prints an interval's object as a table: one block per process, one line per record's
     * label, then its counters with rates (zero counters left out unless {@code all}).
     *
     * @param o   what {@link #interval} returned
     * @param all whether to print zero counters and stale processes' values
     * @param out where
     */
    @SuppressWarnings("unchecked")
    public static void printTable(final Map<String, Object> o, final boolean all, final PrintStream out) {
        final List<Object> processes = (List<Object>) o.get("processes");
        out.printf("%s  %d Bypass process%s%n", java.time.Instant.ofEpochMilli((Long) o.get("time_ms")), processes.size(),
            processes.size() == 1 ? "" : "es");
        for (final Object po : processes) {
            final Map<String, Object> p = (Map<String, Object>) po;
            final boolean stale = "stale".equals(p.get("state"));
            out.printf("pid %s  %s  %s%n", p.get("pid"), stale ? "STALE (" + p.get("stale_reason") + ")"
                : "alive, heartbeat " + p.get("heartbeat_age_ms") + " ms ago", p.get("command"));
            if (stale && !all) {
                continue;
            }
            for (final Object ro : (List<Object>) p.get("records")) {
                final Map<String, Object> r = (Map<String, Object>) ro;
                final Map<String, String> label = (Map<String, String>) r.get("label");
                out.printf("  [%s] %s%s%n", r.get("index"), String.join(" ", label.entrySet().stream()
                    .map(e -> e.getKey() + "=" + e.getValue()).toList()), Boolean.TRUE.equals(r.get("closed")) ? "  (closed)" : "");
                final Map<String, Object> counters = (Map<String, Object>) r.get("counters");
                final Map<String, Object> rates = (Map<String, Object>) r.get("rates");
                for (final Map.Entry<String, Object> c : counters.entrySet()) {
                    final long v = (Long) c.getValue();
                    if (v == 0 && !all) {
                        continue;
                    }
                    final Object rate = rates.get(c.getKey());
                    out.printf(Locale.ROOT, "    %-32s %,20d%s%n", c.getKey(), v, rate == null ? "" : String.format(Locale.ROOT, " %,14.1f/s", rate));
                }
            }
        }
        for (final Object e : (List<Object>) o.get("errors")) {
            out.println("skipped: " + e);
        }
        out.println();
        out.flush();
    }

    /**
     * A process's snapshot with the records and counter names a filter kept.
     *
     * @param snapshot the process
     * @param records  the records kept, each with the names kept
     */
    public record Filtered(Snapshot snapshot, List<Part> records) {
        /**
         * One record and the names of its counters kept.
         *
         * @param record the record
         * @param names  its counters kept, in file order
         */
        public record Part(Record record, List<String> names) {
        }
    }
}
