package io.bypass.afxdp.internal;

import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.FrameHandler;
import io.bypass.FrameMeta;
import io.bypass.RxQueue;
import org.agrona.concurrent.UnsafeBuffer;


/**
 * An AF_XDP RX queue: peeks the RX ring, hands each frame to the handler as a view onto
 * the UMEM (one preallocated {@link UnsafeBuffer} over the whole UMEM, the descriptor's
 * address as offset), then gives the same frames back through the fill ring at the start
 * of the next poll (so a frame's bytes are valid until then; the API promises only the
 * handler call).
 * At most one syscall per poll: the fill-ring wakeup, only when the kernel asks for it.
 */
final class AfXdpRxQueue implements RxQueue {
    private final AfXdpPortImpl port;
    private final int id;
    private final XskRingCons rx;
    private final XskRingProd fill;
    private final int fd;
    private final UnsafeBuffer umem;
    private final long frameMask;
    private final int batch;
    private final boolean needWakeup;
    private final boolean busyPoll;
    private final Counters.Writer counters;
    private final FrameMeta meta = new FrameMeta();
    // Frames the last poll handed out, still in the RX ring (not released) until the next poll.
    private int handedFirst;
    private int handedCount;

    AfXdpRxQueue(final AfXdpPortImpl port, final int id, final XskSocket socket, final UnsafeBuffer umem,
                 final int frameSize, final int batch, final boolean needWakeup, final boolean busyPoll,
                 final Counters.Writer counters) {
        this.port = port;
        this.id = id;
        this.rx = socket.rx;
        this.fill = socket.fill;
        this.fd = socket.fd;
        this.umem = umem;
        this.frameMask = ~((long) frameSize - 1);
        this.batch = batch;
        this.needWakeup = needWakeup;
        this.busyPoll = busyPoll;
        this.counters = counters;
        meta.set(socket.queueId, FrameMeta.NO_TIMESTAMP, false);
    }

    /**
     * Gives the kernel the queue's RX frames at start.
     *
     * @param base  UMEM offset of the first RX frame
     * @param count number of RX frames, at most the fill ring size
     * @param frameSize frame size
     */
    boolean populateFill(final long base, final int count, final int frameSize) {
        final long idx = fill.reserve(count);
        if (idx < 0) {
            return false;   // the caller throws: this class keeps no string constant (see HotPathErrors)
        }
        for (int i = 0; i < count; i++) {
            fill.setAddr(idx + i, base + (long) i * frameSize);
        }
        fill.submit();
        return true;
    }

    @Override
    public int poll(final FrameHandler handler, final int limit) {
        port.checkOpen();
        final XskRingCons rx = this.rx;
        if (handedCount > 0) {
            recycleHanded();
        }
        final int n = rx.peek(Math.min(limit, batch));
        if (n <= 0) {
            // The kernel sets need_wakeup on the fill ring when it stopped for lack of
            // buffers (or always, with busy polling): one non-blocking recvfrom restarts it.
            if (busyPoll || (needWakeup && fill.needsWakeup())) {
                // Bound without errno capture, like the TX kick (see AfXdpTxQueue#kick): a failure is
                // counted (branch-free, as there), not thrown; the next poll wakes the kernel again.
                counters.add(Counter.RX_WAKEUP_FAILED, Libc.wakeupRx(fd) >>> 63); // the sign bit of recvfrom's long result
            }
            return 0;
        }
        final int first = rx.peekIndex();
        final UnsafeBuffer buffer = umem;
        final FrameMeta meta = this.meta;
        long bytes = 0;
        int handed = 0; // frames given to the handler, including one whose handler threw
        try {
            while (handed < n) {
                final long addr = rx.descAddr(first + handed);
                final int len = rx.descLen(first + handed);
                handed++;
                bytes += len;
                handler.onFrame(buffer, (int) addr, len, meta);
            }
        } finally {
            // If the handler threw, the frames it never saw stay in the RX ring for the next
            // poll (xsk_ring_cons__cancel) instead of being recycled unseen and uncounted.
            if (handed < n) {
                rx.cancel(n - handed);
            }
            // The frames handed out go back to the fill ring, and their RX slots to the
            // kernel, at the start of the next poll rather than now: those stores touch cache
            // lines the kernel reads on other CPUs, and done now they would delay whatever the
            // caller does with what it just received (answer it, time it). Frames a poll could
            // not give back yet (see recycleHanded) precede these in the RX ring: one range.
            if (handedCount == 0) {
                handedFirst = first;
            }
            handedCount += handed;
            counters.add(Counter.RX_PACKETS, handed);
            counters.add(Counter.RX_BYTES, bytes);
        }
        return n;
    }

    /**
     * Gives the frames of the last poll back through the fill ring and releases their RX
     * slots. A queue never owns more RX frames than the fill ring holds, but the kernel
     * publishes the RX ring's producer before the fill ring's consumer (both in
     * {@code xsk_flush}, and a zero-copy driver's fill consumer lags further), so a frame can
     * be seen before its fill slot is known to be free. Then the frames stay handed, their
     * RX slots unreleased, and the next poll tries again: none is lost, none overwrites a
     * fill entry the kernel has yet to read (seen on veth about once a minute under sockperf,
     * as an uncommon trap in {@code XskRingProd.reserve} in {@code -Xlog:deoptimization}).
     */
    private void recycleHanded() {
        final XskRingCons rx = this.rx;
        final int first = handedFirst;
        final int count = handedCount;
        final long f = fill.reserve(count);
        if (f < 0) {
            return;
        }
        for (int i = 0; i < count; i++) {
            fill.setAddr(f + i, rx.descAddr(first + i) & frameMask);
        }
        fill.submit();
        rx.release();
        handedCount = 0;
    }

    /**
     * @return frames in the RX ring not yet polled; for tests and diagnostics, from the polling thread
     */
    int waiting() {
        return rx.waiting();
    }

    @Override
    public int id() {
        return id;
    }
}
