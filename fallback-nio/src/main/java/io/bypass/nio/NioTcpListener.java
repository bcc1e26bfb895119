package io.bypass.nio;

import io.bypass.BypassException;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpListener;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.function.Consumer;

/**
 * A {@link TcpListener} on a non-blocking {@link ServerSocketChannel}: the kernel completes the
 * handshakes and queues the connections (its backlog), {@link #accept()} takes one.
 *
 * <p>{@link #accept()} asks a {@link Selector} of its own first ({@code selectNow} with an action,
 * which allocates nothing) and calls {@link ServerSocketChannel#accept()} only when a connection
 * waits: the JDK's accept allocates its file descriptor and address holders on every call, even
 * when none does, and an application polls its listener in the same loop as its connections.
 */
final class NioTcpListener implements TcpListener {
    private final NioTcpEndpoint endpoint;
    private final ServerSocketChannel channel;
    private final Selector selector;
    private final Consumer<SelectionKey> onReady = key -> ready = true;
    private final int port;
    private boolean ready;
    private boolean closed;

    NioTcpListener(final NioTcpEndpoint endpoint, final ServerSocketChannel channel, final int port) throws IOException {
        this.endpoint = endpoint;
        this.channel = channel;
        this.port = port;
        this.selector = Selector.open();
        try {
            channel.register(selector, SelectionKey.OP_ACCEPT);
        } catch (final IOException | RuntimeException e) {
            selector.close();
            throw e;
        }
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
            ready = false;
            if (selector.selectNow(onReady) == 0 && !ready) {
                return null;
            }
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
            selector.close();
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
