package io.bypass.samples.cli;

import io.bypass.PortUri;
import io.bypass.threads.Affinity;
import io.bypass.threads.CpuSet;
import io.bypass.threads.ThreadPlacement;
import org.agrona.concurrent.IdleStrategy;

import java.io.PrintStream;

/**
 * What every subcommand gets: stdout and stderr, a stop flag set by Ctrl-C, and the
 * common options ({@code --uri --cpu --isolate --idle --duration --json --quiet}).
 *
 * <p>{@code --cpu N} pins the polling thread to CPU N and, unless {@code --isolate false},
 * moves every other thread of the JVM (JIT, GC, VM, progress) off CPU N with
 * {@link ThreadPlacement}; {@link #release()} puts every mask back.
 */
public final class Context {
    /** The default URI: NIO on loopback runs on any host. */
    public static final String DEFAULT_URI = "nio:lo";

    private final PrintStream out;
    private final PrintStream err;
    private volatile boolean stopped;
    private String uri = DEFAULT_URI;
    private int cpu = -1;
    private boolean isolate = true;
    private ThreadPlacement placement;
    private CpuSet pinnedFrom;
    private String idle = "spin";
    private long durationNanos;
    private boolean json;
    private boolean quiet;
    private volatile Summary summary;
    private final java.util.concurrent.CountDownLatch ready = new java.util.concurrent.CountDownLatch(1);

