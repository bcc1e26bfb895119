package io.bypass.tcp;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A connection's send queue: the bytes committed and not yet acknowledged, kept for
 * retransmission, in a ring. Positions are stream offsets ({@code long}, from 0 at the first byte
 * after the SYN): [{@link #start()}, {@link #end()}) is held; the connection tracks how much of it
 * has been sent. A claim that would wrap the ring is written into a scratch area and copied in at
 * commit, so every claim is contiguous. Memory comes from the endpoint's {@link TcpBuffers} pool.
 */
final class TcpSendBuffer {
    private final UnsafeBuffer ring;
    private final UnsafeBuffer scratch;
    private final int capacity;
    private final int mask;
    private final int maxClaim;
    private long start;
    private long end;
    private boolean claimInScratch;

    TcpSendBuffer(final UnsafeBuffer ring, final UnsafeBuffer scratch) {
        this.ring = ring;
        this.scratch = scratch;
        this.capacity = ring.capacity();
        this.mask = capacity - 1;
        this.maxClaim = Math.min(capacity, scratch.capacity());
    }

    UnsafeBuffer ring() {
        return ring;
    }

    UnsafeBuffer scratch() {
        return scratch;
    }

    long start() {
        return start;
    }

    long end() {
        return end;
    }

    int capacity() {
        return capacity;
    }

    int maxClaim() {
        return maxClaim;
    }

    /** @return room left for claims */
    int room() {
        return capacity - (int) (end - start);
    }

    /**
     * @param length bytes, at most {@link #room()} and {@link #maxClaim()}
     * @return the address claimed bytes go to (the ring, or the scratch area when they would wrap)
     */
    long claimAddress(final int length) {
        final int pos = (int) (end & mask);
        claimInScratch = pos + length > capacity;
        return claimInScratch ? scratch.addressOffset() : ring.addressOffset() + pos;
    }

    /** Appends {@code length} claimed bytes to the queue. */
    void commit(final int length) {
        if (claimInScratch) {
            write(end, scratch, 0, length);
            claimInScratch = false;
        }
        end += length;
    }

    /** Appends a copy of {@code length} bytes. */
    void append(final org.agrona.DirectBuffer src, final int offset, final int length) {
        write(end, src, offset, length);
        end += length;
    }

    private void write(final long at, final org.agrona.DirectBuffer src, final int offset, final int length) {
        final int pos = (int) (at & mask);
        final int first = Math.min(length, capacity - pos);
        ring.putBytes(pos, src, offset, first);
        if (first < length) {
            ring.putBytes(0, src, offset + first, length - first);
        }
    }

    /** Copies {@code length} bytes from stream offset {@code at} out to {@code dst}. */
    void copyOut(final long at, final MutableDirectBuffer dst, final int dstOffset, final int length) {
        final int pos = (int) (at & mask);
        final int first = Math.min(length, capacity - pos);
        dst.putBytes(dstOffset, ring, pos, first);
        if (first < length) {
            dst.putBytes(dstOffset + first, ring, 0, length - first);
        }
    }

    /** Drops what the peer acknowledged: everything before {@code offset}. */
    void acknowledge(final long offset) {
        if (offset > start) {
            start = Math.min(offset, end);
        }
    }
}
