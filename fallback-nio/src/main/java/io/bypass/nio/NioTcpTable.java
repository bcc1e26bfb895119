package io.bypass.nio;

import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * An endpoint's connections not yet CLOSED, and the pool of buffers closed ones gave back: what
 * {@link NioTcpEndpoint#poll(int)} walks. Kept apart from the endpoint so the poll path's class holds
 * no string constant (see {@link io.bypass.spi.HotPathErrors}).
 */
final class NioTcpTable {
    private final ArrayDeque<NioTcpBuffers> pool = new ArrayDeque<>();
    private NioTcpConnection[] live = new NioTcpConnection[16];
    private int count;

    /** @return buffers from the pool, or new ones */
    NioTcpBuffers takeBuffers() {
        return pool.isEmpty() ? new NioTcpBuffers() : pool.pop();
    }

    /** @param c a new connection, to drive until it ends */
    void add(final NioTcpConnection c) {
        if (count == live.length) {
            live = Arrays.copyOf(live, live.length * 2);
        }
        c.slot = count;
        live[count++] = c;
    }

    /**
     * @param c       a connection that let go of its socket
     * @param buffers its buffers, for the next connection (null: none)
     */
    void remove(final NioTcpConnection c, final NioTcpBuffers buffers) {
        final int i = c.slot;
        if (i >= 0 && i < count && live[i] == c) {
            final NioTcpConnection last = live[--count];
            live[i] = last;
            last.slot = i;
            live[count] = null;
            c.slot = -1;
        }
        if (buffers != null) {
            pool.push(buffers);
        }
    }

    /**
     * @param limit most units of work
     * @return units of work done driving the connections (opens completed, closes carried on)
     */
    int poll(final int limit) {
        int work = 0;
        // Backwards: a connection that ends leaves its slot to the last one, already visited.
        for (int i = count - 1; i >= 0 && work < limit; i--) {
            work += live[i].drive();
        }
        return work;
    }

    /** @return connections not yet CLOSED */
    int count() {
        return count;
    }

    /**
     * @param i 0..count()-1
     * @return that connection
     */
    NioTcpConnection get(final int i) {
        return live[i];
    }

    /** Drops the pooled buffers (the endpoint is closing); the GC frees their memory. */
    void clearPool() {
        pool.clear();
    }
}
