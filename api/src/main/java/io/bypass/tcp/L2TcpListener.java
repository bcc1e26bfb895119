package io.bypass.tcp;

import java.util.ArrayDeque;

/**
 * A passive open on {@link L2TcpEndpoint}: a SYN to its port makes a connection in
 * {@link TcpState#SYN_RECEIVED} (answered with a SYN-ACK); once the handshake completes the
 * connection waits here for {@link #accept()}. At most {@value #BACKLOG} connections wait or are
 * half open; SYNs beyond that are dropped (the peer retries).
 */
final class L2TcpListener implements TcpListener {
    /** Most connections half open or waiting to be accepted. */
    static final int BACKLOG = 128;

    private final L2TcpEndpoint endpoint;
    private final int localPort;
    private final ArrayDeque<L2TcpConnection> ready = new ArrayDeque<>();
    int pending;
    boolean closed;
    /** The rule steering segments to this port, where the kernel keeps the address; null elsewhere. */
    io.bypass.FlowRule flow;

    L2TcpListener(final L2TcpEndpoint endpoint, final int localPort) {
        this.endpoint = endpoint;
        this.localPort = localPort;
    }

    /** {@inheritDoc} */
    @Override
    public int localPort() {
        return localPort;
    }

    boolean full() {
        return pending + ready.size() >= BACKLOG;
    }

    /** A connection of this listener's completed its handshake. */
    void ready(final L2TcpConnection c) {
        pending--;
        c.listener = null;
        endpoint.steering.accepted(c); // its own rule: it may outlive this listener
        ready.add(c);
    }

    /** A half-open connection of this listener's ended. */
    void abandoned(final L2TcpConnection c) {
        pending--;
        c.listener = null;
    }

    /** {@inheritDoc} */
    @Override
    public TcpConnection accept() {
        if (closed || endpoint.isClosed()) {
            throw endpoint.closedException();
        }
        final L2TcpConnection c = ready.poll();
        if (c != null) {
            c.count(io.bypass.Counter.TCP_PASSIVE_OPENS);
        }
        return c;
    }

    /** {@inheritDoc} */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (L2TcpConnection c = ready.poll(); c != null; c = ready.poll()) {
            c.abort(); // never accepted: the peer sees a reset, as from a kernel listener closed with a backlog
        }
        endpoint.unlisten(this);
    }
}
