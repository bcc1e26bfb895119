package io.bypass.spi;

import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.FrameClaim;
import io.bypass.FrameHandler;
import io.bypass.FrameMeta;
import io.bypass.RxQueue;
import io.bypass.TxQueue;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * {@link WarmUpQueues} in ordinary memory, for ports that have no warm-up queues of their
 * own: the receive queue hands out copies of one frame, the send queue discards what is
 * committed. They warm the protocol layer (classification, checksums, delivery, header
 * building) but not the backend's own poll loop.
 */
public final class SyntheticQueues implements WarmUpQueues {
    private final int maxFrameLength;
    private Runnable refresh;

    /**
     * @param maxFrameLength largest frame the send queue takes (the port's)
     */
    public SyntheticQueues(final int maxFrameLength) {
        this.maxFrameLength = maxFrameLength;
    }

    @Override
    public RxQueue warmUpRxQueue(final DirectBuffer frame, final int offset, final int length, final Counters counters) {
        final UnsafeBuffer copy = new UnsafeBuffer(ByteBuffer.allocateDirect(length));
        copy.putBytes(0, frame, offset, length);
        refresh = () -> copy.putBytes(0, frame, offset, length);
        final FrameMeta meta = new FrameMeta();
        meta.set(0, FrameMeta.NO_TIMESTAMP, false);
        return new RxQueue() {
            @Override
            public int poll(final FrameHandler handler, final int limit) {
                for (int i = 0; i < limit; i++) {
                    handler.onFrame(copy, 0, length, meta);
                }
                counters.add(Counter.RX_PACKETS, limit);
                counters.add(Counter.RX_BYTES, (long) limit * length);
                return limit;
            }

            @Override
            public int id() {
                return 0;
            }
        };
    }

    @Override
    public TxQueue warmUpTxQueue(final Counters counters) {
        final UnsafeBuffer frame = new UnsafeBuffer(ByteBuffer.allocateDirect(maxFrameLength));
        return new DiscardingTxQueue(frame, maxFrameLength, counters);
    }

    /** Copies the warm-up frame again: its payload may have changed since the last turn. */
    @Override
    public void warmUpTurn() {
        if (refresh != null) {
            refresh.run();
        }
    }

    @Override
    public void closeWarmUp() {
    }

    private static final class DiscardingTxQueue implements TxQueue, ClaimOwner {
        private final UnsafeBuffer frame;
        private final int maxFrameLength;
        private final Counters counters;
        private int committed;

        DiscardingTxQueue(final UnsafeBuffer frame, final int maxFrameLength, final Counters counters) {
            this.frame = frame;
            this.maxFrameLength = maxFrameLength;
            this.counters = counters;
        }

        @Override
        public boolean tryClaim(final int length, final FrameClaim claim) {
            if (length < 0 || length > maxFrameLength) {
                throw new IllegalArgumentException("frame length " + length + " outside 0.." + maxFrameLength);
            }
            claim.wrap(this, 0, frame.addressOffset(), length);
            return true;
        }

        @Override
        public void commit(final long token, final int length) {
            committed++;
        }

        @Override
        public void abort(final long token) {
        }

        @Override
        public int flush() {
            final int n = committed;
            counters.add(Counter.TX_PACKETS, n);
            committed = 0;
            return n;
        }

        @Override
        public int maxFrameLength() {
            return maxFrameLength;
        }

        @Override
        public int id() {
            return 0;
        }
    }
}
