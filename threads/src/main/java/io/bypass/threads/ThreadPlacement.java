package io.bypass.threads;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps the polling thread alone on its CPU within this JVM, as trading firms run the JVM
 * on isolated cores: the polling thread is pinned to its CPU and every other thread of the
 * JVM (JIT compilers, GC workers, the VM thread, signal dispatcher, timers, progress
 * printers) loses that CPU from its affinity mask.
 *
 * <pre>
 * try (ThreadPlacement p = ThreadPlacement.isolateCurrentThread(3)) {
 *     endpoint = Bypass.openUdp(uri);   // threads the backend starts here are moved too
 *     p.rescan();
 *     while (running) { endpoint.poll(handler, 64); }
 * }                                     // every mask it changed is put back
 * </pre>
 *
 * <p><b>Threads started later.</b> A Linux thread starts with the mask of the thread that
 * created it. The JVM starts JIT compiler threads lazily from other compiler threads and
 * GC workers from the VM or GC threads, which are already moved, so those land off the
 * CPU. A thread started by the polling thread itself (a backend's helper opened after
 * isolating, a logger, a cleaner) would land on it: a daemon watcher, itself off the
 * reserved CPUs, re-scans {@code /proc/self/task} and moves such threads; {@link #rescan()}
 * does it at once. The watcher scans {@code rescanMillis} (1 s by default) after isolating
 * and after any scan that moved a thread, and doubles the wait after each scan that moved
 * none, up to {@link #MAX_RESCAN_BACKOFF} times {@code rescanMillis}. Once the JVM has
 * settled it wakes about twice a minute: each wake-up runs on the other CPUs, where on a
 * small host the application's peers run too (beside a sockperf client on a 2-CPU VM, a
 * scan a second took 0.4 ms of that CPU each time, and held up the client's wake-ups).
 *
 * <p><b>What it does not do.</b> It places this JVM's threads only: other processes, the
 * kernel's softirq and timer work and interrupts still run on the CPU unless the host
 * keeps them away ({@code isolcpus=}/{@code nohz_full=} on the kernel command line,
 * {@code /proc/irq/N/smp_affinity}, a cgroup cpuset for everything else). Nor does it stop
 * safepoints: a GC pause or deoptimisation still stops the polling thread wherever it runs.
 * A thread that was already pinned only to reserved CPUs when isolating (another poller)
 * is left alone and listed by {@link #conflicts()}; one started since on those CPUs only
 * inherited them from the poller and is moved.
 */
public final class ThreadPlacement implements AutoCloseable {
    /** Default interval of the watcher that moves threads started after isolating. */
    public static final long DEFAULT_RESCAN_MILLIS = 1000;
    /** The watcher's longest wait, as a multiple of its interval, reached while scans find nothing to move. */
    public static final int MAX_RESCAN_BACKOFF = 32;

    private final CpuSet reserved;
    /** Where a thread goes that may run only on reserved CPUs and was started since isolating. */
    private final CpuSet elsewhere;
    private final long[] kept;
    private final CpuSet[] keptOriginal;
    private final Map<Long, CpuSet> original = new LinkedHashMap<>();
    private final List<Long> conflicts = new ArrayList<>();
    private long[] initial;
    /** The threads the last scan saw (sorted): each is examined once, in the first scan that sees it. */
    private long[] examined = new long[0];
    private final Thread watcher;
    private volatile boolean closed;
    private int moved;

    private ThreadPlacement(final CpuSet reserved, final long[] kept, final CpuSet[] keptOriginal, final long rescanMillis) {
        this.reserved = reserved;
        this.elsewhere = (keptOriginal.length > 0 && keptOriginal[0] != null ? keptOriginal[0] : Affinity.currentThread()).minus(reserved);
        this.kept = kept;
        this.keptOriginal = keptOriginal;
        if (rescanMillis > 0) {
            watcher = new Thread(() -> watch(rescanMillis), "bypass-thread-placement");
            watcher.setDaemon(true);
        } else {
            watcher = null;
        }
    }

    /**
     * Pins the calling thread to {@code cpu} and moves every other thread of this JVM off
     * it, with the watcher at {@link #DEFAULT_RESCAN_MILLIS}. Call it from the polling thread.
     *
     * @param cpu the polling thread's CPU
     * @return the placement; close it to put every mask back
     * @throws IllegalStateException if {@code cpu} is not allowed here, or it is the only CPU
     *                               this thread may use (nowhere to move the others to)
     */
    public static ThreadPlacement isolateCurrentThread(final int cpu) {
        return isolateCurrentThread(cpu, DEFAULT_RESCAN_MILLIS);
    }

    /**
     * As {@link #isolateCurrentThread(int)}, with a chosen watcher interval.
     *
     * @param cpu          the polling thread's CPU
     * @param rescanMillis the watcher's interval, before it backs off (see above); 0 for no watcher
     * @return the placement; close it to put every mask back
     */
    public static ThreadPlacement isolateCurrentThread(final int cpu, final long rescanMillis) {
        final long self = Affinity.currentThreadId();
        final CpuSet mine = Affinity.currentThread();
        if (!mine.contains(cpu)) {
            throw new IllegalStateException("cannot isolate CPU " + cpu + ": this thread may not run on it (it may use CPUs "
                + mine + "); " + Affinity.whereAllowed());
        }
        if (mine.minus(CpuSet.of(cpu)).isEmpty()) {
            throw new IllegalStateException("cannot isolate CPU " + cpu + ": it is the only CPU this thread may use, so there is "
                + "nowhere to move the JVM's other threads to; give the JVM two CPUs or more (" + Affinity.whereAllowed() + ")");
        }
        Affinity.pinCurrentThread(cpu);
        return start(CpuSet.of(cpu), new long[] {self}, new CpuSet[] {mine}, rescanMillis);
    }

    /**
     * Moves every thread of this JVM except {@code keep} off the {@code reserved} CPUs: for
     * several polling threads (each pinned by itself beforehand), or for a measurement.
     *
     * @param reserved     CPUs to keep for the {@code keep} threads
     * @param keep         thread ids ({@link Affinity#currentThreadId()}) left as they are
     * @param rescanMillis the watcher's interval, before it backs off (see above); 0 for no watcher
     * @return the placement; close it to put every mask it changed back (the kept threads'
     *         masks are not restored: they were not changed)
     */
    public static ThreadPlacement isolate(final CpuSet reserved, final long[] keep, final long rescanMillis) {
        if (reserved.isEmpty()) {
            throw new IllegalArgumentException("no CPU to reserve");
        }
        return start(reserved, keep.clone(), new CpuSet[keep.length], rescanMillis);
    }

    private static ThreadPlacement start(final CpuSet reserved, final long[] keep, final CpuSet[] keepOriginal, final long rescanMillis) {
        final ThreadPlacement p = new ThreadPlacement(reserved, keep, keepOriginal, rescanMillis);
        try {
            p.rescan();
        } catch (final RuntimeException e) {
            p.close();
            throw e;
        }
        if (p.watcher != null) {
            p.watcher.start();
        }
        return p;
    }

    /**
     * Moves, now, every thread of this JVM that may run on a reserved CPU (except the kept
     * ones) off it: its mask minus the reserved CPUs. Safe from any thread. A thread is
     * examined once, by the first scan that sees it: the JVM's threads do not change their own
     * masks, and a scan that read every thread's mask each second ran for milliseconds on the
     * other CPUs (measured beside a sockperf client there: 5-9 ms in 4 s, in the interpreter).
     *
     * @return how many threads it moved in this scan
     * @throws IllegalStateException if the kernel refuses a mask (a CPU went offline)
     */
    public synchronized int rescan() {
        if (closed) {
            return 0;
        }
        int n = 0;
        final long[] tids = Affinity.threadIds();
        if (initial == null) {
            initial = tids;
        }
        final long[] seen = examined;
        examined = tids;
        for (final long tid : tids) {
            if (isKept(tid) || Arrays.binarySearch(seen, tid) >= 0) {
                continue;
            }
            final CpuSet now = Affinity.get(tid);
            if (now == null || !now.intersects(reserved)) {
                continue;
            }
            CpuSet rest = now.minus(reserved);
            if (rest.isEmpty() && initial != tids && Arrays.binarySearch(initial, tid) < 0) {
                // Started since isolating, by a thread on the reserved CPUs (the poller): it
                // inherited that CPU; it goes where the JVM's other threads are.
                rest = elsewhere;
            }
            if (rest.isEmpty()) {
                if (!conflicts.contains(tid)) {
                    conflicts.add(tid);
                }
                continue;
            }
            if (Affinity.set(tid, rest)) {
                original.putIfAbsent(tid, now);
                n++;
            }
        }
        moved += n;
        return n;
    }

    private boolean isKept(final long tid) {
        for (final long k : kept) {
            if (k == tid) {
                return true;
            }
        }
        return false;
    }

    /**
     * The watcher's next wait: {@code rescanMillis} after a scan that moved a thread (another
     * may follow), else twice the last wait, up to {@link #MAX_RESCAN_BACKOFF} times {@code rescanMillis}.
     *
     * @param lastMillis   the wait before the scan
     * @param rescanMillis the watcher's interval
     * @param moved        threads the scan moved
     * @return the wait before the next scan
     */
    static long nextRescanMillis(final long lastMillis, final long rescanMillis, final int moved) {
        return moved > 0 ? rescanMillis : Math.min(lastMillis * 2, rescanMillis * MAX_RESCAN_BACKOFF);
    }

    private void watch(final long rescanMillis) {
        long wait = 0;
        while (!closed) {
            try {
                final int moved = rescan();
                wait = wait == 0 ? rescanMillis : nextRescanMillis(wait, rescanMillis, moved);
                Thread.sleep(wait);
            } catch (final InterruptedException e) {
                return;
            } catch (final RuntimeException e) {
                // A CPU went offline: keep the threads where they are and stop watching.
                System.getLogger("io.bypass.threads").log(System.Logger.Level.WARNING, "thread placement watcher stopped: " + e.getMessage());
                return;
            }
        }
    }

    /** @return the reserved CPUs */
    public CpuSet reserved() {
        return reserved;
    }

    /** @return how many thread moves were made so far (initial scan, watcher and {@link #rescan()}) */
    public synchronized int moved() {
        return moved;
    }

    /** @return ids of threads pinned only to reserved CPUs, left where they were */
    public synchronized long[] conflicts() {
        return conflicts.stream().mapToLong(Long::longValue).toArray();
    }

    /** @return ids of the threads kept on the reserved CPUs */
    public long[] kept() {
        return kept.clone();
    }

    /**
     * Stops the watcher and puts back the mask of every thread this placement changed that
     * still exists, and the polling thread's mask from before
     * {@link #isolateCurrentThread(int)}. Idempotent; callable from any thread.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (watcher != null && watcher.isAlive()) {
            watcher.interrupt();
            try {
                watcher.join(5000);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            for (final Map.Entry<Long, CpuSet> e : original.entrySet()) {
                restore(e.getKey(), e.getValue());
            }
            for (int i = 0; i < kept.length; i++) {
                if (keptOriginal[i] != null) {
                    restore(kept[i], keptOriginal[i]);
                }
            }
            restoreThreadsStartedMeanwhile();
        }
    }

    /**
     * Threads started while isolated by moved threads (lazy JIT compiler and GC threads)
     * inherited the reduced mask without ever being moved: give them the mask their
     * creators had before.
     */
    private void restoreThreadsStartedMeanwhile() {
        if (initial == null || original.isEmpty()) {
            return;
        }
        final CpuSet base = original.values().iterator().next();
        final CpuSet reduced = base.minus(reserved);
        for (final long tid : Affinity.threadIds()) {
            if (Arrays.binarySearch(initial, tid) >= 0 || original.containsKey(tid) || isKept(tid)) {
                continue;
            }
            final CpuSet now = Affinity.get(tid);
            if (reduced.equals(now)) {
                restore(tid, base);
            }
        }
    }

    private static void restore(final long tid, final CpuSet mask) {
        try {
            Affinity.set(tid, mask);
        } catch (final RuntimeException e) {
            // A CPU went offline meanwhile: leave this thread where it is, restore the rest.
            System.getLogger("io.bypass.threads").log(System.Logger.Level.WARNING, "cannot restore thread " + tid + ": " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "ThreadPlacement[reserved " + reserved + " for threads " + Arrays.toString(kept) + ", moves " + moved() + "]";
    }
}
