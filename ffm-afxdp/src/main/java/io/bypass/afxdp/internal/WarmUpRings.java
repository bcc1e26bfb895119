package io.bypass.afxdp.internal;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The four AF_XDP rings and a UMEM in ordinary memory, with the kernel's part played here:
 * {@link AfXdpRxQueue} and {@link AfXdpTxQueue} run over them unchanged (the endpoint calls
 * {@link #turn} between its polls, so no wrapper type reaches the call sites the live queues
 * will use and the JIT's type profile stays the live one), so a warm-up
 * compiles the very poll, claim and flush code the live queues run, with frames, while the
 * live socket's rings are not touched. Nothing reaches the NIC. Every other turn the TX and fill
 * rings ask for a wakeup, as a live socket's do in copy mode, so the kick and wakeup branches are
 * compiled too (found with {@code -XX:+LogCompilation}: without it the first live flush hit an
 * uncommon trap in {@code XskRing.needsWakeup} and {@code AfXdpTxQueue.flush}); those kicks go to
 * the simulated socket's fd -1 and fail with EBADF, counted in the warm-up's counters. One
 * single-frame turn in four publishes the fill ring's consumer two turns late, as a live
 * kernel's lags behind the RX producer now and then, so the RX queue's path for a fill ring
 * that looks full is compiled too.
 */
final class WarmUpRings implements AutoCloseable {
    private static final int ENTRIES = 256;
    private static final long HEADER = 256;
    private static final RingOffsets OFFSETS = new RingOffsets(0, 64, HEADER, 128);

    // Shared, as the port's own mappings are: a segment's access checks the kind of its session, and a
    // confined one here left the JIT a loop predicate that the live rings failed at the first request
    // (AfXdpRxQueue.recycleHanded, AfXdpTxQueue.reclaim: profile_predicate, -Xlog:deoptimization=debug).
    private final Arena arena = Arena.ofShared();
    final XskSocket socket;
    final UnsafeBuffer umem;
    final long umemAddress;
    final int frameSize;
    private DirectBuffer frame;
    private int frameOffset;
    private int frameLength;
    private int turns;
    private int wakeupTurns;
    private int drainedTurns;
    private int singleTurns;
    /** The kernel's own fill-ring consumer; published to the ring at once, or two turns late. */
    private int fillConsumed;
    /** Turns until {@link #fillConsumed} is published; 0 when it is. */
    private int fillReleaseIn;

    WarmUpRings(final int queueId, final int frameSize) {
        this.frameSize = frameSize;
        socket = XskSocket.simulated(queueId);
        socket.rx = new XskRingCons(ring(XskRing.DESC_BYTES), OFFSETS, ENTRIES);
        socket.tx = new XskRingProd(ring(XskRing.DESC_BYTES), OFFSETS, ENTRIES);
        socket.fill = new XskRingProd(ring(XskRing.ADDR_BYTES), OFFSETS, ENTRIES);
        socket.comp = new XskRingCons(ring(XskRing.ADDR_BYTES), OFFSETS, ENTRIES);
        socket.txBudgetRaised = true;
        final MemorySegment area = arena.allocate((long) 2 * ENTRIES * frameSize, 4096);
        umemAddress = area.address();
        umem = new UnsafeBuffer(umemAddress, (int) area.byteSize());
    }

    private MemorySegment ring(final long entrySize) {
        return arena.allocate(HEADER + (long) ENTRIES * entrySize, 64);
    }

    /** @return RX frames: the first half of the UMEM */
    int rxFrames() {
        return ENTRIES;
    }

    /** @return offset of the first TX frame: the second half */
    long txBase() {
        return (long) ENTRIES * frameSize;
    }

    /** @return TX frames */
    int txFrames() {
        return ENTRIES;
    }

    /**
     * The kernel's receive side: takes fill-ring entries, copies the frame into each, and
     * posts them on the RX ring, as many as both rings allow.
     */
    void receive(final DirectBuffer frame, final int offset, final int length, final int most) {
        final XskRingProd fill = socket.fill;
        final XskRingCons rx = socket.rx;
        final int fillCons = fillConsumed;
        final int rxProd = (int) XskRing.U32.get(rx.producer, 0L);
        final int ready = (int) XskRing.U32.getAcquire(fill.producer, 0L) - fillCons;
        final int room = ENTRIES - (rxProd - (int) XskRing.U32.getAcquire(rx.consumer, 0L));
        final int n = Math.min(most, Math.min(ready, room));
        for (int i = 0; i < n; i++) {
            final long addr = fill.ring.get(ValueLayout.JAVA_LONG, ((fillCons + i) & fill.mask) * XskRing.ADDR_BYTES);
            umem.putBytes((int) addr, frame, offset, length);
            final long d = ((rxProd + i) & rx.mask) * XskRing.DESC_BYTES;
            rx.ring.set(ValueLayout.JAVA_LONG, d + XskRing.DESC_ADDR, addr);
            rx.ring.set(ValueLayout.JAVA_INT, d + XskRing.DESC_LEN, length);
            rx.ring.set(ValueLayout.JAVA_INT, d + XskRing.DESC_OPTIONS, 0);
        }
        fillConsumed = fillCons + n;
        // xsk_flush's order: the RX producer first, then the fill consumer (here, on a lagging turn, two turns later).
        XskRing.U32.setRelease(rx.producer, 0L, rxProd + n);
        if (fillReleaseIn == 0) {
            if (n == 1 && (singleTurns++ & 3) == 3) {
                fillReleaseIn = 2;
            } else {
                XskRing.U32.setRelease(fill.consumer, 0L, fillConsumed);
            }
        }
    }

    /**
     * Sets the frame {@link #turn} delivers.
     *
     * @param frame  the frame, Ethernet header first
     * @param offset where it starts
     * @param length its length
     */
    void deliver(final DirectBuffer frame, final int offset, final int length) {
        this.frame = frame;
        this.frameOffset = offset;
        this.frameLength = length;
    }

    /**
     * The kernel's part between two turns of a warm-up: completes what was sent, then posts
     * received frames, alternately one and as many as the rings allow, so the queues' loops
     * are compiled for single frames (a ping-pong) and for bursts (a feed) alike. One turn in
     * four that finds the RX ring drained posts nothing, so the empty poll a live loop runs
     * between requests is compiled too: without it, the first live empty poll hit an uncommon
     * trap in {@code AfXdpRxQueue.poll} right after the warm-up, and the JIT recompiled the
     * whole polling loop while the first requests came in ({@code -Xlog:deoptimization=debug}).
     */
    void turn() {
        if (fillReleaseIn > 0 && --fillReleaseIn == 0) {
            XskRing.U32.setRelease(socket.fill.consumer, 0L, fillConsumed);
        }
        final int flags = (wakeupTurns++ & 1) != 0 ? Constants.XDP_RING_NEED_WAKEUP : 0;
        XskRing.U32.setRelease(socket.tx.flags, 0L, flags);
        XskRing.U32.setRelease(socket.fill.flags, 0L, flags);
        transmit();
        if (frame != null && (socket.rx.waiting() != 0 || (drainedTurns++ & 3) != 3)) {
            receive(frame, frameOffset, frameLength, (turns++ & 1) == 0 ? 1 : ENTRIES);
        }
    }

    /** The kernel's send side: takes every TX descriptor and completes its frame. */
    void transmit() {
        final XskRingProd tx = socket.tx;
        final XskRingCons comp = socket.comp;
        final int txCons = (int) XskRing.U32.get(tx.consumer, 0L);
        final int compProd = (int) XskRing.U32.get(comp.producer, 0L);
        final int ready = (int) XskRing.U32.getAcquire(tx.producer, 0L) - txCons;
        final int room = ENTRIES - (compProd - (int) XskRing.U32.getAcquire(comp.consumer, 0L));
        final int n = Math.min(ready, room);
        for (int i = 0; i < n; i++) {
            final long addr = tx.ring.get(ValueLayout.JAVA_LONG, ((txCons + i) & tx.mask) * XskRing.DESC_BYTES + XskRing.DESC_ADDR);
            comp.ring.set(ValueLayout.JAVA_LONG, ((compProd + i) & comp.mask) * XskRing.ADDR_BYTES, addr);
        }
        XskRing.U32.setRelease(tx.consumer, 0L, txCons + n);
        XskRing.U32.setRelease(comp.producer, 0L, compProd + n);
    }

    @Override
    public void close() {
        arena.close();
    }
}
