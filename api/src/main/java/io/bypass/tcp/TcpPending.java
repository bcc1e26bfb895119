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
    /** A connection whose ACK waits for the application's answer, until the next poll. */
    private L2TcpConnection owedAck;

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

    /**
     * Serves and forgets every listed connection: sends what its windows allow, then any ACK it still
     * owes, except {@code polled}'s: the application that just took its bytes in place is about to
     * answer (an order's acknowledgement, a ping's echo), and the answer carries the ACK, one frame
     * each way instead of two. What the answer did not carry goes at the start of the next poll
     * ({@link #settleOwedAck}).
     *
     * @param polled the connection whose handler took bytes in this poll, or null
     */
    void drain(final L2TcpEndpoint endpoint, final L2TcpConnection polled) {
        final TcpOutput out = endpoint.output();
        for (int i = 0; i < size; i++) {
            final L2TcpConnection c = items[i];
            items[i] = null;
            c.pendingListed = false;
            if (c.state == TcpState.CLOSED) {
                continue;
            }
            if (c.pushing) {
                out.send(c, endpoint.nanoTime());
            }
            if (c.ackPending && !delays(endpoint, c)) {
                if (c == polled && !c.ackUrgent) {
                    owedAck = c;
                } else {
                    out.ack(c);
                }
            }
        }
        size = 0;
    }

    /** Sends the ACK the last poll's connection owed, if nothing it sent since carried it. */
    void settleOwedAck(final TcpOutput out) {
        final L2TcpConnection c = owedAck;
        if (c != null) {
            owedAck = null;
            if (c.ackPending && c.state != TcpState.CLOSED) {
                out.ack(c);
            }
        }
    }

    /** With {@code delayedAck=true}: the ACK waits for a second segment or the delayed-ACK timer. */
    private static boolean delays(final L2TcpEndpoint endpoint, final L2TcpConnection c) {
        return endpoint.delayedAck() && c.delayedAckDeadline != 0 && !c.finReceived && c.unackedSegments < 2;
    }
}
