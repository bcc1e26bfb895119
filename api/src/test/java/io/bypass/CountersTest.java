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
    void stackedCountersAddTheBaseExceptWhatTheyReplace() {
        final Counters port = new Counters();
        final Counters endpoint = new Counters(port, java.util.EnumSet.of(Counter.RX_PACKETS, Counter.RX_BYTES));
        port.add(Counter.RX_PACKETS, 10);                   // frames, as the port counts them
        port.add(Counter.TX_PACKETS, 3);
        port.increment(Counter.DROP_RX_RING_FULL);
        final Counters.Writer w = endpoint.newWriter();
        w.add(Counter.RX_PACKETS, 7);                        // datagrams, as the endpoint counts them
        endpoint.increment(Counter.DROP_NOT_OURS);
        endpoint.increment(Counter.DROP_RX_RING_FULL);
        assertEquals(7, endpoint.get(Counter.RX_PACKETS), "replaced: the endpoint's count alone");
        assertEquals(3, endpoint.get(Counter.TX_PACKETS), "the port's");
        assertEquals(2, endpoint.get(Counter.DROP_RX_RING_FULL), "both");
        assertEquals(3, endpoint.totalDrops());
        assertEquals(10, port.get(Counter.RX_PACKETS), "the base never sees the layer's counts");
        assertEquals(1, port.totalDrops());
        port.add(Counter.TX_PACKETS, 1);
        assertEquals(4, endpoint.get(Counter.TX_PACKETS), "read live");
    }

    @Test
    void stackedCountersRefreshTheirBase() {
        final Counters port = new Counters();
        port.refresher(() -> port.set(Counter.DROP_FILL_RING_EMPTY, 5));
        final Counters endpoint = new Counters(port, java.util.Set.of());
        assertEquals(0, endpoint.get(Counter.DROP_FILL_RING_EMPTY), "get does not refresh");
        assertEquals(5L, endpoint.snapshot().get(Counter.DROP_FILL_RING_EMPTY));
        assertEquals(5, endpoint.totalDrops());
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
