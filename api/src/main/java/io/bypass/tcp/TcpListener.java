package io.bypass.tcp;

/**
 * A passive open on a local port, from {@link TcpEndpoint#listen(int)}: connections from peers
 * wait here until {@link #accept()} takes them. Use from the endpoint's thread.
 */
public interface TcpListener extends AutoCloseable {
    /** @return the local port listened on */
    int localPort();

    /**
     * Takes one established connection. Allocates the connection's objects (off the hot path: a
     * new connection is not steady state).
     *
     * @return the connection, {@link TcpState#ESTABLISHED}; null when none is waiting
     * @throws io.bypass.BypassException if the listener or its endpoint is closed
     */
    TcpConnection accept();

    /** Stops listening; connections already accepted are not touched. Idempotent. */
    @Override
    void close();
}
