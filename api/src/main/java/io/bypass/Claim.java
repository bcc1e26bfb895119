package io.bypass;

import io.bypass.spi.ClaimOwner;
import io.bypass.spi.HotPathErrors;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * What {@link FrameClaim} and {@link io.bypass.udp.DatagramClaim} share: a flyweight over
 * memory the NIC or kernel will send from, handed out by a queue or endpoint and given
 * back with {@link #commit()} or {@link #abort()}. Reuse one instance for every claim.
 */
public abstract class Claim {
    private final UnsafeBuffer buffer = new UnsafeBuffer(0, 0);
    private final String what;
    private ClaimOwner owner;
    private long token;
    private int length;

    /**
     * @param what what is claimed, for error messages ("frame", "datagram")
     */
    protected Claim(final String what) {
        this.what = what;
    }

    /**
     * For backends: points the claim at writable memory.
     *
     * @param owner   the queue or endpoint that commits or aborts it
     * @param token   the owner's handle (descriptor index, mbuf address)
     * @param address start of the writable memory
     * @param length  bytes claimed
     */
    public void wrap(final ClaimOwner owner, final long token, final long address, final int length) {
        this.owner = owner;
        this.token = token;
        this.length = length;
        buffer.wrap(address, length);
    }

    /**
     * @return the buffer to write into; valid until commit or abort
     */
    public MutableDirectBuffer buffer() {
        return buffer;
    }

    /**
     * @return where the claimed bytes start in {@link #buffer()} (always 0 for the built-in backends)
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
     * Queues what was written, with the claimed length.
     */
    public void commit() {
        commit(length);
    }

    /**
     * Queues what was written, shortened to {@code actualLength}.
     *
     * <p>Each claim type implements it with its own copy of the same two lines, calling
     * {@link #release(int)} then its owner: a body shared by all types would give the JIT one
     * profile for queues, datagram endpoints and TCP connections, and would recurse when a
     * datagram claim's commit commits a frame claim, which stops it inlining the send path.
     *
     * @param actualLength bytes actually written, at most {@link #length()}
     * @throws IllegalStateException    if nothing is claimed
     * @throws IllegalArgumentException if {@code actualLength} is outside 0..{@link #length()}
     */
    public abstract void commit(int actualLength);

    /**
     * For {@link #commit(int)}: checks the claim and the length and ends the claim.
     *
     * @param actualLength bytes actually written
     * @return the owner to commit {@link #token()} to
     * @throws IllegalStateException    if nothing is claimed
     * @throws IllegalArgumentException if {@code actualLength} is outside 0..{@link #length()}
     */
    protected final ClaimOwner release(final int actualLength) {
        final ClaimOwner o = owner;
        if (o == null) {
            throw HotPathErrors.notClaimed(what);
        }
        if (actualLength < 0 || actualLength > length) {
            throw HotPathErrors.commitLength(actualLength, length);
        }
        owner = null;
        return o;
    }

    /**
     * @return the owner's handle of the current (or last) claim
     */
    protected final long token() {
        return token;
    }

    /**
     * Gives the claimed memory back unsent.
     *
     * @throws IllegalStateException if nothing is claimed
     */
    public void abort() {
        final ClaimOwner o = owner;
        if (o == null) {
            throw HotPathErrors.notClaimed(what);
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
