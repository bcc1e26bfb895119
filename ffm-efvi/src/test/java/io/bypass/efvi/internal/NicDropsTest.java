package io.bypass.efvi.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.bypass.Counter;
import io.bypass.Counters;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The NIC's drop statistic and the event queue's discards of other kinds share
 * {@link Counter#DROP_RX_OTHER}: reading the statistic must add to it, never replace it.
 */
class NicDropsTest {
    @Test
    void readingTheNicStatisticKeepsTheDiscardsTheEventQueueCounted() {
        final AtomicLong nicTotal = new AtomicLong(1_000); // drops before the port opened are not ours
        final NicDrops drops = new NicDrops(nicTotal::get);
        final Counters counters = new Counters();
        counters.add(Counter.DROP_RX_OTHER, 3);             // as EventQueue.poll adds RX discards of other kinds
        nicTotal.addAndGet(5);
        drops.addNewDropsTo(counters);
        assertEquals(8, counters.get(Counter.DROP_RX_OTHER));
        drops.addNewDropsTo(counters);                      // nothing new: nothing added twice
        assertEquals(8, counters.get(Counter.DROP_RX_OTHER));
        counters.add(Counter.DROP_RX_OTHER, 2);
        nicTotal.addAndGet(7);
        drops.addNewDropsTo(counters);
        assertEquals(17, counters.get(Counter.DROP_RX_OTHER));
    }
}
