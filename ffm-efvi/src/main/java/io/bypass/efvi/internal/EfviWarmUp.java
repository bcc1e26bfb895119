package io.bypass.efvi.internal;

import io.bypass.BypassException;
import io.bypass.Counters;
import io.bypass.efvi.internal.gen.EfviShim;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The queues a port's warm-up runs: this backend's own {@link EventQueue}, {@link EfviRxQueue}
 * and {@link EfviTxQueue}, over a warm-up VI of the shim ({@code bypass_efvi_warmup_init}) that
 * plays the NIC's part over private memory. So the warm-up compiles the poll, refill and
 * transmit code the first live burst runs through (empty polls, single frames, bursts, a frame
 * the NIC flagged as a bad checksum now and then), while no ef_vi call is made, nothing is taken
 * from the NIC's ring and nothing reaches the wire.
 * Polling thread only.
 */
final class EfviWarmUp implements AutoCloseable {
    private static final int RX_BUFFERS = 256;
    private static final int TX_BUFFERS = 256;
    /** Larger than the NIC's buffers: the warm-up VI takes any frame the TX queue takes, prefix included. */
    private static final int BUF_SIZE = 2 * EfviPortImpl.BUF_SIZE;

    private final EfviPortImpl port;
    private final int prefix;
    private final boolean rxTimestamps;
    private final boolean hardwareClock;
    private final int maxFrame;
    private Arena arena;
    private MemorySegment handle = MemorySegment.NULL;
    private EventQueue events;
    private long memBase;
    private long[] ids;
    private DirectBuffer frame;
    private int frameOffset;
    private int frameLength;
    private final UnsafeBuffer frameCopy = new UnsafeBuffer(0, 0);

    /**
     * @param port          the port whose queues are warmed up
     * @param prefix        bytes the NIC writes before each received frame (as the live VI's)
     * @param rxTimestamps  whether the live VI timestamps what it receives
     * @param hardwareClock whether those timestamps come from the NIC's clock
     * @param maxFrame      the largest frame the TX queue takes (as the live one)
     */
    EfviWarmUp(final EfviPortImpl port, final int prefix, final boolean rxTimestamps, final boolean hardwareClock,
               final int maxFrame) {
        this.port = port;
        this.prefix = prefix;
        this.rxTimestamps = rxTimestamps;
        this.hardwareClock = hardwareClock;
        this.maxFrame = maxFrame;
    }

    /**
     * @return an RX queue of this backend whose every other poll delivers copies of the frame
     */
    EfviRxQueue rxQueue(final DirectBuffer frame, final int offset, final int length, final Counters counters) {
        close();
        arena = Arena.ofShared();
        final MemorySegment mem = arena.allocate((long) (RX_BUFFERS + TX_BUFFERS) * BUF_SIZE, 4096);
        // The endpoint may rewrite the frame between turns (a feed moves its sequence number on):
        // the warm-up VI reads this copy, brought up to date at each turn.
        final MemorySegment copy = arena.allocate(length);
        this.frame = frame;
        this.frameOffset = offset;
        this.frameLength = length;
        frameCopy.wrap(copy.address(), length);
        turn();
        handle = EfviShim.bypass_efvi_create();
        if (handle.equals(MemorySegment.NULL)) {
            throw new BypassException("efvi: out of memory creating the warm-up VI");
        }
        final int rc = EfviShim.bypass_efvi_warmup_init(handle, mem, BUF_SIZE, RX_BUFFERS + TX_BUFFERS, prefix,
            copy, length, rxTimestamps ? 1 : 0);
        if (rc < 0) {
            throw new BypassException("efvi: the warm-up VI refused a " + length + "-byte frame: " + Errno.describe(rc));
        }
        memBase = mem.address();
        // The warm-up VI takes buffer indexes as its "DMA addresses": it never translates them.
        ids = new long[RX_BUFFERS + TX_BUFFERS];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i;
        }
        events = new EventQueue(handle, arena, RX_BUFFERS, counters);
        final EfviRxQueue rx = new EfviRxQueue(port, handle, events, arena, memBase, BUF_SIZE, prefix, ids,
            RX_BUFFERS, hardwareClock, counters.newWriter());
        if (rx.fill(RX_BUFFERS) != RX_BUFFERS) {
            throw new BypassException("efvi: the warm-up VI did not take its RX buffers");
        }
        return rx;
    }

    /**
     * @return a TX queue of this backend whose frames the warm-up VI discards; after {@link #rxQueue}
     */
    EfviTxQueue txQueue(final Counters counters) {
        if (events == null) {
            throw new IllegalStateException("efvi: the warm-up RX queue comes first");
        }
        final EfviTxQueue tx = new EfviTxQueue(port, handle, events, arena, memBase, BUF_SIZE, ids, RX_BUFFERS,
            TX_BUFFERS, maxFrame, counters.newWriter());
        events.txQueue(tx);
        return tx;
    }

    /** Between two turns of a warm-up: the warm-up VI delivers the frame as it is now. */
    void turn() {
        if (frame != null) {
            frameCopy.putBytes(0, frame, frameOffset, frameLength);
        }
    }

    /** Frees the warm-up VI and its memory, if there is one. */
    @Override
    public void close() {
        if (!handle.equals(MemorySegment.NULL)) {
            EfviShim.bypass_efvi_destroy(handle);
            handle = MemorySegment.NULL;
        }
        if (arena != null) {
            arena.close();
            arena = null;
        }
        events = null;
        frame = null;
    }
}
