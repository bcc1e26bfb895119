package io.bypass;

import org.agrona.DirectBuffer;

/**
 * Receives frames from {@link RxQueue#poll(FrameHandler, int)}.
 *
 * <p>The buffer is a view onto NIC-owned memory (a UMEM frame, an mbuf, an ef_vi
 * packet buffer). It is valid only during the call: the frame goes back to the NIC
 * when {@code poll} returns. Copy out what must outlive the callback. Implement it as
 * a field or a non-capturing lambda so the hot path allocates nothing.
 */
@FunctionalInterface
public interface FrameHandler {
    /**
     * Called once per received frame.
     *
     * @param buffer the frame's memory; read only
     * @param offset where the Ethernet header starts in {@code buffer}
     * @param length the frame's length in bytes, without the FCS
     * @param meta   queue, timestamp and flags of this frame; reused for the next one
     */
    void onFrame(DirectBuffer buffer, int offset, int length, FrameMeta meta);
}
