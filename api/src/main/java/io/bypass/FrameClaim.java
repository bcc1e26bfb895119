package io.bypass;

import io.bypass.spi.ClaimOwner;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A flyweight over a transmit frame claimed with {@link TxQueue#tryClaim(int, FrameClaim)},
 * in the manner of Aeron's {@code BufferClaim}. Write the frame at
 * {@link #offset()} in {@link #buffer()}, then {@link #commit()} or {@link #abort()}.
 * Reuse one instance for every claim.
 *
 * <pre>{@code
 * if (tx.tryClaim(64, claim)) {
 *     claim.buffer().putBytes(claim.offset(), frame, 0, 64);
 *     claim.commit();
 * }
 * tx.flush();
 * }</pre>
 */
public final class FrameClaim {
    private final UnsafeBuffer buffer = new UnsafeBuffer(0, 0);
    private ClaimOwner owner;
    private long token;
    private int length;

    /** Creates an unclaimed flyweight. */
    public FrameClaim() {
    }

    /**
     * For backends: points this claim at a frame.
     *
     * @param owner   the queue that commits or aborts it
     * @param token   the owner's handle for the frame (descriptor index, mbuf address)
     * @param address start of the writable frame memory
     * @param length  bytes claimed
     */
    public void wrap(final ClaimOwner owner, final long token, final long address, final int length) {
        this.owner = owner;
        this.token = token;
        this.length = length;
        buffer.wrap(address, length);
    }

    /**
     * @return the buffer to write the frame into; valid until commit or abort
     */
    public MutableDirectBuffer buffer() {
        return buffer;
    }

    /**
     * @return where the frame starts in {@link #buffer()} (always 0 for the built-in backends)
     */
    public int offset() {
        return 0;
    }

    /**
     * @return the number of bytes claimed
     */
    public int length() {
        return length;
    }

    /**
     * Queues the frame with the claimed length; it leaves at the next {@link TxQueue#flush()}.
     */
    public void commit() {
        commit(length);
    }

    /**
     * Queues the frame, shortened to {@code actualLength}.
     *
     * @param actualLength bytes actually written, at most {@link #length()}
     */
    public void commit(final int actualLength) {
        final ClaimOwner o = owner;
        if (o == null) {
            throw new IllegalStateException("no frame claimed");
        }
        if (actualLength < 0 || actualLength > length) {
            throw new IllegalArgumentException("commit length " + actualLength + " outside 0.." + length);
        }
        owner = null;
        o.commit(token, actualLength);
    }

    /**
     * Gives the frame back unsent.
     */
    public void abort() {
        final ClaimOwner o = owner;
        if (o == null) {
            throw new IllegalStateException("no frame claimed");
        }
        owner = null;
        o.abort(token);
    }

    /**
     * @return true between a successful claim and its commit or abort
     */
    public boolean isClaimed() {
        return owner != null;
    }
}
