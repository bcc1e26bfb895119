package io.bypass.tcp;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A connection's receive side: a ring addressed by stream offset (0 is the first byte after the
 * peer's SYN). [{@link #readOffset()}, {@link #nextOffset()}) are bytes received in order and not
 * yet handed to the application; bytes that arrived ahead of a hole are written where they belong
 * and remembered as up to {@value #MAX_RANGES} ranges, and join the in-order bytes when the hole
 * is filled. Everything held lies within one ring's length of the read offset, so the window this
 * side advertises ({@link #window()}) is exactly the room left, and nothing is ever overwritten.
 */
final class TcpReceiveBuffer {
    /** Most separate out-of-order ranges held; a segment that would need another is dropped (the peer resends it). */
    static final int MAX_RANGES = 16;

    private final UnsafeBuffer ring;
    private final int capacity;
    private final int mask;
    private final long[] rangeStart = new long[MAX_RANGES];
    private final long[] rangeEnd = new long[MAX_RANGES];
    private int ranges;
    /** The range the latest out-of-order segment went to: the first SACK block (RFC 2018 4). */
    private int lastRange;
    private long readOffset;
    private long nextOffset;

    TcpReceiveBuffer(final UnsafeBuffer ring) {
        this.ring = ring;
        this.capacity = ring.capacity();
        this.mask = capacity - 1;
    }

    UnsafeBuffer ring() {
        return ring;
    }

    /** @return stream offset of the next byte the application gets */
    long readOffset() {
        return readOffset;
    }

    /** @return stream offset just after the bytes received in order (RCV.NXT's offset) */
    long nextOffset() {
        return nextOffset;
    }

    /** @return in-order bytes waiting for the application */
    int buffered() {
        return (int) (nextOffset - readOffset);
    }

    /** @return room for more bytes: the receive window */
    int window() {
        return capacity - buffered();
    }

    /** @return true if bytes past a hole are held */
    boolean hasOutOfOrder() {
        return ranges != 0;
    }

    /**
     * Takes in-order bytes without copying them (they went to the application straight from the
     * frame): only when nothing is buffered before them.
     */
    void consumedInPlace(final int length) {
        readOffset += length;
        nextOffset += length;
        merge();
    }

    /** Takes in-order bytes that are read and thrown away (after close()). */
    void skip(final int length) {
        nextOffset += length;
        merge();
        readOffset = nextOffset;
    }

    /**
     * Stores a segment's bytes, trimmed to the window.
     *
     * @param offset stream offset of {@code src[srcOffset]}
     * @return 1 if in-order bytes were added, 0 if they were held out of order, -1 if dropped
     *         (no range left, or nothing new)
     */
    int write(final long offset, final DirectBuffer src, final int srcOffset, final int length) {
        long from = offset;
        int skip = 0;
        if (from < nextOffset) {
            skip = (int) (nextOffset - from);
            from = nextOffset;
        }
        final long limit = readOffset + capacity;
        final long to = Math.min(offset + length, limit);
        if (to <= from) {
            return -1;
        }
        final int n = (int) (to - from);
        if (from != nextOffset && !addRange(from, to)) {
            return -1;
        }
        copyIn(from, src, srcOffset + skip, n);
        if (from == nextOffset) {
            nextOffset = to;
            merge();
            return 1;
        }
        return 0;
    }

    private void copyIn(final long at, final DirectBuffer src, final int srcOffset, final int length) {
        final int pos = (int) (at & mask);
        final int first = Math.min(length, capacity - pos);
        ring.putBytes(pos, src, srcOffset, first);
        if (first < length) {
            ring.putBytes(0, src, srcOffset + first, length - first);
        }
    }

    private boolean addRange(final long from, final long to) {
        for (int i = 0; i < ranges; i++) {
            if (from <= rangeEnd[i] && to >= rangeStart[i]) {
                rangeStart[i] = Math.min(rangeStart[i], from);
                rangeEnd[i] = Math.max(rangeEnd[i], to);
                lastRange = i;
                return true;
            }
        }
        if (ranges == MAX_RANGES) {
            return false;
        }
        rangeStart[ranges] = from;
        rangeEnd[ranges] = to;
        lastRange = ranges;
        ranges++;
        return true;
    }

    /** Moves the in-order end over every held range it reaches, and forgets ranges it passed. */
    private void merge() {
        boolean moved = true;
        while (moved && ranges > 0) {
            moved = false;
            for (int i = 0; i < ranges; i++) {
                if (rangeStart[i] <= nextOffset) {
                    if (rangeEnd[i] > nextOffset) {
                        nextOffset = rangeEnd[i];
                    }
                    ranges--;
                    rangeStart[i] = rangeStart[ranges];
                    rangeEnd[i] = rangeEnd[ranges];
                    moved = true;
                    break;
                }
            }
        }
    }

    /**
     * Hands buffered in-order bytes to {@code handler}: at most two calls (the ring may wrap).
     *
     * @return calls made
     */
    int deliver(final TcpHandler handler, final int limit) {
        int calls = 0;
        while (calls < limit && nextOffset > readOffset) {
            final int pos = (int) (readOffset & mask);
            final int n = (int) Math.min(nextOffset - readOffset, capacity - pos);
            readOffset += n; // before the call: a handler that closes or polls sees the bytes taken
            handler.onData(ring, pos, n);
            calls++;
        }
        return calls;
    }

    /** @return out-of-order ranges held */
    int ranges() {
        return ranges;
    }

    /**
     * @param k 0 for the range the latest segment went to, then the others
     * @return the k-th range's start offset
     */
    long rangeStart(final int k) {
        return rangeStart[rangeIndex(k)];
    }

    /** @return the k-th range's end offset (see {@link #rangeStart(int)}) */
    long rangeEnd(final int k) {
        return rangeEnd[rangeIndex(k)];
    }

    private int rangeIndex(final int k) {
        final int last = lastRange < ranges ? lastRange : 0;
        return k == 0 ? last : k <= last ? k - 1 : k;
    }

    /** Drops everything held (the connection ended). */
    void discard() {
        readOffset = nextOffset;
        ranges = 0;
    }
}
