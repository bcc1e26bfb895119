package io.bypass.tcp;

/**
 * The connections an RX burst left owing something: an ACK, or the segments an ACK made room for.
 * Each is listed once per burst and served once at its end, so a burst of segments for one
 * connection costs one ACK, and the frames go out with the burst's single TX kick. No allocation
 * after it has grown to the number of connections.
 */
final class TcpPending {
    private L2TcpConnection[] items = new L2TcpConnection[16];
    private int size;

    void add(final L2TcpConnection c) {
        if (c.pendingListed) {
            return;
        }
        c.pendingListed = true;
        if (size == items.length) {
            items = java.util.Arrays.copyOf(items, size * 2);
        }
        items[size++] = c;
    }

    /** Serves and forgets every listed connection. */
    void drain(final L2TcpEndpoint endpoint) {
        for (int i = 0; i < size; i++) {
            final L2TcpConnection c = items[i];
            items[i] = null;
            c.pendingListed = false;
            endpoint.afterBurst(c);
        }
        size = 0;
    }
}
