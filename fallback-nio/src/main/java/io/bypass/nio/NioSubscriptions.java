package io.bypass.nio;

import io.bypass.BypassException;
import io.bypass.net.Ipv4;
import io.bypass.spi.Closer;
import io.bypass.spi.UdpRules;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.channels.MembershipKey;
import java.util.ArrayList;
import java.util.List;

/**
 * The receiving sockets of a {@link NioUdpEndpoint}: one per bound port, and one per joined
 * group with its multicast membership on the endpoint's interface. Each is opened through
 * {@link NioSockets}, tracked for its kernel drop count ({@link UdpStats}) and its receive
 * buffer sized. {@link #sockets()} is the array poll reads, rebuilt off the hot path
 * whenever a socket comes or goes. Arguments are checked by the endpoint; use from the
 * endpoint's thread.
 */
final class NioSubscriptions {
    private static final NioSocket[] NONE = new NioSocket[0];

    private final NioSockets opener;
    private final UdpStats stats;
    private final List<NioSocket> unicast = new ArrayList<>();
    private final List<NioSocket> groups = new ArrayList<>();
    private NioSocket[] sockets = NONE;

    /**
     * @param opener opens sockets with the endpoint's options on its interface
     * @param stats  tracks each socket's kernel drops
     */
    NioSubscriptions(final NioSockets opener, final UdpStats stats) {
        this.opener = opener;
        this.stats = stats;
    }

    /**
     * Binds a socket to the interface's address (the wildcard without one) on {@code port}.
     *
     * @param port a valid UDP port
     * @return the bound socket's channel, which the endpoint then sends from
     * @throws BypassException if the port is bound here already or taken, naming address and port
     */
    DatagramChannel bind(final int port) {
        for (final NioSocket s : unicast) {
            if (s.port == port) {
                throw new BypassException("nio: already bound to port " + port);
            }
        }
        DatagramChannel ch = null;
        try {
            ch = opener.open(false);
            ch.bind(new InetSocketAddress(opener.bindAddress(), port));
            final NioSocket s = new NioSocket(ch, opener.ifaceAddress(), port, null);
            unicast.add(s);
            stats.track(s);
            opener.sizeReceiveBuffer(s);
            rebuild();
            return ch;
        } catch (final IOException e) {
            NioSockets.closeQuietly(ch);
            throw new BypassException("nio: cannot bind UDP " + Ipv4.toString(opener.ifaceAddress()) + ":" + port + " on "
                + opener.describe() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Opens a socket bound to {@code group:port} with {@code SO_REUSEADDR} (so other
     * processes may join too) and joins the group on the interface. Joining twice is a no-op.
     *
     * @param group a multicast group
     * @param port  a valid UDP port
     * @throws BypassException if there is no interface or the kernel refuses
     */
    void join(final int group, final int port) {
        if (find(group, port) >= 0) {
            return; // joining twice is a no-op, as on every backend
        }
        if (opener.iface() == null) {
            throw new BypassException("nio: no interface to join " + Ipv4.toString(group) + " on; name one in the URI (nio:eth1)");
        }
        DatagramChannel ch = null;
        try {
            final InetAddress g = InetAddress.getByAddress(Ipv4.toBytes(group));
            ch = opener.open(true);
            ch.bind(new InetSocketAddress(g, port));
            final MembershipKey key = ch.join(g, opener.iface());
            final NioSocket s = new NioSocket(ch, group, port, key);
            groups.add(s);
            stats.track(s);
            opener.sizeReceiveBuffer(s);
            rebuild();
        } catch (final IOException e) {
            NioSockets.closeQuietly(ch);
            throw new BypassException("nio: cannot join " + Ipv4.toString(group) + ":" + port + " on " + opener.describe()
                + ": " + e.getMessage(), e);
        }
    }

    /**
     * Drops the membership and closes that group's socket.
     *
     * @throws IllegalArgumentException if {@code group:port} is not joined
     */
    void leave(final int group, final int port) {
        final int i = find(group, port);
        if (i < 0) {
            throw UdpRules.notJoined(group, port);
        }
        final NioSocket s = groups.remove(i);
        stats.untrack(s);
        s.closeQuietly();
        rebuild();
    }

    private int find(final int group, final int port) {
        for (int i = 0; i < groups.size(); i++) {
            final NioSocket s = groups.get(i);
            if (s.address == group && s.port == port) {
                return i;
            }
        }
        return -1;
    }

    private void rebuild() {
        final List<NioSocket> all = new ArrayList<>(unicast);
        all.addAll(groups);
        sockets = all.toArray(NONE);
    }

    /** @return every receiving socket, bound ports first; a new array after every change */
    NioSocket[] sockets() {
        return sockets;
    }

    /** @return the first group joined, else the first port bound, else null: what a warm-up's datagrams look addressed to */
    NioSocket first() {
        return !groups.isEmpty() ? groups.get(0) : !unicast.isEmpty() ? unicast.get(0) : null;
    }

    /**
     * @return the {@code SO_RCVBUF} of the smallest receiving socket as Java reports it, 0 if there is none
     */
    int receiveBufferBytes() {
        int min = Integer.MAX_VALUE;
        for (final NioSocket s : unicast) {
            min = Math.min(min, NioSockets.rcvbufOf(s.channel));
        }
        for (final NioSocket s : groups) {
            min = Math.min(min, NioSockets.rcvbufOf(s.channel));
        }
        return min == Integer.MAX_VALUE ? 0 : min;
    }

    /**
     * Drops every membership and closes every socket, every one even after a failure.
     *
     * @param closer records each failure
     */
    void closeAll(final Closer closer) {
        for (final NioSocket s : groups) {
            closer.close("leaving " + Ipv4.toString(s.address) + ":" + s.port, s);
        }
        for (final NioSocket s : unicast) {
            closer.close("closing the socket bound to port " + s.port, s);
        }
        groups.clear();
        unicast.clear();
        sockets = NONE;
    }
}
