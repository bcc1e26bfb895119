package io.bypass.threads;

import io.bypass.testing.Requirements;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Isolation read back from the kernel: {@code Cpus_allowed_list} in
 * {@code /proc/self/task/TID/status} of every thread of this JVM.
 */
class ThreadPlacementTest {
    static CpuSet allowed(final long tid) {
        try {
            for (final String line : Files.readAllLines(Path.of("/proc/self/task/" + tid + "/status"))) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    return CpuSet.parse(line.substring(18));
                }
            }
        } catch (final java.io.IOException e) {
            return null; // the thread ended
        }
        throw new AssertionError("no Cpus_allowed_list for " + tid);
    }

    private static Map<Long, CpuSet> snapshot() {
        final Map<Long, CpuSet> m = new HashMap<>();
        for (final long tid : Affinity.threadIds()) {
            final CpuSet s = allowed(tid);
            if (s != null) {
                m.put(tid, s);
            }
        }
        return m;
    }

    @Test
    void pollingThreadAloneOnItsCpuOthersMovedLateThreadsMovedAndAllRestored() throws Exception {
        final CpuSet mine = Affinity.currentThread();
        Requirements.require(mine.size() >= 2, "isolating a CPU needs two CPUs or more; this JVM may use " + mine);
        final int cpu = mine.last();
        final Map<Long, CpuSet> before = snapshot();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final AtomicLong pollerTid = new AtomicLong();
        final AtomicLong lateTid = new AtomicLong();
        final CountDownLatch isolated = new CountDownLatch(1);
        final CountDownLatch checked = new CountDownLatch(1);
        final CountDownLatch lateChecked = new CountDownLatch(1);
        final Thread poller = new Thread(() -> {
            try (ThreadPlacement p = ThreadPlacement.isolateCurrentThread(cpu, 0)) {
                pollerTid.set(Affinity.currentThreadId());
                assertTrue(p.moved() > 3, "moved " + p.moved() + " threads");
                isolated.countDown();
                checked.await();
                // A thread this (pinned) thread starts inherits its CPU until a rescan moves it.
                final CountDownLatch stop = new CountDownLatch(1);
                final CountDownLatch repin = new CountDownLatch(1);
                final CountDownLatch repinned = new CountDownLatch(1);
                final Thread late = new Thread(() -> {
                    lateTid.set(Affinity.currentThreadId());
                    try {
                        repin.await();
                        Affinity.pinCurrentThread(cpu); // as an application pins a second poller of its own
                        repinned.countDown();
                        stop.await();
                    } catch (final InterruptedException ignored) {
                        // end
                    }
                }, "late");
                late.start();
                while (lateTid.get() == 0) {
                    Thread.onSpinWait();
                }
                assertEquals(CpuSet.of(cpu), allowed(lateTid.get()), "inherited from its creator");
                assertTrue(p.rescan() >= 1);
                assertEquals(mine.minus(CpuSet.of(cpu)), allowed(lateTid.get()), "moved by the rescan");
                repin.countDown();
                repinned.await();
                assertEquals(0, p.rescan(), "each thread is examined once: one that pinned itself since is left where it chose");
                assertEquals(CpuSet.of(cpu), allowed(lateTid.get()));
                stop.countDown();
                late.join();
            } catch (final Throwable t) {
                failure.set(t);
                isolated.countDown();
            } finally {
                lateChecked.countDown();
            }
            // Closed: this thread has its mask from before again.
            if (failure.get() == null && !mine.equals(Affinity.currentThread())) {
                failure.set(new AssertionError("poller not restored: " + Affinity.currentThread()));
            }
        }, "poller");
        poller.start();
        isolated.await();
        try {
            if (failure.get() == null) {
                assertEquals(CpuSet.of(cpu), allowed(pollerTid.get()), "the polling thread runs on its CPU only");
                int others = 0;
                for (final long tid : Affinity.threadIds()) {
                    final CpuSet s = allowed(tid);
                    if (tid != pollerTid.get() && s != null) {
                        others++;
                        assertFalse(s.contains(cpu), "thread " + tid + " " + name(tid) + " still may run on CPU " + cpu + ": " + s);
                    }
                }
                assertTrue(others > 5, "JIT, GC, VM and test threads: " + others);
            }
        } finally {
            checked.countDown();
            lateChecked.await();
            poller.join();
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        final Map<Long, CpuSet> after = snapshot();
        for (final Map.Entry<Long, CpuSet> e : before.entrySet()) {
            if (after.containsKey(e.getKey())) {
                assertEquals(e.getValue(), after.get(e.getKey()), "thread " + e.getKey() + " " + name(e.getKey()) + " restored");
            }
        }
    }

    @Test
    void isolateAThreadSetAndWatcherMovesLateThreads() throws Exception {
        final CpuSet mine = Affinity.currentThread();
        Requirements.require(mine.size() >= 2, "needs two CPUs or more; this JVM may use " + mine);
        final int cpu = mine.last();
        // Kept thread: this one, not pinned; a thread it starts keeps the reserved CPU until the watcher runs.
        try (ThreadPlacement p = ThreadPlacement.isolate(CpuSet.of(cpu), new long[] {Affinity.currentThreadId()}, 50)) {
            assertEquals(CpuSet.of(cpu), p.reserved());
            assertTrue(Affinity.currentThread().contains(cpu), "kept thread untouched");
            startLateThreadAndAwaitItsMove(cpu, "the watcher did not move the late thread");
        }
    }

    /** Starts a thread from this (kept) one, which inherits the reserved CPU, and waits up to 5 s for the watcher to move it. */
    private static void startLateThreadAndAwaitItsMove(final int cpu, final String failure) throws InterruptedException {
        final AtomicLong lateTid = new AtomicLong();
        final CountDownLatch stop = new CountDownLatch(1);
        final Thread late = new Thread(() -> {
            lateTid.set(Affinity.currentThreadId());
            try {
                stop.await();
            } catch (final InterruptedException ignored) {
                // end
            }
        });
        late.start();
        try {
            final long deadline = System.nanoTime() + 5_000_000_000L;
            while (lateTid.get() == 0 || allowed(lateTid.get()).contains(cpu)) {
                assertTrue(System.nanoTime() < deadline, failure);
                Thread.sleep(10);
            }
        } finally {
            stop.countDown();
            late.join();
        }
    }

    @Test
    void watcherBacksOffWhileNothingMovesAndComesBackAfterAMove() {
        long wait = ThreadPlacement.DEFAULT_RESCAN_MILLIS;
        final List<Long> waits = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            wait = ThreadPlacement.nextRescanMillis(wait, ThreadPlacement.DEFAULT_RESCAN_MILLIS, 0);
            waits.add(wait);
        }
        assertEquals(List.of(2000L, 4000L, 8000L, 16000L, 32000L, 32000L, 32000L, 32000L), waits);
        assertEquals(ThreadPlacement.DEFAULT_RESCAN_MILLIS, ThreadPlacement.nextRescanMillis(32000, ThreadPlacement.DEFAULT_RESCAN_MILLIS, 1),
            "a scan that moved a thread brings the watcher back to its interval");
    }

    @Test
    void aBackedOffWatcherStillMovesALateThread() throws Exception {
        final CpuSet mine = Affinity.currentThread();
        Requirements.require(mine.size() >= 2, "needs two CPUs or more; this JVM may use " + mine);
        final int cpu = mine.last();
        try (ThreadPlacement p = ThreadPlacement.isolate(CpuSet.of(cpu), new long[] {Affinity.currentThreadId()}, 10)) {
            // by now the watcher has scanned several times without moving anything: it waits up to 320 ms
            Thread.sleep(400);
            final int movedBefore = p.moved();
            startLateThreadAndAwaitItsMove(cpu, "the backed-off watcher did not move the late thread");
            assertTrue(p.moved() > movedBefore, "counted as moved");
        }
    }

    @Test
    void refusalsNameTheCpuAndTheCause() {
        final CpuSet mine = Affinity.currentThread();
        final int missing = CpuSet.MAX_CPUS - 1;
        final IllegalStateException e = assertThrows(IllegalStateException.class, () -> ThreadPlacement.isolateCurrentThread(missing));
        assertTrue(e.getMessage().contains("CPU " + missing) && e.getMessage().contains("online"), e.getMessage());
        final IllegalStateException set = assertThrows(IllegalStateException.class, () -> Affinity.set(0, CpuSet.of(missing)));
        assertTrue(set.getMessage().contains("sched_setaffinity") && set.getMessage().contains("errno 22"), set.getMessage());
        assertEquals(mine, Affinity.currentThread(), "a refused call changes nothing");
        // the only CPU: nowhere to move the rest to
        final AtomicReference<Throwable> t = new AtomicReference<>();
        final Thread one = new Thread(() -> {
            Affinity.pinCurrentThread(mine.last());
            try {
                ThreadPlacement.isolateCurrentThread(mine.last()).close();
            } catch (final Throwable x) {
                t.set(x);
            }
        });
        one.start();
        assertTimeoutJoin(one);
        assertNotNull(t.get());
        assertTrue(t.get().getMessage().contains("only CPU"), t.get().getMessage());
        assertFalse(Affinity.set(Integer.MAX_VALUE, mine), "no such thread: false, not an exception");
        assertEquals(null, Affinity.get(Integer.MAX_VALUE));
    }

    @Test
    void cpuListsParseAndPrintAsTheKernelWritesThem() {
        assertEquals("0-3,7,9-10", CpuSet.parse("0-3,7,9-10").toString());
        assertEquals(CpuSet.of(1, 2, 3), CpuSet.parse(" 1-3\n"));
        assertEquals(CpuSet.of(0, 2), CpuSet.parse("0-2").minus(CpuSet.of(1)));
        assertTrue(CpuSet.parse("").isEmpty());
        assertThrows(IllegalArgumentException.class, () -> CpuSet.parse("3-1"));
        assertThrows(IllegalArgumentException.class, () -> CpuSet.parse("x"));
        assertThrows(IllegalArgumentException.class, () -> CpuSet.of(CpuSet.MAX_CPUS));
        assertEquals(Affinity.currentThread(), allowed(Affinity.currentThreadId()), "gettid and the mask agree with /proc");
    }

    private static void assertTimeoutJoin(final Thread t) {
        try {
            t.join(10_000);
        } catch (final InterruptedException e) {
            throw new AssertionError(e);
        }
        assertFalse(t.isAlive());
    }

    private static String name(final long tid) {
        try {
            return "(" + Files.readString(Path.of("/proc/self/task/" + tid + "/comm")).strip() + ")";
        } catch (final java.io.IOException e) {
            return "";
        }
    }
}
