package io.bypass.efvi.internal;

import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.efvi.internal.gen.EfviShim;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The VI's one event queue, shared by RX queue 0 and TX queue 0 as in ef_vi: one
 * {@code bypass_efvi_poll} downcall decodes a batch of events; RX records go to a pending
 * ring the RX queue drains, completed TX buffer ids go back to the TX queue's free list.
 * Either queue may poll (TX must, to reclaim buffers, even when nobody receives).
 *
 * <p>Pending RX records never exceed the RX buffers (each record holds one buffer until
 * it is refilled), so the ring, sized buffers + one poll batch, cannot overflow.
 */
final class EventQueue {
    static final int MAX_EVENTS = 64;
    private static final int REC = EfviShim.BYPASS_EFVI_RX_RECORD();
    private static final int TX_IDS = MAX_EVENTS * EfviShim.BYPASS_EFVI_TX_IDS_PER_EVENT();

    private final MemorySegment handle;
    private final Counters counters;
    private final MemorySegment rx;
    private final MemorySegment rxTs;
    private final MemorySegment txIds;
    private final MemorySegment counts;

    // Pending RX records: written under this object's lock by poll(), read by the RX queue.
    final int[] pendingId;
    final int[] pendingLen;
    final int[] pendingStatus;
    final int[] pendingFlags;
    final int[] pendingCsum;
    final long[] pendingTs;
    private final int capacity;
    private volatile long tail;
    private EfviTxQueue tx;

    EventQueue(final MemorySegment handle, final Arena arena, final int rxBuffers, final Counters counters) {
        this.handle = handle;
        this.counters = counters;
        rx = arena.allocate((long) MAX_EVENTS * REC * Integer.BYTES, 64);
        rxTs = arena.allocate((long) MAX_EVENTS * Long.BYTES, 64);
        txIds = arena.allocate((long) TX_IDS * Integer.BYTES, 64);
        counts = arena.allocate((long) EfviShim.BYPASS_EFVI_COUNTS() * Integer.BYTES, 64);
        capacity = rxBuffers + MAX_EVENTS;
        pendingId = new int[capacity];
        pendingLen = new int[capacity];
        pendingStatus = new int[capacity];
        pendingFlags = new int[capacity];
        pendingCsum = new int[capacity];
        pendingTs = new long[capacity];
    }

    void txQueue(final EfviTxQueue tx) {
        this.tx = tx;
    }

    int capacity() {
        return capacity;
    }

    /**
     * @return RX records published so far (monotonic); index with {@code % capacity()}
     */
    long tail() {
        return tail;
    }

    /**
     * Polls the event queue once: one downcall.
     *
     * @return events processed, or a negative errno
     */
    synchronized int poll() {
        final int n = EfviShim.bypass_efvi_poll(handle, rx, rxTs, MAX_EVENTS, txIds, TX_IDS, counts);
        if (n <= 0) {
            return n;
        }
        final int nrx = counts.getAtIndex(ValueLayout.JAVA_INT, EfviShim.BYPASS_EFVI_C_RX());
        final int ntx = counts.getAtIndex(ValueLayout.JAVA_INT, EfviShim.BYPASS_EFVI_C_TX_DONE());
        final int txErrors = counts.getAtIndex(ValueLayout.JAVA_INT, EfviShim.BYPASS_EFVI_C_TX_ERROR());
        final int other = counts.getAtIndex(ValueLayout.JAVA_INT, EfviShim.BYPASS_EFVI_C_OTHER());
        long t = tail;
        for (int i = 0; i < nrx; i++) {
            final int slot = (int) (t % capacity);
            final long base = (long) i * REC;
            pendingId[slot] = rx.getAtIndex(ValueLayout.JAVA_INT, base + EfviShim.BYPASS_EFVI_RX_ID());
            pendingLen[slot] = rx.getAtIndex(ValueLayout.JAVA_INT, base + EfviShim.BYPASS_EFVI_RX_LEN());
            pendingStatus[slot] = rx.getAtIndex(ValueLayout.JAVA_INT, base + EfviShim.BYPASS_EFVI_RX_STATUS());
            pendingFlags[slot] = rx.getAtIndex(ValueLayout.JAVA_INT, base + EfviShim.BYPASS_EFVI_RX_FLAGS());
            pendingCsum[slot] = rx.getAtIndex(ValueLayout.JAVA_INT, base + EfviShim.BYPASS_EFVI_RX_CSUM());
            pendingTs[slot] = rxTs.getAtIndex(ValueLayout.JAVA_LONG, i);
            t++;
        }
        tail = t;
        if (ntx > 0) {
            // Read in place: a copy into a Java array goes through the JDK's heap-array path,
            // whose class interns its string constants when C2 first compiles it (see HotPathErrors).
            tx.completed(txIds, ntx);
        }
        if (txErrors > 0) {
            counters.add(Counter.DROP_TX_INVALID, txErrors);
        }
        if (other > 0) {
            counters.add(Counter.DROP_RX_OTHER, other);
        }
        return n;
    }
}
