package io.bypass.udp;

import io.bypass.spi.ClaimOwner;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A flyweight over the payload of a datagram claimed with
 * {@link UdpEndpoint#tryClaim(UdpDestination, int, DatagramClaim)}. Write the payload at
 * {@link #offset()}, then {@link #commit()} or {@link #abort()}; headers are written by
 * the endpoint. Reuse one instance for every claim.
 */
public final class DatagramClaim {
    private final UnsafeBuffer buffer = new UnsafeBuffer(0, 0);
    private ClaimOwner owner;
    private long token;
    private int length;

    /** Creates an unclaimed flyweight. */
    public DatagramClaim() {
    }

    /**
     * For backends: points the claim at payload memory.
     *
     * @param owner   who commits or aborts it
     * @param token   the owner's handle
     * @param address start of the payload memory
     * @param length  payload bytes claimed
     */
    public void wrap(final ClaimOwner owner, final long token, final long address, final int length) {
        this.owner = owner;
        this.token = token;
        this.length = length;
        buffer.wrap(address, length);
    }

    /** @return where to write the payload; valid until commit or abort */
    public MutableDirectBuffer buffer() {
        return buffer;
    }

    /** @return where the payload starts in {@link #buffer()} (0) */
    public int offset() {
        return 0;
    }

    /** @return payload bytes claimed */
    public int length() {
        return length;
    }

    /** Sends the datagram with the claimed length (at the next flush on L2 backends). */
    public void commit() {
        commit(length);
    }

    /**
     * Sends the datagram, shortened to {@code actualLength}.
     *
     * @param actualLength payload bytes actually written, at most {@link #length()}
     */
    public void commit(final int actualLength) {
        final ClaimOwner o = owner;
        if (o == null) {
            throw new IllegalStateException("no datagram claimed");
        }
        if (actualLength < 0 || actualLength > length) {
            throw new IllegalArgumentException("commit length " + actualLength + " outside 0.." + length);
        }
        owner = null;
        o.commit(token, actualLength);
    }

    /** Gives the claim back unsent. */
    public void abort() {
        final ClaimOwner o = owner;
        if (o == null) {
            throw new IllegalStateException("no datagram claimed");
        }
        owner = null;
        o.abort(token);
    }

    /** @return true between a successful claim and its commit or abort */
    public boolean isClaimed() {
        return owner != null;
    }
}
