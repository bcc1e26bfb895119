package io.bypass;

/**
 * A flyweight over a transmit frame claimed with {@link TxQueue#tryClaim(int, FrameClaim)},
 * in the manner of Aeron's {@code BufferClaim}. Write the whole Ethernet frame at
 * {@link #offset()} in {@link #buffer()}, then {@link #commit()} (it leaves at the next
 * {@link TxQueue#flush()}) or {@link #abort()}. Reuse one instance for every claim.
 *
 * <pre>{@code
 * if (tx.tryClaim(64, claim)) {
 *     claim.buffer().putBytes(claim.offset(), frame, 0, 64);
 *     claim.commit();
 * }
 * tx.flush();
 * }</pre>
 */
public final class FrameClaim extends Claim {
    /** Creates an unclaimed flyweight. */
    public FrameClaim() {
        super("frame");
    }

    /** {@inheritDoc} */
    @Override
    public void commit(final int actualLength) {
        release(actualLength).commit(token(), actualLength);
    }
}
