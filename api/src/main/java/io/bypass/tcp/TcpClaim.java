package io.bypass.tcp;

import io.bypass.Claim;

/**
 * A flyweight over room in a connection's send queue, claimed with
 * {@link TcpConnection#tryClaim(int, TcpClaim)}. Write the bytes at {@link #offset()} in
 * {@link #buffer()}, then {@link #commit()} (queued; {@link TcpConnection#flush()} sends) or
 * {@link #abort()}. Reuse one instance for every claim.
 */
public final class TcpClaim extends Claim {
    /** Creates an unclaimed flyweight. */
    public TcpClaim() {
        super("TCP send");
    }

    /** {@inheritDoc} */
    @Override
    public void commit(final int actualLength) {
        release(actualLength).commit(token(), actualLength);
    }
}
