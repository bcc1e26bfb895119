package io.bypass.nio;

import io.bypass.BypassException;
import io.bypass.BypassUriException;
import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.PortUri;
import io.bypass.net.Ipv4;
import io.bypass.spi.Closer;
import io.bypass.spi.PortVlan;
import io.bypass.spi.UriParams;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.tcp.TcpListener;
import io.bypass.tcp.TcpState;
import io.bypass.tcp.TcpUriParams;
import jdk.net.ExtendedSocketOptions;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link TcpEndpoint} on the kernel's TCP: each connection is a non-blocking {@link SocketChannel},
 * each listener a {@link ServerSocketChannel}, bound to the URI's interface address.
 *
 * <h2>URI</h2>
 * {@code nio:[IFACE][?nagle=false&delayedAck=false&sndbuf=BYTES&rcvbuf=BYTES&keepAliveMs=MS]}, keys in
 * {@link TcpUriParams} (and {@code vlan=0} only, as for UDP: open the kernel's VLAN interface instead).
 * <ul>
 *   <li>{@code IFACE}: connections leave from, and listeners listen on, its IPv4 address; empty: any
 *       address (the kernel's routing picks the source).</li>
 *   <li>{@code nagle}: false (the default) sets {@code TCP_NODELAY}: every flush leaves at once.</li>
 *   <li>{@code delayedAck}: what nio does, exactly: with false (the default) each connection gets
 *       {@code TCP_QUICKACK} once, when it is established. Linux does not hold that option: the kernel
 *       falls back to its own policy (quick ACKs at the start of a connection and in interactive
 *       exchanges, else delayed up to 40 ms, or piggybacked on the next send). Keeping it would take a
 *       {@code setsockopt} after every read, a second syscall per poll, which the hot-path rules
 *       forbid. With true nothing is set: the kernel's policy alone. Both values are accepted.</li>
 *   <li>{@code sndbuf}, {@code rcvbuf}: {@code SO_SNDBUF}, {@code SO_RCVBUF} (before the SYN, so the
 *       window scale follows; setting {@code rcvbuf} turns the kernel's autotuning off). Default: the
 *       kernel's, autotuned.</li>
 *   <li>{@code keepAliveMs}: {@code SO_KEEPALIVE} with {@code TCP_KEEPIDLE} and {@code TCP_KEEPINTVL}
 *       at that many milliseconds rounded up to whole seconds (the kernel counts seconds), and
 *       {@code TCP_KEEPCNT} 9; a connection whose probes go unanswered ends "timed out".</li>
 * </ul>
 *
 * <h2>Costs, honestly</h2>
 * A connection's poll is one {@code read} per delivery (one more when the read filled the
 * {@value NioTcpBuffers#RX_CAPACITY}-byte buffer), a flush one {@code write}. Each connection holds
 * {@value NioTcpBuffers#RX_CAPACITY} bytes of receive buffer and a {@value NioTcpBuffers#TX_CAPACITY}-byte
 * send queue, direct memory pooled by the endpoint: a closed connection's go to the next one. The
 * kernel's TCP is the kernel's: no user-space retransmission, window or congestion logic here.
 *
 * <h2>Threads and namespaces</h2>
 * Use the endpoint and its connections from one thread. {@link #connect} and {@link #listen} open
 * sockets, which belong to the network namespace of the calling thread, as {@code bind} and
 * {@code join} do on a UDP endpoint.
 */
public final class NioTcpEndpoint implements TcpEndpoint {
    private static final int BACKLOG = 128;
    private final PortUri uri;
    private final boolean nagle;
    private final boolean delayedAck;
    private final int sndbuf;
    private final int rcvbuf;
    private final int keepAliveSeconds;
    private final InetAddress bindAddress;
    private final Counters counters = new Counters();
    private final NioTcpTable table = new NioTcpTable();
    private final List<NioTcpListener> listeners = new ArrayList<>();
    private volatile boolean closed;

    /**
     * @param uri a {@code nio:} URI
     * @throws BypassUriException naming the key for an unknown key or a bad value
     * @throws BypassException for an unknown interface (listing those here) or one without IPv4
     */
    public NioTcpEndpoint(final PortUri uri) {
        this.uri = uri;
        UriParams.requireOnly(uri, NioUriParams.TCP);
        final int vlan = PortVlan.from(uri);
        if (vlan != PortVlan.UNTAGGED) {
            throw new BypassUriException(uri.text(), "nio: vlan=" + vlan + ": the kernel's interface decides the VLAN; open its "
                + "VLAN interface instead (e.g. nio:" + (uri.target().isEmpty() ? "eth1" : uri.target()) + "." + vlan + ")");
        }
        nagle = TcpUriParams.NAGLE.booleanValue(uri);
        delayedAck = TcpUriParams.DELAYED_ACK.booleanValue(uri);
        sndbuf = UriParams.SNDBUF.intValue(uri, 0);
        rcvbuf = UriParams.RCVBUF.isIn(uri) ? UriParams.RCVBUF.intValue(uri, 1) : 0;
        final int keepAliveMs = TcpUriParams.KEEP_ALIVE_MS.intValue(uri);
        keepAliveSeconds = (keepAliveMs + 999) / 1000;
        bindAddress = resolve(uri);
    }

    private static InetAddress resolve(final PortUri uri) {
        if (uri.target().isEmpty()) {
            return null;
        }
        try {
            final NetworkInterface iface = NetworkInterface.getByName(uri.target());
            if (iface == null) {
                throw new BypassException("nio: no interface named '" + uri.target() + "' in URI '" + uri.text()
                    + "'; interfaces here: " + NioSockets.interfaceNames());
            }
            final Inet4Address v4 = NioSockets.ipv4Of(iface);
            if (v4 == null) {
                throw new BypassException("nio: interface '" + uri.target() + "' has no IPv4 address; assign one (ip addr add "
                    + "A.B.C.D/N dev " + uri.target() + ") or use another interface");
            }
            return v4;
        } catch (final SocketException e) {
            throw new BypassException("nio: cannot look up interface '" + uri.target() + "': " + e.getMessage(), e);
        }
    }

    /** @return {@value NioBackendProvider#NAME} */
    @Override
    public String backend() {
        return NioBackendProvider.NAME;
    }

    @Override
    public PortUri uri() {
        return uri;
    }

    /** @return the interface's IPv4 address connections leave from, 0 for any */
    public int localAddress() {
        return bindAddress == null ? 0 : Ipv4.fromBytes(bindAddress.getAddress());
    }

    @Override
    public TcpConnection connect(final int remoteAddress, final int remotePort) {
        checkOpen();
        checkPort(remotePort);
        if (remoteAddress == 0) {
            throw new IllegalArgumentException("remote address 0.0.0.0");
        }
        final InetSocketAddress remote;
        try {
            remote = new InetSocketAddress(InetAddress.getByAddress(Ipv4.toBytes(remoteAddress)), remotePort);
        } catch (final UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
        SocketChannel ch = null;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.INET);
            configure(ch);
            if (rcvbuf > 0) {
                ch.setOption(StandardSocketOptions.SO_RCVBUF, rcvbuf);
            }
            if (bindAddress != null) {
                ch.bind(new InetSocketAddress(bindAddress, 0));
            }
        } catch (final IOException e) {
            NioTcpEndpoint.closeQuietly(ch);
            throw new BypassException("nio: cannot open a TCP socket on " + describe() + " to " + remote + ": " + e.getMessage()
                + " (the process's open-file limit, ulimit -n, if 'Too many open files')", e);
        }
        counters.increment(Counter.TCP_ACTIVE_OPENS);
        boolean connected = false;
        IOException failure = null;
        try {
            connected = ch.connect(remote);
        } catch (final IOException e) {
            failure = e; // refused or unreachable at once: the connection starts CLOSED, as the hot path would show it
        }
        final NioTcpConnection c = add(ch, connected ? TcpState.ESTABLISHED : TcpState.SYN_SENT, remoteAddress, remotePort);
        c.counters().increment(Counter.TCP_ACTIVE_OPENS);
        if (failure != null) {
            c.connectFailed(failure);
        }
        return c;
    }

    /**
     * For {@link NioTcpListener#accept()}: a connection the kernel accepted.
     *
     * @param ch the accepted socket
     * @return the connection, ESTABLISHED
     */
    TcpConnection accepted(final SocketChannel ch) {
        final int address;
        final int port;
        try {
            configure(ch);
            final InetSocketAddress remote = (InetSocketAddress) ch.getRemoteAddress();
            address = remote.getAddress().hashCode();
            port = remote.getPort();
        } catch (final IOException e) {
            closeQuietly(ch);
            throw new BypassException("nio: cannot set up an accepted TCP connection on " + describe() + ": " + e.getMessage(), e);
        }
        counters.increment(Counter.TCP_PASSIVE_OPENS);
        final NioTcpConnection c = add(ch, TcpState.ESTABLISHED, address, port);
        c.counters().increment(Counter.TCP_PASSIVE_OPENS);
        return c;
    }

    private NioTcpConnection add(final SocketChannel ch, final TcpState state, final int address, final int port) {
        final NioTcpConnection c = new NioTcpConnection(this, table, ch, table.takeBuffers(), state, address, port);
        table.add(c);
        return c;
    }

    private void configure(final SocketChannel ch) throws IOException {
        ch.configureBlocking(false);
        ch.setOption(StandardSocketOptions.TCP_NODELAY, !nagle);
        if (sndbuf > 0) {
            ch.setOption(StandardSocketOptions.SO_SNDBUF, sndbuf);
        }
        if (keepAliveSeconds > 0) {
            ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            ch.setOption(ExtendedSocketOptions.TCP_KEEPIDLE, keepAliveSeconds);
            ch.setOption(ExtendedSocketOptions.TCP_KEEPINTERVAL, keepAliveSeconds);
            ch.setOption(ExtendedSocketOptions.TCP_KEEPCOUNT, 9);
        }
    }

    /**
     * For a connection reaching ESTABLISHED: {@code TCP_QUICKACK} once unless {@code delayedAck=true}.
     *
     * @param ch its socket
     */
    void onEstablished(final SocketChannel ch) {
        if (!delayedAck) {
            try {
                ch.setOption(ExtendedSocketOptions.TCP_QUICKACK, true);
            } catch (final IOException | UnsupportedOperationException e) {
                // the kernel's ACK policy holds anyway (see the class comment)
            }
        }
    }

    @Override
    public TcpListener listen(final int localPort) {
        checkOpen();
        checkPort(localPort);
        ServerSocketChannel ch = null;
        final InetSocketAddress local = new InetSocketAddress(bindAddress, localPort);
        try {
            ch = ServerSocketChannel.open(StandardProtocolFamily.INET);
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            if (rcvbuf > 0) {
                ch.setOption(StandardSocketOptions.SO_RCVBUF, rcvbuf); // accepted sockets inherit it, window scale too
            }
            ch.bind(local, BACKLOG);
            ch.configureBlocking(false);
        } catch (final IOException e) {
            closeQuietly(ch);
            throw new BypassException("nio: cannot listen on TCP " + local + " (" + describe() + "): " + e.getMessage()
                + ("Address already in use".equals(e.getMessage()) ? "; another socket has the port" : ""), e);
        }
        final NioTcpListener l;
        try {
            l = new NioTcpListener(this, ch, localPort);
        } catch (final IOException e) {
            closeQuietly(ch);
            throw new BypassException("nio: cannot open a selector for the TCP listener on " + local + ": " + e.getMessage(), e);
        }
        listeners.add(l);
        return l;
    }

    /** @param l a listener that closed */
    void forget(final NioTcpListener l) {
        listeners.remove(l);
    }

    @Override
    public int poll(final int limit) {
        if (closed) {
            throw NioTcpText.endpointClosed(uri);
        }
        return table.poll(limit);
    }

    @Override
    public Counters counters() {
        return counters;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    /** @return connections not yet CLOSED: open, opening or closing */
    public int connectionCount() {
        return table.count();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        final Closer closer = new Closer("nio: closing TCP endpoint " + uri.text());
        for (final NioTcpListener l : new ArrayList<>(listeners)) {
            closer.close("closing the listener on port " + l.localPort(), l);
        }
        for (int i = table.count() - 1; i >= 0; i--) {
            final NioTcpConnection c = table.get(i);
            closer.run("closing " + NioTcpText.describe(c), c::closeWithEndpoint);
        }
        closed = true;
        table.clearPool();
        closer.throwIfFailed();
    }

    void checkOpen() {
        if (closed) {
            throw NioTcpText.endpointClosed(uri);
        }
    }

    private static void checkPort(final int port) {
        if (port < 1 || port > 65535) {
            throw NioTcpText.badPort(port);
        }
    }

    private String describe() {
        return uri.target().isEmpty() ? "any interface" : "'" + uri.target() + "' (" + Ipv4.toString(localAddress()) + ")";
    }

    private static void closeQuietly(final java.nio.channels.Channel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (final IOException ignored) {
                // nothing more to free
            }
        }
    }

    @Override
    public String toString() {
        return "NioTcpEndpoint[" + uri.text() + (closed ? ", closed]" : ", " + table.count() + " connections]");
    }
}
