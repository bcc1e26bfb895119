package io.bypass.nio;

import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.tcp.TcpConnection;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;

/**
 * What a {@link NioTcpConnection} is, apart from what it does: its socket, the addresses and ports
 * of both ends, and its counters (each added to the endpoint's too). The state machine, the send
 * queue and the close are {@link NioTcpConnection}'s.
 */
abstract class NioTcpConnectionBase implements TcpConnection {
    /** The connection's socket: connected or connecting, non-blocking. */
    final SocketChannel channel;
    private final Counters counters = new Counters();
    private final Counters total;
    private final int remoteAddress;
    private final int remotePort;
    private int localAddress;
    private int localPort;

    NioTcpConnectionBase(final SocketChannel channel, final Counters total, final int remoteAddress, final int remotePort) {
        this.channel = channel;
        this.total = total;
        this.remoteAddress = remoteAddress;
        this.remotePort = remotePort;
    }

    /** Adds to this connection's counter and the endpoint's. */
    final void count(final Counter c, final long delta) {
        counters.add(c, delta);
        total.add(c, delta);
    }

    /** Reads the local address and port the kernel gave the socket (0 while unknown). */
    final void readLocalAddress() {
        try {
            if (channel.getLocalAddress() instanceof InetSocketAddress local) {
                localAddress = local.getAddress().hashCode(); // Inet4Address.hashCode() is the address
                localPort = local.getPort();
            }
        } catch (final IOException e) {
            // closed meanwhile: the local address stays unknown (0)
        }
    }

    @Override
    public final int localAddress() {
        return localAddress;
    }

    @Override
    public final int localPort() {
        return localPort;
    }

    @Override
    public final int remoteAddress() {
        return remoteAddress;
    }

    @Override
    public final int remotePort() {
        return remotePort;
    }

    @Override
    public final Counters counters() {
        return counters;
    }
}
