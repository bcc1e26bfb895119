package io.bypass.dpdk.internal;

import io.bypass.FrameHandler;
import io.bypass.FrameMeta;
import io.bypass.PortUri;
import io.bypass.RxQueue;
import io.bypass.TxQueue;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The queues a port's warm-up runs: those of a {@code net_null} port, DPDK's in-memory PMD, so
 * the warm-up goes through this backend's own burst loop with frames, and nothing reaches the
 * wire. Polling thread only.
 */
final class DpdkWarmUp {
    private static final AtomicInteger WARM_UP_PORTS = new AtomicInteger();

    /** The net_null port, opened on first use. */
    private DpdkPortImpl port;

    /**
     * @param frame  the frame every poll delivers
     * @param offset where it starts
     * @param length its length
     * @return a queue whose polls deliver net_null's mbufs with {@code frame} written into them
     */
    RxQueue rxQueue(final DirectBuffer frame, final int offset, final int length) {
        return new WarmUpRx(port(length).rxQueue(0), frame, offset, length);
    }

    /** @return the net_null port's TX queue, which frees what it is given */
    TxQueue txQueue() {
        return port(64).txQueue(0);
    }

    /** Closes the net_null port, if one was opened. */
    void close() {
        if (port != null) {
            port.close();
            port = null;
        }
    }

    private DpdkPortImpl port(final int frameLength) {
        if (port == null) {
            port = DpdkPortImpl.open(PortUri.parse("dpdk:net_null_bypass_warmup" + WARM_UP_PORTS.incrementAndGet() + ",size="
                + frameLength));
        }
        return port;
    }

    /** Polls a net_null queue and hands each mbuf on with the warm-up frame written into it. */
    private static final class WarmUpRx implements RxQueue, FrameHandler {
        private final DpdkRxQueue queue;
        private final DirectBuffer frame;
        private final int offset;
        private final int length;
        private FrameHandler target;

        WarmUpRx(final DpdkRxQueue queue, final DirectBuffer frame, final int offset, final int length) {
            this.queue = queue;
            this.frame = frame;
            this.offset = offset;
            this.length = length;
        }

        @Override
        public int poll(final FrameHandler handler, final int limit) {
            target = handler;
            return queue.poll(this, limit);
        }

        @Override
        public void onFrame(final DirectBuffer buffer, final int at, final int frameLength, final FrameMeta meta) {
            ((MutableDirectBuffer) buffer).putBytes(at, frame, offset, length);
            target.onFrame(buffer, at, length, meta);
        }

        @Override
        public int id() {
            return queue.id();
        }
    }
}
