package io.bypass.afxdp.internal;

import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.FrameClaim;
import io.bypass.TxQueue;
import io.bypass.spi.ClaimOwner;
import io.bypass.spi.HotPathErrors;


/**
 * An AF_XDP TX queue. Claims take a free UMEM frame from a stack (refilled from the
 * completion ring), commits write TX descriptors, and {@link #flush()} publishes them
 * with one release store and kicks the kernel with one non-blocking sendto when it asks
 * for it (need_wakeup). No allocation, no downcall per frame.
 */
final class AfXdpTxQueue implements TxQueue, ClaimOwner {
    /** Frames a copy-mode sendto sends when XDP_MAX_TX_SKB_BUDGET is not available. */
    private static final int KERNEL_COPY_BATCH = 32;

    private final AfXdpPortImpl port;
    private final int id;
    private final XskRingProd tx;
    private final XskRingCons comp;
    private final int fd;
    private final long umemAddress;
    private final long frameMask;
    private final int maxFrameLength;
    private final int batch;
    private final boolean needWakeup;
    private final boolean copyBudgetLimited;
    private final Counters.Writer counters;
    private final long[] free;
    private int freeCount;
    private int committed;
    private long committedBytes;

    AfXdpTxQueue(final AfXdpPortImpl port, final int id, final XskSocket socket, final long umemAddress,
                 final long base, final int frames, final int frameSize, final int maxFrameLength, final int batch,
                 final boolean needWakeup, final Counters.Writer counters) {
        this.port = port;
        this.id = id;
        this.tx = socket.tx;
        this.comp = socket.comp;
        this.fd = socket.fd;
        this.umemAddress = umemAddress;
        this.frameMask = ~((long) frameSize - 1);
        this.maxFrameLength = maxFrameLength;
        this.batch = batch;
        this.needWakeup = needWakeup;
        this.copyBudgetLimited = !socket.zeroCopy && !socket.txBudgetRaised;
        this.counters = counters;
        this.free = new long[frames];
        for (int i = frames - 1; i >= 0; i--) {
            free[freeCount++] = base + (long) i * frameSize;
        }
    }

    @Override
    public boolean tryClaim(final int length, final FrameClaim claim) {
        port.checkOpen();
        if (length < 0 || length > maxFrameLength) {
            throw HotPathErrors.frameLength(length, maxFrameLength);
        }
        if (freeCount == 0 && reclaim() == 0) {
            counters.increment(Counter.TX_BACK_PRESSURED);
            return false;
        }
        final long addr = free[--freeCount];
        claim.wrap(this, addr, umemAddress + addr, length);
        return true;
    }

    @Override
    public void commit(final long token, final int length) {
        port.checkOpen();
        // A queue never owns more TX frames than the TX ring holds, so a claimed frame
        // always has a free slot.
        final long idx = tx.reserve(1);
        tx.setDesc(idx, token, length);
        committed++;
        committedBytes += length;
    }

    @Override
    public void abort(final long token) {
        port.checkOpen();
        free[freeCount++] = token;
    }

    @Override
    public int flush() {
        port.checkOpen();
        final int n = committed;
        if (n > 0) {
            tx.submit();
            counters.add(Counter.TX_PACKETS, n);
            counters.add(Counter.TX_BYTES, committedBytes);
            committed = 0;
            committedBytes = 0;
        }
        if ((n > 0 || !tx.isDrained()) && (!needWakeup || tx.needsWakeup())) {
            kick();
            // Older kernels send at most 32 frames per copy-mode sendto; kick again only
            // then, one syscall per 32 frames (Linux 6.17+ takes the whole batch at once).
            if (copyBudgetLimited) {
                for (int k = KERNEL_COPY_BATCH; k < n && !tx.isDrained(); k += KERNEL_COPY_BATCH) {
                    kick();
                }
            }
        }
        reclaim();
        return n;
    }

    /**
     * The TX kick: one zero-length non-blocking {@code sendto}.
     *
     * <p>Deliberate deviation from the rule that calls which set errno are bound with errno
     * capture: on JDK 25 capture allocates 40 bytes per call until C2 has inlined the whole
     * caller, which would break the zero-allocation hot path, so {@link Libc#kick} is bound
     * without it. A failed kick (EAGAIN, EBUSY, ENOBUFS: kernel busy or copy mode's
     * per-call budget used up; ENETDOWN: interface down) is therefore counted in
     * {@link Counter#TX_KICK_FAILED} without its errno, and never thrown: the descriptors
     * stay in the TX ring and the next flush kicks again.
     */
    private void kick() {
        // Counted without a branch (a failure adds 1: the sign bit of sendto's long result): a warm-up's kicks fail
        // (its rings have no socket) and live ones do not, and a branch the warm-up only ever took one way would be
        // compiled for that way alone and deoptimised at the first live kick.
        counters.add(Counter.TX_KICK_FAILED, Libc.kick(fd) >>> 63);
    }

    private int reclaim() {
        final XskRingCons c = comp;
        final int n = c.peek(batch);
        if (n > 0) {
            final int first = c.peekIndex();
            for (int i = 0; i < n; i++) {
                free[freeCount++] = c.addr(first + i) & frameMask;
            }
            c.release();
        }
        return n;
    }

    @Override
    public int maxFrameLength() {
        return maxFrameLength;
    }

    @Override
    public int id() {
        return id;
    }
}
