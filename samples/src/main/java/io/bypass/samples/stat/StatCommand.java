package io.bypass.samples.stat;

import io.bypass.samples.cli.Args;
import io.bypass.samples.cli.Command;
import io.bypass.samples.cli.Context;
import io.bypass.samples.cli.Options;
import io.bypass.stat.CountersDescriptor;
import io.bypass.stat.CountersFileReader;
import io.bypass.stat.CountersFileReader.Record;
import io.bypass.stat.CountersFileReader.Snapshot;
import io.bypass.testkit.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code bypass stat}: lists the running Bypass processes and prints their counters with
 * rates once a second, as AeronStat does for Aeron. Reads the counters files each process
 * publishes under {@link CountersDescriptor#directory()}, mapped read-only.
 *
 * <pre>
 * bypass stat                          # every process, non-zero counters, once a second
 * bypass stat --backend afxdp --name drop_
 * bypass stat --json --count 5         # one JSON object per interval, five intervals
 * bypass stat --prometheus 9464        # also serve http://127.0.0.1:9464/metrics
 * bypass stat --clean                  # delete the files of processes that have exited
 * </pre>
 */
public final class StatCommand implements Command {
    /** Creates the command. */
    public StatCommand() {
    }

    @Override
    public String name() {
        return "stat";
    }

    @Override
    public Options options() {
        return new Options("stat", "print the counters of running Bypass processes, with rates (as AeronStat)")
            .value("--dir", "DIR", "where processes publish their counters files (-Dbypass.counters.dir, $BYPASS_COUNTERS_DIR)",
                CountersDescriptor.directory().toString())
            .value("--interval", "TIME", "time between prints", "1s")
            .value("--count", "N", "stop after N prints (0 = until Ctrl-C or --duration)", "0")
            .value("--duration", "TIME", "stop after TIME (0 = no limit)", "0")
            .value("--process", "TEXT", "only processes whose pid is TEXT or whose command line contains it", null)
            .value("--backend", "NAME", "only records of this backend (afxdp, dpdk, efvi, nio)", null)
            .value("--name", "TEXT", "only counters whose name contains TEXT, and records whose label contains it", null)
            .flag("--all", "also zero counters, closed ports and endpoints, and stale processes' values")
            .flag("--json", "print one JSON object per interval instead of the table")
            .flag("--quiet", "print nothing each interval (with --prometheus)")
            .value("--prometheus", "PORT", "serve the counters at http://BIND:PORT/metrics in Prometheus text format", null)
            .value("--bind", "ADDR", "address --prometheus listens on", "127.0.0.1")
            .flag("--clean", "delete the counters files of processes that have exited, then exit");
    }

    @Override
    public int run(final Args args, final Context ctx) throws Exception {
        final Path dir = Path.of(args.string("--dir"));
        final long intervalNanos = Math.max(10_000_000L, args.durationNanos("--interval"));
        final long count = args.longValue("--count", 0, Long.MAX_VALUE);
        final Filter filter = new Filter(args.string("--process"), args.string("--backend"), args.string("--name"), args.flag("--all"));
        if (args.flag("--clean")) {
            return clean(dir, ctx);
        }
        PrometheusEndpoint prometheus = null;
        try {
            if (args.string("--prometheus") != null) {
                final int port = args.intValue("--prometheus", 0, 65535);
                prometheus = new PrometheusEndpoint(args.string("--bind"), port, () -> {
                    final List<String> errors = new ArrayList<>();
                    return filter.apply(readAll(dir, errors));
                });
                // The line tests and scripts wait for: the port, bound (also when 0 asked for any).
                ctx.err().println("serving http://" + args.string("--bind") + ":" + prometheus.port() + "/metrics");
            }
            ctx.ready();
            final StatView view = new StatView();
            final long start = System.nanoTime();
            long next = start;
            for (long i = 0; count == 0 || i < count; i++) {
                final List<String> errors = new ArrayList<>();
                final List<Snapshot> all = readAll(dir, errors);
                final var o = view.interval(filter.apply(all), errors, System.currentTimeMillis());
                if (ctx.json()) {
                    ctx.out().println(Json.write(o));
                    ctx.out().flush();
                } else if (!args.flag("--quiet")) {
                    StatView.printTable(o, filter.all, ctx.out());
                }
                if (count != 0 && i + 1 == count) {
                    break;
                }
                next += intervalNanos;
                while (!ctx.isStopped() && System.nanoTime() < next && !ctx.expired(start, System.nanoTime())) {
                    LockSupport.parkNanos(Math.min(50_000_000L, next - System.nanoTime()));
                }
                if (ctx.isStopped() || ctx.expired(start, System.nanoTime())) {
                    break;
                }
            }
            return 0;
        } finally {
            if (prometheus != null) {
                prometheus.close();
            }
        }
    }

    private static int clean(final Path dir, final Context ctx) throws IOException {
        final List<String> errors = new ArrayList<>();
        final long now = System.currentTimeMillis();
        int removed = 0;
        int alive = 0;
        for (final Snapshot s : CountersFileReader.readAll(dir, errors::add)) {
            final String why = s.staleReason(now);
            if (why == null) {
                alive++;
                continue;
            }
            // A stale file stays stale: a new process on the same pid has another start time, so another file name.
            if (Files.deleteIfExists(s.file())) {
                removed++;
                ctx.out().println("removed " + s.file() + ": " + why);
            }
        }
        for (final String e : errors) {
            ctx.err().println("skipped: " + e);
        }
        ctx.out().println(removed + " stale file" + (removed == 1 ? "" : "s") + " removed, " + alive + " live process"
            + (alive == 1 ? "" : "es") + " left alone");
        return 0;
    }

    private static List<Snapshot> readAll(final Path dir, final List<String> errors) {
        try {
            return CountersFileReader.readAll(dir, errors::add);
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    /** What {@code --process}, {@code --backend}, {@code --name} and {@code --all} keep. */
    static final class Filter {
        private final String process;
        private final String backend;
        private final String name;
        private final boolean all;

        Filter(final String process, final String backend, final String name, final boolean all) {
            this.process = process;
            this.backend = backend;
            this.name = name;
            this.all = all;
        }

        List<StatView.Filtered> apply(final List<Snapshot> snapshots) {
            final List<StatView.Filtered> out = new ArrayList<>();
            for (final Snapshot s : snapshots) {
                if (process != null && !process.equals(Long.toString(s.pid())) && !s.command().contains(process)) {
                    continue;
                }
                final List<StatView.Filtered.Part> parts = new ArrayList<>();
                for (final Record r : s.records()) {
                    if (r.closed() && !all) {
                        continue;
                    }
                    if (backend != null && !backend.equals(r.label().get("backend"))) {
                        continue;
                    }
                    final boolean labelMatches = name != null && r.label().values().stream().anyMatch(v -> v.contains(name));
                    final List<String> names = new ArrayList<>();
                    for (final String n : r.values().keySet()) {
                        if (name == null || labelMatches || n.contains(name)) {
                            names.add(n);
                        }
                    }
                    if (!names.isEmpty()) {
                        parts.add(new StatView.Filtered.Part(r, names));
                    }
                }
                out.add(new StatView.Filtered(s, parts));
            }
            return out;
        }
    }
}
