package io.bypass.samples.jitter;

import io.bypass.samples.cli.Args;
import io.bypass.samples.cli.Command;
import io.bypass.samples.cli.Context;
import io.bypass.samples.cli.Options;
import io.bypass.samples.cli.Summary;
import io.bypass.samples.cli.UsageException;
import io.bypass.threads.Affinity;
import io.bypass.threads.CpuSet;
import io.bypass.threads.GapHistogram;
import io.bypass.threads.HiccupRecorder;
import io.bypass.threads.ThreadPlacement;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * {@code bypass jitter}: how long this host and this JVM stop a thread that never stops by
 * itself, in the spirit of sysjitter and jHiccup. On each chosen CPU a thread pinned there
 * spins reading {@link System#nanoTime()} for {@code --duration}; every gap between two
 * reads at or over {@code --threshold} is an interruption (the kernel's timer tick, an
 * interrupt, another thread, a safepoint). It reports them per CPU: count, rate,
 * percentiles, the longest, and the share of time lost.
 *
 * <pre>
 * bypass jitter --cpus 1 --duration 20s --compare --json
 * </pre>
 *
 * With {@code --isolate true} (the default) the JVM's other threads are moved off the
 * measured CPUs first, as {@code --cpu} does for the polling commands; {@code --compare}
 * measures without, then with, and {@code --gc-load} allocates on another thread meanwhile
 * so the GC's safepoints, which no placement removes, show too.
 */
public final class JitterCommand implements Command {
    private static final int GC_LOAD_CHUNK = 64 * 1024;

    /** Creates the command. */
    public JitterCommand() {
    }

    @Override
    public String name() {
        return "jitter";
    }

    @Override
    public Options options() {
        return Context.common(new Options("jitter", "how long this host and JVM stop a spinning thread, per CPU (sysjitter-style)"), false, "10s")
            .value("--cpus", "LIST", "CPUs to measure, one spinning thread each (0-3,7); default: the last CPU this JVM may use", null)
            .value("--threshold", "TIME", "gaps at or over this are interruptions", "1us")
            .value("--isolate", "true|false", "move the JVM's other threads off the measured CPUs first", "true")
            .flag("--compare", "measure without isolation, then with (each for --duration)")
            .flag("--gc-load", "allocate garbage on another thread meanwhile (GC safepoints stop every Java thread)");
    }

    @Override
    public int run(final Args args, final Context ctx) throws UsageException {
        final CpuSet mine = Affinity.currentThread();
        final CpuSet cpus;
        try {
            cpus = args.string("--cpus") == null ? CpuSet.of(mine.last()) : CpuSet.parse(args.string("--cpus"));
        } catch (final IllegalArgumentException e) {
            throw new UsageException("--cpus: " + e.getMessage());
        }
        if (cpus.isEmpty()) {
            throw new UsageException("--cpus: no CPU given");
        }
        if (!cpus.minus(mine).isEmpty()) {
            throw new UsageException("--cpus: CPUs " + cpus.minus(mine) + " are not allowed to this JVM (it may use " + mine + ")");
        }
        final long threshold = args.durationNanos("--threshold");
        if (threshold <= 0) {
            throw new UsageException("--threshold must be positive");
        }
        final long duration = ctx.durationNanos();
        if (duration <= 0) {
            throw new UsageException("--duration must be positive");
        }
        final boolean compare = args.flag("--compare");
        final boolean isolate = ctx.isolate() || compare;
        if (isolate && mine.minus(cpus).isEmpty()) {
            throw new UsageException("cannot isolate CPUs " + cpus + ": they are all the CPUs this JVM may use (" + mine
                + "), so there is nowhere to move its other threads; measure fewer CPUs or --isolate false");
        }
        final GcLoad load = args.flag("--gc-load") ? new GcLoad() : null;
        final List<Map<String, Object>> runs = new ArrayList<>();
        Map<String, Object> last = null;
        int moved = 0;
        try {
            if (load != null) {
                load.start();
            }
            final boolean[] modes = compare ? new boolean[] {false, true} : new boolean[] {isolate};
            for (final boolean iso : modes) {
                if (ctx.progress()) {
                    ctx.err().printf("jitter: spinning on CPUs %s for %.1f s, %s%n", cpus, duration / 1e9,
                        iso ? "the JVM's other threads moved off them" : "the JVM's other threads free to run there");
                }
                final Measurement m = measure(cpus, duration, threshold, iso, ctx);
                moved = Math.max(moved, m.moved);
                for (int i = 0; i < m.cpus.length; i++) {
                    final Map<String, Object> r = describe(m.cpus[i], iso, m.recorders[i]);
                    runs.add(r);
                    if (ctx.progress()) {
                        ctx.err().println("  " + r);
                    }
                }
                last = total(m);
                if (ctx.isStopped()) {
                    break;
                }
            }
        } finally {
            if (load != null) {
                load.stop();
            }
        }
        final Summary s = new Summary()
            .put("command", "jitter")
            .put("cpus", cpus.toString())
            .put("allowed_cpus", mine.toString())
            .put("isolated_cpus_kernel", sysfs("/sys/devices/system/cpu/isolated"))
            .put("nohz_full", sysfs("/sys/devices/system/cpu/nohz_full"))
            .put("duration_s", duration / 1e9)
            .put("threshold_ns", threshold)
            .put("isolate", isolate)
            .put("compare", compare)
            .put("gc_load", load != null)
            .put("gc_load_mb", load == null ? 0 : load.bytes / (1 << 20))
            .put("moved_threads", moved);
        if (last != null) {
            for (final Map.Entry<String, Object> e : last.entrySet()) {
                s.put(e.getKey(), e.getValue());
            }
        }
        s.put("runs", runs).print(ctx);
        return runs.isEmpty() ? 1 : 0;
    }

    /** The spinning threads of one measurement and what they recorded. */
    private record Measurement(int[] cpus, HiccupRecorder[] recorders, int moved) {
    }

    private static Measurement measure(final CpuSet set, final long duration, final long threshold, final boolean isolate,
                                       final Context ctx) throws UsageException {
        final int[] cpus = set.toArray();
        final HiccupRecorder[] rec = new HiccupRecorder[cpus.length];
        final long[] tids = new long[cpus.length];
        final Thread[] threads = new Thread[cpus.length];
        final CountDownLatch pinned = new CountDownLatch(cpus.length);
        final CountDownLatch go = new CountDownLatch(1);
        final RuntimeException[] failed = new RuntimeException[cpus.length];
        for (int i = 0; i < cpus.length; i++) {
            final int k = i;
            rec[k] = new HiccupRecorder(threshold);
            threads[k] = new Thread(() -> {
                try {
                    Affinity.pinCurrentThread(cpus[k]);
                    tids[k] = Affinity.currentThreadId();
                } catch (final RuntimeException e) {
                    failed[k] = e;
                    return;
                } finally {
                    pinned.countDown();
                }
                try {
                    go.await();
                } catch (final InterruptedException e) {
                    return;
                }
                spin(rec[k], duration, ctx);
            }, "jitter-cpu" + cpus[k]);
            threads[k].start();
        }
        ThreadPlacement placement = null;
        try {
            await(pinned);
            for (final RuntimeException e : failed) {
                if (e != null) {
                    throw e;
                }
            }
            if (isolate) {
                // 100 ms: threads the JVM starts meanwhile (compiler, GC) leave the CPUs quickly.
                placement = ThreadPlacement.isolate(set, tids, 100);
            }
            go.countDown();
            for (final Thread t : threads) {
                join(t);
            }
            return new Measurement(cpus, rec, placement == null ? 0 : placement.moved());
        } finally {
            go.countDown();
            if (placement != null) {
                placement.close();
            }
        }
    }

    /** The measuring loop: nothing but the clock and the recorder. */
    private static void spin(final HiccupRecorder rec, final long duration, final Context ctx) {
        final long start = System.nanoTime();
        final long end = start + duration;
        rec.onPoll(start);
        long now;
        do {
            now = System.nanoTime();
            rec.onPoll(now);
        } while (now < end && !ctx.isStopped());
    }

    private static Map<String, Object> describe(final int cpu, final boolean isolated, final HiccupRecorder r) {
        final Map<String, Object> m = new LinkedHashMap<>();
        final GapHistogram st = r.stalls();
        final double secs = r.elapsedNanos() / 1e9;
        m.put("cpu", cpu);
        m.put("isolated", isolated);
        m.put("elapsed_s", round(secs, 3));
        m.put("loops", r.gapCount());
        m.put("loop_p50_ns", r.gapAtPercentile(50));
        m.put("interruptions", r.stallCount());
        m.put("interruptions_per_s", round(r.stallCount() / Math.max(secs, 1e-9), 1));
        m.put("int_p50_us", us(st.valueAtPercentile(50)));
        m.put("int_p99_us", us(st.valueAtPercentile(99)));
        m.put("int_p99_9_us", us(st.valueAtPercentile(99.9)));
        m.put("int_max_us", us(r.maxGapNanos()));
        m.put("lost_ms", round(r.stallNanos() / 1e6, 3));
        m.put("lost_pct", round(100.0 * r.stallFraction(), 4));
        final List<Double> longest = new ArrayList<>();
        for (int i = 0; i < r.longestCount(); i++) {
            longest.add(us(r.longestGapNanos(i)));
        }
        m.put("longest_us", longest);
        return m;
    }

    /** Figures over every measured CPU of one measurement: the worst CPU's for the maxima. */
    private static Map<String, Object> total(final Measurement m) {
        final GapHistogram all = new GapHistogram();
        long interruptions = 0;
        double worstLost = 0;
        long max = 0;
        for (final HiccupRecorder r : m.recorders) {
            all.add(r.stalls());
            interruptions += r.stallCount();
            worstLost = Math.max(worstLost, 100.0 * r.stallFraction());
            max = Math.max(max, r.maxGapNanos());
        }
        final Map<String, Object> t = new LinkedHashMap<>();
        t.put("interruptions", interruptions);
        t.put("int_p99_us", us(all.valueAtPercentile(99)));
        t.put("int_p99_9_us", us(all.valueAtPercentile(99.9)));
        t.put("max_gap_us", us(max));
        t.put("lost_pct", round(worstLost, 4));
        return t;
    }

    private static double us(final long nanos) {
        return Math.round(nanos / 10.0) / 100.0;
    }

    private static double round(final double v, final int digits) {
        final double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    private static String sysfs(final String file) {
        try {
            final String v = Files.readString(Path.of(file)).strip();
            return v.isEmpty() ? "none" : v;
        } catch (final IOException e) {
            return "unknown";
        }
    }

    private static void await(final CountDownLatch latch) throws UsageException {
        try {
            latch.await();
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    private static void join(final Thread t) {
        try {
            t.join();
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    /**
     * Short-lived garbage at about 256 MB/s from a thread of its own (off the measured CPUs
     * when isolating), so young collections, and their safepoints, happen during the run.
     */
    private static final class GcLoad {
        private final Thread thread = new Thread(this::run, "jitter-gc-load");
        private volatile boolean stop;
        private volatile Object sink;
        private long bytes;

        void start() {
            thread.setDaemon(true);
            thread.start();
        }

        private void run() {
            while (!stop) {
                for (int i = 0; i < 4; i++) {
                    sink = new byte[GC_LOAD_CHUNK];
                    bytes += GC_LOAD_CHUNK;
                }
                try {
                    Thread.sleep(1);
                } catch (final InterruptedException e) {
                    return;
                }
            }
        }

        void stop() {
            stop = true;
            join(thread);
        }
    }
}
