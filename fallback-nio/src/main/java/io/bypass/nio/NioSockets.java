package io.bypass.nio;

import io.bypass.BypassException;
import io.bypass.PortUri;
import io.bypass.net.Ipv4;
import io.bypass.spi.RxStallBudget;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * How a {@link NioUdpEndpoint} opens its sockets: the interface its URI names (or the
 * default one), the address sockets bind to, and the options every socket gets
 * ({@code SO_RCVBUF} sized from the stall budget, {@code SO_SNDBUF}, {@code IP_MULTICAST_IF},
 * {@code IP_MULTICAST_LOOP}, {@code IP_MULTICAST_TTL}); after binding, a receiving socket's
 * buffer is checked and forced past {@code net.core.rmem_max} where privileged, with one
 * warning when it cannot be ({@link ReceiveBuffer}). Off the hot path.
 */
final class NioSockets {
    private static final System.Logger LOG = System.getLogger("io.bypass.nio");

    private final PortUri uri;
    private final NetworkInterface iface;
    private final int ifaceAddress;
    private final InetAddress bindAddress;
    private final int mtu;
    private final boolean loop;
    private final int ttl;
    private final int rcvbuf;
    private final int sndbuf;
    private final RxStallBudget budget;
    private String receiveBufferShortfall;

    /**
     * Resolves the URI's interface: {@code uri.target()}, or when empty the first up,
     * multicast-capable, non-loopback interface with IPv4 (else {@code lo}), bound as the
     * wildcard address.
     *
     * @param uri    the endpoint's URI, for its target and error messages
     * @param loop   {@code IP_MULTICAST_LOOP}
     * @param ttl    {@code IP_MULTICAST_TTL}
     * @param rcvbuf {@code SO_RCVBUF} to ask of every socket
     * @param sndbuf {@code SO_SNDBUF}, 0 for the kernel's
     * @param budget the stall budget {@code rcvbuf} comes from, for the shortfall warning
     * @throws BypassException for an unknown interface (listing those that exist) or one without IPv4
     */
    NioSockets(final PortUri uri, final boolean loop, final int ttl, final int rcvbuf, final int sndbuf,
               final RxStallBudget budget) {
        this.uri = uri;
        this.loop = loop;
        this.ttl = ttl;
        this.rcvbuf = rcvbuf;
        this.sndbuf = sndbuf;
        this.budget = budget;
        try {
            if (uri.target().isEmpty()) {
                iface = defaultMulticastInterface();
                ifaceAddress = 0;
                bindAddress = InetAddress.getByAddress(new byte[4]);
            } else {
                iface = NetworkInterface.getByName(uri.target());
                if (iface == null) {
                    throw new BypassException("nio: no interface named '" + uri.target() + "' in URI '" + uri.text()
                        + "'; interfaces here: " + interfaceNames());
                }
                final Inet4Address v4 = ipv4Of(iface);
                if (v4 == null) {
                    throw new BypassException("nio: interface '" + uri.target() + "' has no IPv4 address; assign one (ip addr add A.B.C.D/N dev "
                        + uri.target() + ") or use another interface");
                }
                ifaceAddress = Ipv4.fromBytes(v4.getAddress());
                bindAddress = v4;
            }
            mtu = iface == null ? 1500 : iface.getMTU();
        } catch (final SocketException | java.net.UnknownHostException e) {
            throw new BypassException("nio: cannot look up interface '" + uri.target() + "': " + e.getMessage(), e);
        }
    }

    /** @return the interface groups are joined and multicast sent on, or null if there is none */
    NetworkInterface iface() {
        return iface;
    }

    /** @return the interface's IPv4 address, 0 when bound to the wildcard address */
    int ifaceAddress() {
        return ifaceAddress;
    }

    /** @return the address bound ports bind to: the interface's, or the wildcard */
    InetAddress bindAddress() {
        return bindAddress;
    }

    /** @return the interface's MTU as the kernel reports it, 1500 without an interface */
    int mtu() {
        return mtu;
    }

    /** @return the {@code SO_RCVBUF} asked of every socket */
    int rcvbuf() {
        return rcvbuf;
    }

