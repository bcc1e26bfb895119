package io.bypass;

/**
 * One transmit queue of a {@link Port}. Use it from one thread only.
 *
 * <p>Claims write straight into frames the NIC will send; committed frames leave at
 * the next {@link #flush()}, which kicks the NIC once for the whole batch.
 */
public interface TxQueue {
    /**
     * Claims a frame of {@code length} bytes.
     *
     * @param length frame length in bytes, at most {@link #maxFrameLength()}
     * @param claim  the flyweight to point at the frame
     * @return true if claimed; false if the ring is full (counted as
     *         {@link Counter#TX_BACK_PRESSURED}), when {@link #flush()} and retry
     * @throws IllegalArgumentException if {@code length} exceeds {@link #maxFrameLength()}
     * @throws BypassException if the port is closed
     */
    boolean tryClaim(int length, FrameClaim claim);

    /**
     * Sends every committed frame and reclaims completed ones: at most one syscall.
     *
     * @return frames handed to the NIC by this call
     */
    int flush();

    /**
     * @return the longest frame a claim may ask for
     */
    int maxFrameLength();

    /**
     * @return this queue's id within its port
     */
    int id();
}
