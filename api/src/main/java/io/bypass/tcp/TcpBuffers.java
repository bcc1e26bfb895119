package io.bypass.tcp;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayDeque;

/**
 * The endpoint's pool of connection memory: send rings, claim scratch areas and receive rings,
 * off-heap (claims point at them by address). A connection takes a set when it is made and gives
 * it back when it leaves the endpoint's table, so a thousand short connections in a row reuse a
 * few sets instead of making a thousand.
 */
final class TcpBuffers {
    private final int sendCapacity;
    private final int scratchCapacity;
    private final int receiveCapacity;
    private final ArrayDeque<UnsafeBuffer> sends = new ArrayDeque<>();
    private final ArrayDeque<UnsafeBuffer> scratches = new ArrayDeque<>();
    private final ArrayDeque<UnsafeBuffer> receives = new ArrayDeque<>();

    TcpBuffers(final int sendCapacity, final int scratchCapacity, final int receiveCapacity) {
        this.sendCapacity = sendCapacity;
        this.scratchCapacity = scratchCapacity;
        this.receiveCapacity = receiveCapacity;
    }

    /** @return {@code n} rounded up to a power of two, at least 4096 */
    static int powerOfTwo(final int n) {
        return Math.max(4096, Integer.highestOneBit(Math.max(1, n - 1)) << 1);
    }

    /** @return the RFC 7323 window scale that lets a window of {@code receiveCapacity} bytes be advertised */
    static int windowScale(final int receiveCapacity) {
        int scale = 0;
        while (scale < io.bypass.net.Tcp.MAX_WINDOW_SCALE && (receiveCapacity >>> scale) > 0xFFFF) {
            scale++;
        }
        return scale;
    }

    int receiveCapacity() {
        return receiveCapacity;
    }

    private static UnsafeBuffer take(final ArrayDeque<UnsafeBuffer> pool, final int capacity) {
        final UnsafeBuffer b = pool.poll();
        return b != null ? b : new UnsafeBuffer(BufferUtil.allocateDirectAligned(capacity, 64));
    }

    UnsafeBuffer takeSend() {
        return take(sends, sendCapacity);
    }

    UnsafeBuffer takeScratch() {
        return take(scratches, scratchCapacity);
    }

    UnsafeBuffer takeReceive() {
        return take(receives, receiveCapacity);
    }

    void give(final UnsafeBuffer send, final UnsafeBuffer scratch, final UnsafeBuffer receive) {
        sends.push(send);
        scratches.push(scratch);
        receives.push(receive);
    }

    /** Forgets every pooled buffer (the cleaner frees them). */
    void clear() {
        sends.clear();
        scratches.clear();
        receives.clear();
    }
}
