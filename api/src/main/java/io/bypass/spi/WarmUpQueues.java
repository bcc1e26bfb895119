package io.bypass.spi;

import io.bypass.Counters;
import io.bypass.RxQueue;
import io.bypass.TxQueue;
import org.agrona.DirectBuffer;

/**
 * Queues for warming up a port's receive and send paths before the market opens, without
 * a frame reaching the wire or a real frame being taken from the NIC.
 *
 * <p>A JIT compiles a method for the paths it has seen run. A feed handler that polls an
 * empty ring until the open has its poll loop compiled for empty polls only; the first
 * burst then runs through code compiled for no frames (deoptimised, reinterpreted,
 * recompiled) while the frames pile up. A warm-up queue runs the port's own receive and
 * send code over private memory, with this class's caller playing the NIC's part, so the
 * code the burst runs through is compiled for frames.
 *
 * <p>A port implements this where its queues can run over private memory (afxdp: rings
 * and UMEM in ordinary memory, the kernel's part played in Java); other ports get
 * {@link SyntheticQueues}, which warm the protocol layer above the port but not the
 * backend's own poll loop.
 */
public interface WarmUpQueues {
    /**
     * A receive queue of the port's own implementation whose every poll delivers copies of
     * one frame, up to the poll's limit.
     *
     * @param frame    the frame to deliver, Ethernet header first
     * @param offset   where it starts
     * @param length   its length
     * @param counters where the queue counts (not the port's)
     * @return the queue; close it with {@link #closeWarmUp()}
     */
    RxQueue warmUpRxQueue(DirectBuffer frame, int offset, int length, Counters counters);

    /**
     * A send queue of the port's own implementation whose committed frames are discarded.
     *
     * @param counters where the queue counts (not the port's)
     * @return the queue
     */
    TxQueue warmUpTxQueue(Counters counters);

    /**
     * Plays the NIC's part between two turns of a warm-up: completes what the send queue
     * took, and hands the receive queue more copies of its frame. The endpoint calls it before
     * each poll, so the queues themselves can be the port's own classes, unwrapped: a
     * wrapper's type would reach the endpoint's call sites and the JIT, which compiles them for
     * the types it has seen, would deoptimise them at the first live frame.
     */
    default void warmUpTurn() {
    }

    /** Frees what the warm-up queues hold. */
    void closeWarmUp();
}