    /**
     * @param out stdout: the summary
     * @param err stderr: progress and diagnostics
     */
    public Context(final PrintStream out, final PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /**
     * Adds the common options to a subcommand's options.
     *
     * @param o               the options
     * @param polls           whether it has a polling loop ({@code --cpu}, {@code --idle})
     * @param defaultDuration default for {@code --duration}, null for none
     * @return {@code o}
     */
    public static Options common(final Options o, final boolean polls, final String defaultDuration) {
        o.value("--uri", "URI", "backend and interface: nio:lo, afxdp:veth0?xdp=drv, dpdk:..., efvi:eth1, auto:eth1", DEFAULT_URI);
        if (polls) {
            o.value("--cpu", "N", "pin the polling thread to CPU N and move the JVM's other threads off it", null);
            o.value("--isolate", "true|false", "with --cpu: move the JVM's other threads (JIT, GC, VM) off CPU N", "true");
            o.value("--idle", "spin|yield|backoff", "what the polling loop does when idle", "spin");
        }
        o.value("--duration", "TIME", "stop after TIME (10s, 500ms; 0 = no limit)", defaultDuration);
        o.flag("--json", "end with the summary as one JSON object on the last line");
        o.flag("--quiet", "no progress lines on stderr");
        return o;
    }

    /**
     * Reads the common options from parsed arguments.
     *
     * @param a parsed arguments
     * @throws UsageException if one is malformed
     */
    public void configure(final Args a) throws UsageException {
        final String u = a.string("--uri");
        if (u != null) {
            uri = u;
        }
        if (a.string("--cpu") != null) {
            cpu = a.intValue("--cpu", 0, CpuSet.MAX_CPUS - 1);
            if (!Affinity.isAllowed(cpu)) {
                final CpuSet online = Affinity.online();
                throw new UsageException("--cpu: CPU " + cpu + " is " + (online != null && !online.contains(cpu) ? "not online" : "not allowed to this process")
                    + " (online: " + (online == null ? "?" : online) + ", this thread may use: " + Affinity.currentThread()
                    + "; see /sys/devices/system/cpu/online, taskset, the cgroup cpuset)");
            }
        }
        if (a.string("--isolate") != null) {
            isolate = "true".equals(a.choice("--isolate", "true", "false"));
        }
        if (a.string("--idle") != null) {
            idle = a.choice("--idle", "spin", "yield", "backoff");
        }
        durationNanos = a.durationNanos("--duration");
        json = a.flag("--json");
        quiet = a.flag("--quiet");
    }

    /** @return stdout */
    public PrintStream out() {
        return out;
    }

    /** @return stderr */
    public PrintStream err() {
        return err;
    }

    /** @return the port URI */
    public String uri() {
        return uri;
    }

    /**
     * Puts a command's own default for a URI key into the URI, unless the URI already gives
     * that key or one of {@code decidedBy}: the URI the command opens, prints and reports then
     * says what it runs with, and a user's own value always wins.
     *
     * <pre>
     * ctx.defaultUriParam("rxStallMs", "10", "rxStallPps");   // nio:lo becomes nio:lo?rxStallMs=10
     * </pre>
     *
     * @param key       the URI key
     * @param value     the command's default
     * @param decidedBy keys whose presence means the user decided this themselves
     */
    public void defaultUriParam(final String key, final String value, final String... decidedBy) {
        final PortUri parsed = PortUri.parse(uri);
        if (parsed.get(key) != null) {
            return;
        }
        for (final String other : decidedBy) {
            if (parsed.get(other) != null) {
                return;
            }
        }
        uri = parsed.withParam(key, value).text();
    }

    /** @return CPU to pin the polling thread to, or -1 */
    public int cpu() {
        return cpu;
    }

    /** @return a new idle strategy as chosen by {@code --idle} */
    public IdleStrategy idleStrategy() {
        return Idle.of(idle);
    }

    /** @return the idle strategy's name */
    public String idleName() {
        return idle;
    }

    /** @return {@code --duration} in nanoseconds, 0 for no limit */
    public long durationNanos() {
        return durationNanos;
    }

    /** @return true with {@code --json} */
    public boolean json() {
        return json;
    }

    /** @return true unless {@code --quiet} */
    public boolean progress() {
        return !quiet;
    }

    /** @return a progress printer starting now */
    public Progress newProgress() {
        return new Progress(err, !quiet, System.nanoTime());
    }

    /** @return false with {@code --isolate false} */
    public boolean isolate() {
        return isolate;
    }

    /**
     * Pins the calling thread to {@code --cpu} if given and, unless {@code --isolate false},
     * moves the JVM's other threads off that CPU (not possible when it is the only CPU the
     * JVM may use: then it says so and only pins). Call from the polling thread, before
     * opening the endpoint; {@link #release()} undoes it.
     */
    public void pinCurrentThread() {
        if (cpu < 0 || pinnedFrom != null) {
            return;
        }
        final CpuSet before = Affinity.currentThread();
        if (isolate && !before.minus(CpuSet.of(cpu)).isEmpty()) {
            placement = ThreadPlacement.isolateCurrentThread(cpu);
            pinnedFrom = before;
            if (!quiet) {
                err.println("pinned polling thread to CPU " + cpu + "; moved " + placement.moved() + " other JVM threads to CPUs "
                    + before.minus(CpuSet.of(cpu)) + " (--isolate false leaves them)");
            }
            return;
        }
        Affinity.pinCurrentThread(cpu);
        pinnedFrom = before;
        if (!quiet) {
            err.println("pinned polling thread to CPU " + cpu + (isolate
                ? "; the JVM's other threads stay on it too: it is the only CPU this JVM may use"
                : "; the JVM's other threads may run on it too (--isolate false)"));
        }
    }

    /**
     * Undoes {@link #pinCurrentThread()}: every thread's mask as before. Called when the
     * subcommand returns (in-process runs leave no thread pinned).
     */
    public void release() {
        if (placement != null) {
            placement.close();
            placement = null;
        } else if (pinnedFrom != null) {
            Affinity.set(0, pinnedFrom);
        }
        pinnedFrom = null;
    }

    /**
     * Says the subcommand has opened its endpoints and joined its groups: receivers call
     * it before polling so a sender started afterwards loses nothing.
     */
    public void ready() {
        if (placement != null) {
            // Threads a backend started while opening inherited the polling CPU: move them now.
            placement.rescan();
        }
        if (!quiet) {
            err.println("ready");
        }
        ready.countDown();
    }

    /**
     * Waits for {@link #ready()}, for tests and the demo that start a receiver first.
     *
     * @param timeoutMillis how long to wait
     * @return true if ready in time
     * @throws InterruptedException if interrupted
     */
    public boolean awaitReady(final long timeoutMillis) throws InterruptedException {
        return ready.await(timeoutMillis, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /**
     * @param s the summary the subcommand printed
     */
    public void setSummary(final Summary s) {
        summary = s;
    }

    /** @return the summary the subcommand printed, or null */
    public Summary summary() {
        return summary;
    }

    /** @return true once {@link #stop()} was called (Ctrl-C) */
    public boolean isStopped() {
        return stopped;
    }

    /** Asks the running subcommand to finish and print its summary. */
    public void stop() {
        stopped = true;
    }

    /**
     * @param startNanos {@link System#nanoTime()} at start
     * @param now        {@link System#nanoTime()}
     * @return true if {@code --duration} has passed
     */
    public boolean expired(final long startNanos, final long now) {
        return durationNanos > 0 && now - startNanos >= durationNanos;
    }
}
