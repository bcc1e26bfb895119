package io.bypass.spi;

/**
 * For backends: the queue behind a {@link io.bypass.FrameClaim} or
 * {@link io.bypass.udp.DatagramClaim}, told when the application commits or aborts.
 */
public interface ClaimOwner {
    /**
     * Queues the claimed frame for sending.
     *
     * @param token  the handle given to {@code wrap}
     * @param length bytes written
     */
    void commit(long token, int length);

    /**
     * Returns the claimed frame unsent.
     *
     * @param token the handle given to {@code wrap}
     */
    void abort(long token);
}
