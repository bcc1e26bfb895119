package io.bypass.efvi.internal;

import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.FrameClaim;
import io.bypass.TxQueue;
import io.bypass.efvi.internal.gen.EfviShim;
import io.bypass.spi.ClaimOwner;
import io.bypass.spi.HotPathErrors;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * TX queue 0 of an ef_vi port. Claims hand out registered packet buffers; committed frames
 * wait in native arrays until {@link #flush()}, which makes one downcall for the batch
 * ({@code ef_vi_transmit_init} per frame, one {@code ef_vi_transmit_push}) and one event
 * queue poll that returns completed buffers.
 */
final class EfviTxQueue implements TxQueue, ClaimOwner {
    private final EfviPortImpl port;
    private final MemorySegment handle;
    private final EventQueue events;
    private final Counters.Writer counters;
    private final long memBase;
    private final int bufSize;
    private final long[] dma;
    private final int maxFrame;
    private final int[] free;
    private int freeCount;
    private int inFlight;
    private final MemorySegment ids;
    private final MemorySegment addrs;
    private final MemorySegment lens;
    private int pending;

    EfviTxQueue(final EfviPortImpl port, final MemorySegment handle, final EventQueue events, final Arena arena,
                final long memBase, final int bufSize, final long[] dma, final int firstBuffer, final int count,
                final int maxFrame, final Counters.Writer counters) {
        this.port = port;
        this.handle = handle;
        this.events = events;
        this.counters = counters;
        this.memBase = memBase;
        this.bufSize = bufSize;
        this.dma = dma;
        this.maxFrame = maxFrame;
        free = new int[count];
        for (int i = 0; i < count; i++) {
            free[i] = firstBuffer + count - 1 - i;
        }
        freeCount = count;
        ids = arena.allocate((long) count * Integer.BYTES, 64);
        addrs = arena.allocate((long) count * Long.BYTES, 64);
        lens = arena.allocate((long) count * Integer.BYTES, 64);
    }

    @Override
    public boolean tryClaim(final int length, final FrameClaim claim) {
        port.checkOpen();
        if (length < 0 || length > maxFrame) {
            throw HotPathErrors.frameLength(length, maxFrame);
        }
        final int id;
        synchronized (events) {
            if (freeCount == 0) {
                counters.increment(Counter.TX_BACK_PRESSURED);
                return false;
            }
            id = free[--freeCount];
        }
        claim.wrap(this, id, memBase + (long) id * bufSize, length);
        return true;
    }

    @Override
    public void commit(final long token, final int length) {
        port.checkOpen();
        final int id = (int) token;
        if (length < 14) {
            // Not a frame the NIC could send; give the buffer back and count it.
            counters.increment(Counter.DROP_TX_INVALID);
            abort(token);
            return;
        }
        ids.setAtIndex(ValueLayout.JAVA_INT, pending, id);
        addrs.setAtIndex(ValueLayout.JAVA_LONG, pending, dma[id]);
        lens.setAtIndex(ValueLayout.JAVA_INT, pending, length);
        pending++;
    }

    @Override
    public void abort(final long token) {
        port.checkOpen();
        synchronized (events) {
            free[freeCount++] = (int) token;
        }
    }

    /** Buffers the NIC finished sending; called by {@link EventQueue#poll()} under its lock. */
    void completed(final MemorySegment doneIds, final int n) {
        for (int i = 0; i < n; i++) {
            if (freeCount < free.length) {
                free[freeCount++] = doneIds.getAtIndex(ValueLayout.JAVA_INT, i);
            }
        }
        inFlight -= n;
    }

    @Override
    public int flush() {
        port.checkOpen();
        int sent = 0;
        if (pending > 0) {
            synchronized (events) { // ef_vi calls on one VI never run concurrently
                sent = Math.max(0, EfviShim.bypass_efvi_transmit_batch(handle, ids, addrs, lens, pending));
                inFlight += sent;
            }
            long bytes = 0;
            for (int i = 0; i < sent; i++) {
                bytes += lens.getAtIndex(ValueLayout.JAVA_INT, i);
            }
            if (sent < pending) {
                // TX ring full: keep the rest, in order, for the next flush.
                final int rest = pending - sent;
                MemorySegment.copy(ids, (long) sent * Integer.BYTES, ids, 0, (long) rest * Integer.BYTES);
                MemorySegment.copy(addrs, (long) sent * Long.BYTES, addrs, 0, (long) rest * Long.BYTES);
                MemorySegment.copy(lens, (long) sent * Integer.BYTES, lens, 0, (long) rest * Integer.BYTES);
            }
            pending -= sent;
            if (sent > 0) {
                counters.add(Counter.TX_PACKETS, sent);
                counters.add(Counter.TX_BYTES, bytes);
            }
        }
        if (inFlight > 0) {
            events.poll();   // reclaim completed buffers
        }
        return sent;
    }

    @Override
    public int maxFrameLength() {
        return maxFrame;
    }

    @Override
    public int id() {
        return 0;
    }
}
