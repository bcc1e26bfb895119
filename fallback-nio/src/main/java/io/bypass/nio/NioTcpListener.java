package io.bypass.nio;

import io.bypass.BypassException;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpListener;

import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * A {@link TcpListener} on a non-blocking {@link ServerSocketChannel}: the kernel completes the
 * handshakes and queues the connections (its backlog), {@link #accept()} takes one.
 */
final class NioTcpListener implements TcpListener {
    private final NioTcpEndpoint endpoint;
    private final ServerSocketChannel channel;
    private final int port;
    private boolean closed;

    NioTcpListener(final NioTcpEndpoint endpoint, final ServerSocketChannel channel, final int port) {
        this.endpoint = endpoint;
        this.channel = channel;
        this.port = port;
    }

    @Override
    public int localPort() {
        return port;
    }

    @Override
    public TcpConnection accept() {
        if (closed) {
            throw new BypassException("nio: TCP listener on port " + port + " is closed");
        }
        endpoint.checkOpen();
        final SocketChannel accepted;
        try {
            accepted = channel.accept();
        } catch (final IOException e) {
            throw new BypassException("nio: accept on TCP port " + port + " failed: " + e.getMessage()
                + " (the process's open-file limit, ulimit -n, if 'Too many open files')", e);
        }
        return accepted == null ? null : endpoint.accepted(accepted);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        endpoint.forget(this);
        try {
            channel.close();
        } catch (final IOException e) {
            throw new BypassException("nio: closing the TCP listener on port " + port + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "NioTcpListener[port " + port + (closed ? ", closed]" : "]");
    }
}
