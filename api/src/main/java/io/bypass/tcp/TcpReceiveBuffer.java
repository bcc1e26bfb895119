package io.bypass.tcp;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A connection's receive side: a ring addressed by stream offset (0 is the first byte after the
 * peer's SYN). [{@link #readOffset()}, {@link #nextOffset()}) are bytes received in order and not
 * yet handed to the application; bytes that arrived ahead of a hole are written where they belong
 * and remembered as up to {@value #MAX_RANGES} ranges (kept in order, overlapping and touching ones
 * joined), and join the in-order bytes when the hole is filled. Everything held lies within one ring's length of the read offset, so the window this
 * side advertises ({@link #window()}) is exactly the room left, and nothing is ever overwritten.
 */
final class TcpReceiveBuffer {
    /**
     * Most separate out-of-order ranges held; a segment that would need another is dropped (the peer
     * resends it). 5% random loss over a 1 MiB window of 1448-byte segments leaves about 36 holes.
     */
    static final int MAX_RANGES = 64;

    private final UnsafeBuffer ring;
    private final int capacity;
    private final int mask;
    private final long[] rangeStart = new long[MAX_RANGES];
    private final long[] rangeEnd = new long[MAX_RANGES];
    /** When each range last grew (a count of held segments): SACK blocks go most recent first (RFC 2018 4). */
    private final long[] rangeTouched = new long[MAX_RANGES];
    private long touches;
    private int ranges;
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

    /** Holds [from, to): joins every range it overlaps or touches, else inserts it in order. */
    private boolean addRange(final long from, final long to) {
        int first = 0;
        while (first < ranges && rangeEnd[first] < from) {
            first++;
        }
        int last = first;
        while (last < ranges && rangeStart[last] <= to) {
            last++;
        }
        // ranges [first, last) meet [from, to)
        if (first == last) {
            if (ranges == MAX_RANGES) {
                return false;
            }
            shift(first, first + 1);
            rangeStart[first] = from;
            rangeEnd[first] = to;
        } else {
            rangeStart[first] = Math.min(rangeStart[first], from);
            rangeEnd[first] = Math.max(rangeEnd[last - 1], to);
            shift(last, first + 1);
        }
        rangeTouched[first] = ++touches;
        return true;
    }

    /** Moves ranges [from, ranges) to start at {@code to}. */
    private void shift(final int from, final int to) {
        final int n = ranges - from;
        System.arraycopy(rangeStart, from, rangeStart, to, n);
        System.arraycopy(rangeEnd, from, rangeEnd, to, n);
        System.arraycopy(rangeTouched, from, rangeTouched, to, n);
        ranges += to - from;
    }

    /** Moves the in-order end over every held range it reaches, and forgets ranges it passed. */
    private void merge() {
        int passed = 0;
        while (passed < ranges && rangeStart[passed] <= nextOffset) {
            nextOffset = Math.max(nextOffset, rangeEnd[passed]);
            passed++;
        }
        if (passed > 0) {
            shift(passed, 0);
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
     * Picks the ranges for the next SACK option: the one the latest segment went to first, then the
     * others that grew most recently (RFC 2018 4; the peer keeps what earlier ACKs reported).
     *
     * @param into  indexes for {@link #rangeStart(int)}, filled from 0
     * @param count blocks wanted
     * @return blocks picked: at most {@code count} and {@link #ranges()}
     */
    int sackOrder(final int[] into, final int count) {
        final int n = Math.min(count, ranges);
        for (int k = 0; k < n; k++) {
            long best = -1;
            int pick = -1;
            final long below = k == 0 ? Long.MAX_VALUE : rangeTouched[into[k - 1]];
            for (int i = 0; i < ranges; i++) {
                final long t = rangeTouched[i];
                if (t < below && t > best) {
                    best = t;
                    pick = i;
                }
            }
            into[k] = pick;
        }
        return n;
    }

    /** @return the start offset of held range {@code i} (in stream order) */
    long rangeStart(final int i) {
        return rangeStart[i];
    }

    /** @return the end offset of held range {@code i} (see {@link #rangeStart(int)}) */
    long rangeEnd(final int i) {
        return rangeEnd[i];
    }

    /** @return the held out-of-order ranges, for diagnostics: {@code [from,to)...} */
    String describeRanges() {
        final StringBuilder b = new StringBuilder();
        for (int i = 0; i < ranges; i++) {
            b.append('[').append(rangeStart[i]).append(',').append(rangeEnd[i]).append(')');
        }
        return b.toString();
    }

    /** Drops everything held (the connection ended). */
    void discard() {
        readOffset = nextOffset;
        ranges = 0;
    }
}
