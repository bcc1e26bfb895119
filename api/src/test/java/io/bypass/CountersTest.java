package io.bypass;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CountersTest {
    @Test
    void addsAndReadsEachCounterIndependently() {
        final Counters c = new Counters();
        c.increment(Counter.DROP_TRUNCATED);
        c.add(Counter.RX_PACKETS, 64);
        c.add(Counter.RX_BYTES, 4096);
        assertEquals(1, c.get(Counter.DROP_TRUNCATED));
        assertEquals(64, c.get(Counter.RX_PACKETS));
        assertEquals(4096, c.get(Counter.RX_BYTES));
        assertEquals(0, c.get(Counter.DROP_NOT_OURS));
        assertEquals(1, c.totalDrops(), "only drop counters count as drops");
    }

    @Test
    void refresherRunsOnReadNotOnWrite() {
        final Counters c = new Counters();
        final AtomicInteger calls = new AtomicInteger();
        c.refresher(() -> c.set(Counter.DROP_FILL_RING_EMPTY, 10L * calls.incrementAndGet()));
        c.increment(Counter.RX_PACKETS);
        assertEquals(0, calls.get());
        final Map<Counter, Long> snap = c.snapshot();
        assertEquals(1, calls.get());
        assertEquals(10L, snap.get(Counter.DROP_FILL_RING_EMPTY));
        assertEquals(20L, c.totalDrops());
        assertTrue(c.toString().contains("drop_fill_ring_empty=30"), c.toString());
        assertFalse(c.toString().contains("drop_not_ours"), "zero counters are left out");
    }

    @Test
    void concurrentWritersLoseNothing() throws InterruptedException {
        final Counters c = new Counters();
        final Thread[] threads = new Thread[2];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 100_000; i++) {
                    c.increment(Counter.TX_PACKETS);
                }
            });
            threads[t].start();
        }
        for (final Thread t : threads) {
            t.join();
        }
        assertEquals(200_000, c.get(Counter.TX_PACKETS));
    }

    @Test
    void writersAreSummedWithTheSharedCounts() {
        final Counters c = new Counters();
        final Counters.Writer rx = c.newWriter();
        final Counters.Writer tx = c.newWriter();
        c.add(Counter.RX_PACKETS, 5);
        rx.add(Counter.RX_PACKETS, 64);
        rx.increment(Counter.RX_PACKETS);
        tx.add(Counter.TX_BYTES, 1500);
        tx.increment(Counter.DROP_TX_INVALID);
        assertEquals(70, c.get(Counter.RX_PACKETS));
        assertEquals(1500, c.get(Counter.TX_BYTES));
        assertEquals(0, c.get(Counter.TX_PACKETS));
        assertEquals(1, c.totalDrops());
        assertEquals(70L, c.snapshot().get(Counter.RX_PACKETS));
    }

    @Test
    void oneWriterPerThreadLosesNothingAndIsSeenByOtherThreads() throws InterruptedException {
        final Counters c = new Counters();
        final Thread[] threads = new Thread[2];
        for (int t = 0; t < threads.length; t++) {
            final Counters.Writer w = c.newWriter();
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 100_000; i++) {
                    w.increment(Counter.TX_PACKETS);
                    w.add(Counter.TX_BYTES, 2);
                }
            });
            threads[t].start();
        }
        long seen = 0;
        while (threads[0].isAlive() || threads[1].isAlive()) {
            final long now = c.get(Counter.TX_PACKETS);
            assertTrue(now >= seen, "a reader never sees a writer's count go back");
            seen = now;
        }
        for (final Thread t : threads) {
            t.join();
        }
        assertEquals(200_000, c.get(Counter.TX_PACKETS));
        assertEquals(400_000, c.get(Counter.TX_BYTES));
    }

    @Test
    void everyDropCounterHasADescription() {
        for (final Counter counter : Counter.values()) {
            assertFalse(counter.description().isBlank(), counter.name());
            assertEquals(counter.name().startsWith("DROP_"), counter.isDrop(), counter.name());
        }
    }
}