    /** @return the interface for messages: its name and address, or "any interface" */
    String describe() {
        return uri.target().isEmpty() ? "any interface" : "'" + uri.target() + "' (" + Ipv4.toString(ifaceAddress) + ")";
    }

    /**
     * Opens a non-blocking IPv4 socket with every option set, not yet bound.
     *
     * @param reuse {@code SO_REUSEADDR}, for group sockets other processes may bind too
     * @return the socket
     * @throws IOException if the kernel refuses; the socket is closed then
     */
    DatagramChannel open(final boolean reuse) throws IOException {
        final DatagramChannel ch = DatagramChannel.open(StandardProtocolFamily.INET);
        try {
            ch.configureBlocking(false);
            if (reuse) {
                ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            }
            ch.setOption(StandardSocketOptions.SO_RCVBUF, rcvbuf);
            if (sndbuf > 0) {
                ch.setOption(StandardSocketOptions.SO_SNDBUF, sndbuf);
            }
            if (iface != null) {
                ch.setOption(StandardSocketOptions.IP_MULTICAST_IF, iface);
            }
            ch.setOption(StandardSocketOptions.IP_MULTICAST_LOOP, loop);
            ch.setOption(StandardSocketOptions.IP_MULTICAST_TTL, ttl);
            return ch;
        } catch (final IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /**
     * Gives a bound receiving socket the buffer the stall budget asks for (forcing past
     * {@code net.core.rmem_max} where privileged), and says once when it cannot.
     *
     * @param s a socket just bound and tracked (its inode known, if findable)
     */
    void sizeReceiveBuffer(final NioSocket s) {
        final String shortfall = ReceiveBuffer.ensure(s.channel, s.inode, rcvbuf);
        if (shortfall != null && receiveBufferShortfall == null) {
            receiveBufferShortfall = shortfall;
            // this socket is the smallest: every socket before it got what it asked for
            LOG.log(System.Logger.Level.WARNING, "nio: " + shortfall + "; the socket holds about "
                + String.format(java.util.Locale.ROOT, "%.1f", budget.stallMsFor(2L * rcvbufOf(s.channel) / ReceiveBuffer.BYTES_PER_DATAGRAM))
                + " ms of datagrams at " + budget.ratePps() + " pps against a stall budget of " + budget.stallMs()
                + " ms: raise it with 'sysctl -w net.core.rmem_max=" + rcvbuf + "', run with CAP_NET_ADMIN, "
                + "or lower rxStallMs/rxStallPps in the URI");
        }
    }

    /** @return why a receiving socket got less buffer than the stall budget asks, or null if none did */
    String receiveBufferShortfall() {
        return receiveBufferShortfall;
    }

    /**
     * @param ch a socket
     * @return its {@code SO_RCVBUF} as Java reports it, 0 if it cannot be read
     */
    static int rcvbufOf(final DatagramChannel ch) {
        try {
            return ch.getOption(StandardSocketOptions.SO_RCVBUF);
        } catch (final IOException e) {
            return 0;
        }
    }

    /** @param ch a socket to close, or null; a failure to close is ignored: nothing more to free */
    static void closeQuietly(final DatagramChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (final IOException ignored) {
                // nothing more to free
            }
        }
    }

    static Inet4Address ipv4Of(final NetworkInterface ni) {
        for (final InetAddress a : Collections.list(ni.getInetAddresses())) {
            if (a instanceof Inet4Address v4) {
                return v4;
            }
        }
        return null;
    }

    private static NetworkInterface defaultMulticastInterface() throws SocketException {
        NetworkInterface lo = null;
        for (final NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!ni.isUp() || ipv4Of(ni) == null) {
                continue;
            }
            if (ni.isLoopback()) {
                lo = lo == null ? ni : lo;
            } else if (ni.supportsMulticast()) {
                return ni;
            }
        }
        return lo;
    }

    static String interfaceNames() {
        try {
            final List<String> names = new ArrayList<>();
            for (final NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                names.add(ni.getName());
            }
            Collections.sort(names);
            return String.join(", ", names);
        } catch (final SocketException e) {
            return "(cannot list: " + e.getMessage() + ")";
        }
    }
}
