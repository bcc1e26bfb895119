package io.bypass.nio;

import io.bypass.BypassException;
import io.bypass.Capability;
import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.FrameMeta;
import io.bypass.PortUri;
import io.bypass.net.Ipv4;
import io.bypass.spi.ClaimOwner;
import io.bypass.spi.PortVlan;
import io.bypass.spi.RxStallBudget;
import io.bypass.spi.UdpRules;
import io.bypass.udp.DatagramClaim;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.DatagramMeta;
import io.bypass.udp.UdpDestination;
import io.bypass.udp.UdpEndpoint;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.MembershipKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * {@link UdpEndpoint} on kernel sockets: one non-blocking {@link DatagramChannel} per
 * bound port and per joined group, read round-robin into one reused direct buffer.
 *
 * <h2>URI</h2>
 * {@code nio:[IFACE][?loop=true|false&ttl=N&rcvbuf=BYTES&sndbuf=BYTES&maxPayload=BYTES&rxStallMs=MS&rxStallPps=PPS]}
 * <ul>
 *   <li>{@code IFACE}: the interface whose IPv4 address {@link #bind(int)} binds to and on
 *       which groups are joined and multicast is sent ({@code IP_MULTICAST_IF}). Empty:
 *       bind to the wildcard address and join on the first up, multicast-capable,
 *       non-loopback interface with an IPv4 address (else {@code lo}).</li>
 *   <li>{@code loop}: {@code IP_MULTICAST_LOOP} for sent multicast (default false, so a
 *       publisher does not read its own traffic; true for publisher and subscriber on one host).</li>
 *   <li>{@code ttl}: {@code IP_MULTICAST_TTL} (default 1).</li>
 *   <li>{@code rcvbuf}: {@code SO_RCVBUF} of every receiving socket (default: sized from the
 *       {@linkplain RxStallBudget stall budget}, {@code rxStallMs} and {@code rxStallPps}, at
 *       {@value ReceiveBuffer#BYTES_PER_DATAGRAM} bytes of kernel memory per queued datagram).
 *       Where {@code net.core.rmem_max} caps it, the socket gets {@code SO_RCVBUFFORCE} when the
 *       process has {@code CAP_NET_ADMIN}, else one warning names the sysctl to raise
 *       ({@link #receiveBufferShortfall()}).</li>
 *   <li>{@code rxStallMs=50}, {@code rxStallPps=200000}: the stall budget {@code rcvbuf} defaults
 *       from, the same keys as on every backend.</li>
 *   <li>{@code sndbuf}: {@code SO_SNDBUF} (default: the kernel's).</li>
 *   <li>{@code maxPayload}: largest datagram, 1..65507 (default: the interface MTU less 28,
 *       so nothing is fragmented; 1472 without an interface).</li>
 *   <li>{@code vlan}: 0 only (the default), the same key as on the L2 backends
 *       ({@link PortVlan}). The kernel's interface decides the VLAN: it drops frames of other
 *       VLANs before any socket sees them, so they move no counter here. For VLAN N open the
 *       kernel's VLAN interface instead, e.g. {@code nio:eth1.7}.</li>
 * </ul>
 *
 * <h2>Costs, honestly</h2>
 * Each datagram received is one {@code recvfrom} and each datagram sent one
 * {@code sendto}: NIO has no batch calls ({@code recvmmsg}/{@code sendmmsg}), so this
 * backend cannot meet the one-syscall-per-batch rule that the kernel-bypass backends
 * do; it is the fallback that runs everywhere. {@link #commit} sends at once and
 * {@link #flush()} has nothing to do. Steady-state {@link #poll} and {@link #send}
 * allocate nothing: the JDK caches the sender's {@link InetSocketAddress} per socket
 * while consecutive datagrams on it come from the same sender (one publisher per group,
 * or one peer per bound port, the usual trading case); datagrams on one socket that
 * alternate between senders allocate one address object each, a JDK limit that only
 * bypassing {@code DatagramChannel} would avoid.
 *
 * <h2>Threads and namespaces</h2>
 * Use from one thread. {@link #bind} and {@link #join} open sockets, which belong to
 * the network namespace of the calling thread: call them from the thread (or a thread
 * in the same namespace) that opened the endpoint.
 *
 * <h2>Counters</h2>
 * {@link Counter#DROP_RX_OVERSIZE}: a datagram longer than {@code maxPayload} (read
 * into a buffer one byte longer, so the cut is seen). {@link Counter#DROP_RX_RING_FULL}:
 * the kernel's per-socket {@code drops} from {@code /proc/net/udp} (socket buffer full),
 * copied in by {@link Counters#refresh()}. {@link Counter#DROP_TOO_LONG}: sends over
 * {@code maxPayload}. {@link Counter#DROP_TX_INVALID}: sends the kernel refused (an
 * error, or the socket buffer still full after {@value #SEND_RETRY_NANOS} ns of retries).
 * {@link Counter#TX_BYTES}: the Ethernet frame each datagram makes, as on the L2 backends
 * ({@link UdpRules#frameLength(int)}); {@link Counter#RX_BYTES}: payload bytes delivered.
 */
public final class NioUdpEndpoint implements UdpEndpoint, ClaimOwner {
    /** Largest UDP payload over IPv4. */
    public static final int MAX_UDP_PAYLOAD = 65507;
    /** How long {@link #commit} retries a send refused for a full socket buffer before counting a drop. */
    public static final long SEND_RETRY_NANOS = 1_000_000L;
    private static final int TX_SLOTS = 16;
    private static final Set<String> PARAMS = union(union(Set.of("loop", "ttl", "rcvbuf", "sndbuf", "maxPayload"),
        RxStallBudget.URI_PARAMETERS), PortVlan.URI_PARAMETERS);
    private static final System.Logger LOG = System.getLogger("io.bypass.nio");
    /** Warm-up datagrams appear to come from TEST-NET-1 (RFC 5737), as on the L2 backends. */
    private static final int WARM_UP_SOURCE = Ipv4.parse("192.0.2.1");
    private static final int WARM_UP_SOURCE_PORT = 9;

    private final PortUri uri;
    private final NetworkInterface iface;
    private final int ifaceAddress;
    private final InetAddress bindAddress;
    private final boolean loop;
    private final int ttl;
    private final int rcvbuf;
    private final RxStallBudget budget;
    private String receiveBufferShortfall;
    private final int sndbuf;
    private final int maxPayload;
    private final Counters counters = new Counters();
    private final UdpStats stats;

    private final ByteBuffer rxBuffer;
    private final UnsafeBuffer rxView;
    private final DatagramMeta meta = new DatagramMeta();
    private final ByteBuffer[] txSlots = new ByteBuffer[TX_SLOTS];
    private final long[] txAddresses = new long[TX_SLOTS];
    private final InetSocketAddress[] txDestinations = new InetSocketAddress[TX_SLOTS];
    private long txClaimed; // bit i set: slot i claimed

    private final List<Channel> unicast = new ArrayList<>();
    private final List<Channel> groups = new ArrayList<>();
    // Poll state, rebuilt off the hot path whenever a channel comes or goes.
    private Channel[] rxChannels = new Channel[0];
    private int cursor;
    private DatagramChannel tx;
    private int sourcePort; // tx's local port, kept so localPort() needs no syscall and works after close
    private final DatagramChannel ephemeralTx;
    private volatile boolean closed;

    /**
     * Opens the endpoint: resolves the interface and opens a send socket on an
     * ephemeral port (used until {@link #bind(int)}).
     *
     * @param uri a {@code nio:} URI
     * @throws io.bypass.BypassUriException for an unknown parameter or bad value
     * @throws BypassException for an unknown interface (listing those that exist) or one without IPv4
     */
    public NioUdpEndpoint(final PortUri uri) {
        this.uri = uri;
        uri.requireOnly(PARAMS);
        final int vlan = PortVlan.from(uri);
        if (vlan != PortVlan.UNTAGGED) {
            throw new io.bypass.BypassUriException(uri.text(), "nio: sockets receive on the kernel's interfaces, which "
                + "take the VLAN tags off: for VLAN " + vlan + " open the kernel's VLAN interface instead (e.g. nio:"
                + (uri.target().isEmpty() ? "eth1" : uri.target()) + "." + vlan + ", made with 'ip link add link "
                + (uri.target().isEmpty() ? "eth1" : uri.target()) + " name " + (uri.target().isEmpty() ? "eth1" : uri.target())
                + "." + vlan + " type vlan id " + vlan + "') without vlan=");
        }
        loop = uri.getBoolean("loop", false);
        ttl = uri.getInt("ttl", 1, 0, 255);
        budget = RxStallBudget.from(uri);
        rcvbuf = uri.getInt("rcvbuf", ReceiveBuffer.requestFor(budget), 1, Integer.MAX_VALUE / 2);
        sndbuf = uri.getInt("sndbuf", 0, 0, Integer.MAX_VALUE);
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
            final int mtu = iface == null ? 1500 : iface.getMTU();
            final int defaultMax = Math.min(MAX_UDP_PAYLOAD, Math.max(1, (mtu > 0 ? mtu : 1500) - 28));
            maxPayload = uri.getInt("maxPayload", uri.target().isEmpty() ? 1472 : defaultMax, 1, MAX_UDP_PAYLOAD);
        } catch (final SocketException | java.net.UnknownHostException e) {
            throw new BypassException("nio: cannot look up interface '" + uri.target() + "': " + e.getMessage(), e);
        }
        rxBuffer = ByteBuffer.allocateDirect(maxPayload + 1); // one spare byte reveals a cut datagram
        rxView = new UnsafeBuffer(rxBuffer);
        final ByteBuffer txArea = ByteBuffer.allocateDirect(maxPayload * TX_SLOTS);
        final long base = BufferUtil.address(txArea);
        for (int i = 0; i < TX_SLOTS; i++) {
            txSlots[i] = txArea.slice(i * maxPayload, maxPayload);
            txAddresses[i] = base + (long) i * maxPayload;
        }
        stats = new UdpStats();
        DatagramChannel ch = null;
        try {
            ch = openChannel(false);
            ch.bind(new InetSocketAddress(bindAddress, 0));
            sourcePort = ((InetSocketAddress) ch.getLocalAddress()).getPort();
        } catch (final IOException e) {
            closeQuietly(ch); // opened but not bound: do not leak its fd
            stats.close();
            throw new BypassException("nio: cannot open a UDP socket on " + describeIface() + ": " + e.getMessage(), e);
        }
        ephemeralTx = ch;
        tx = ch;
        counters.refresher(this::refreshKernelDrops);
    }

    private static Inet4Address ipv4Of(final NetworkInterface ni) {
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

    private static String interfaceNames() {
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

    private String describeIface() {
        return uri.target().isEmpty() ? "any interface" : "'" + uri.target() + "' (" + Ipv4.toString(ifaceAddress) + ")";
    }

    private static Set<String> union(final Set<String> a, final Set<String> b) {
        final java.util.HashSet<String> u = new java.util.HashSet<>(a);
        u.addAll(b);
        return Set.copyOf(u);
    }

    /**
     * Gives a receiving socket the buffer the stall budget asks for (forcing past
     * {@code net.core.rmem_max} where privileged), and says once when it cannot.
     */
    private void sizeReceiveBuffer(final Channel c) {
        final String shortfall = ReceiveBuffer.ensure(c.channel, c.inode, rcvbuf);
        if (shortfall != null && receiveBufferShortfall == null) {
            receiveBufferShortfall = shortfall;
            LOG.log(System.Logger.Level.WARNING, "nio: " + shortfall + "; the socket holds about "
                + String.format(java.util.Locale.ROOT, "%.1f", budget.stallMsFor(2L * receiveBufferBytes() / ReceiveBuffer.BYTES_PER_DATAGRAM))
                + " ms of datagrams at " + budget.ratePps() + " pps against a stall budget of " + budget.stallMs()
                + " ms: raise it with 'sysctl -w net.core.rmem_max=" + rcvbuf + "', run with CAP_NET_ADMIN, "
                + "or lower rxStallMs/rxStallPps in the URI");
        }
    }

    /**
     * The {@code SO_RCVBUF} of the endpoint's receiving sockets, as Java reports it (the kernel
     * keeps twice that, and charges each queued datagram's whole buffer against it).
     *
     * @return bytes, of the smallest receiving socket; 0 before {@link #bind} or {@link #join}
     */
    public int receiveBufferBytes() {
        int min = Integer.MAX_VALUE;
        for (final Channel c : unicast) {
            min = Math.min(min, rcvbufOf(c.channel));
        }
        for (final Channel c : groups) {
            min = Math.min(min, rcvbufOf(c.channel));
        }
        return min == Integer.MAX_VALUE ? 0 : min;
    }

    /** @return why a receiving socket has less buffer than the stall budget asks, or null if none falls short */
    public String receiveBufferShortfall() {
        return receiveBufferShortfall;
    }

    private static int rcvbufOf(final DatagramChannel ch) {
        try {
            return ch.getOption(StandardSocketOptions.SO_RCVBUF);
        } catch (final IOException e) {
            return 0;
        }
    }

    private DatagramChannel openChannel(final boolean reuse) throws IOException {
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

    @Override
    public String backend() {
        return NioBackendProvider.NAME;
    }

    @Override
    public PortUri uri() {
        return uri;
    }

    /**
     * @return {@link Capability#MULTICAST} and {@link Capability#KERNEL_NEIGHBOURS}
     */
    @Override
    public Set<Capability> capabilities() {
        return Collections.unmodifiableSet(EnumSet.of(Capability.MULTICAST, Capability.KERNEL_NEIGHBOURS));
    }

    /**
     * Binds a socket to the interface's IPv4 address (wildcard without interface) on
     * {@code port}; it also becomes the source of sent datagrams.
     *
     * @param port UDP port, 1..65535
     * @throws BypassException if the port is taken, naming address and port
     */
    @Override
    public void bind(final int port) {
        checkOpen();
        checkPort(port);
        for (final Channel c : unicast) {
            if (c.port == port) {
                throw new BypassException("nio: already bound to port " + port);
            }
        }
        DatagramChannel ch = null;
        try {
            ch = openChannel(false);
            ch.bind(new InetSocketAddress(bindAddress, port));
            final Channel c = new Channel(ch, ifaceAddress, port, null);
            unicast.add(c);
            stats.track(c);
            sizeReceiveBuffer(c);
            tx = ch;
            sourcePort = port;
            rebuild();
        } catch (final IOException e) {
            closeQuietly(ch);
            throw new BypassException("nio: cannot bind UDP " + Ipv4.toString(ifaceAddress) + ":" + port + " on "
                + describeIface() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Opens a socket bound to {@code group:port} with {@code SO_REUSEADDR} (so other
     * processes may join too) and joins the group on the URI's interface.
     *
     * @param group IPv4 group, 224.0.0.0/4
     * @param port  UDP port
     * @throws IllegalArgumentException if {@code group} is not multicast or the port is out of range
     * @throws BypassException if the kernel refuses
     */
    @Override
    public void join(final int group, final int port) {
        checkOpen();
        UdpRules.checkGroup(group);
        checkPort(port);
        if (findGroup(group, port) >= 0) {
            return; // joining twice is a no-op, as on every backend
        }
        if (iface == null) {
            throw new BypassException("nio: no interface to join " + Ipv4.toString(group) + " on; name one in the URI (nio:eth1)");
        }
        DatagramChannel ch = null;
        try {
            final InetAddress g = InetAddress.getByAddress(Ipv4.toBytes(group));
            ch = openChannel(true);
            ch.bind(new InetSocketAddress(g, port));
            final MembershipKey key = ch.join(g, iface);
            final Channel c = new Channel(ch, group, port, key);
            groups.add(c);
            stats.track(c);
            sizeReceiveBuffer(c);
            rebuild();
        } catch (final IOException e) {
            closeQuietly(ch);
            throw new BypassException("nio: cannot join " + Ipv4.toString(group) + ":" + port + " on " + describeIface() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Drops the membership and closes that group's socket.
     *
     * @param group IPv4 group
     * @param port  UDP port
     * @throws IllegalArgumentException if not joined or the arguments are invalid
     */
    @Override
    public void leave(final int group, final int port) {
        checkOpen();
        UdpRules.checkGroup(group);
        checkPort(port);
        final int i = findGroup(group, port);
        if (i < 0) {
            throw UdpRules.notJoined(group, port);
        }
        final Channel c = groups.remove(i);
        stats.untrack(c);
        c.close();
        rebuild();
    }

    private int findGroup(final int group, final int port) {
        for (int i = 0; i < groups.size(); i++) {
            final Channel c = groups.get(i);
            if (c.address == group && c.port == port) {
                return i;
            }
        }
        return -1;
    }

    private void rebuild() {
        final List<Channel> all = new ArrayList<>(unicast);
        all.addAll(groups);
        rxChannels = all.toArray(new Channel[0]);
        cursor = 0;
    }

    /**
     * Reads up to {@code limit} datagrams, taking turns across the bound and joined
     * sockets so a busy group cannot starve the others. One {@code recvfrom} per datagram
     * plus one per empty socket visited.
     *
     * @param handler called once per datagram; the buffer is reused for the next one
     * @param limit   most datagrams, at least 1
     * @return datagrams delivered
     * @throws BypassException after {@link #close()}
     */
    @Override
    public int poll(final DatagramHandler handler, final int limit) {
        checkOpen();
        final Channel[] channels = rxChannels;
        final int n = channels.length;
        if (n == 0) {
            return 0;
        }
        final ByteBuffer buf = rxBuffer;
        int delivered = 0;
        long bytes = 0;
        int empty = 0;
        int c = cursor;
        try {
            while (delivered < limit && empty < n) {
                final Channel ch = channels[c];
                c = c + 1 == n ? 0 : c + 1;
                buf.clear();
                final SocketAddress from;
                try {
                    from = ch.channel.receive(buf);
                } catch (final ClosedChannelException e) {
                    throw closedException();
                } catch (final IOException e) {
                    // A pending socket error (e.g. ICMP): counted; it takes this socket's turn,
                    // so a socket that keeps failing cannot keep poll from returning.
                    counters.increment(Counter.DROP_RX_OTHER);
                    empty++;
                    continue;
                }
                if (from == null) {
                    empty++;
                    continue;
                }
                empty = 0;
                final int length = buf.position();
                if (length > maxPayload) {
                    counters.increment(Counter.DROP_RX_OVERSIZE);
                    continue;
                }
                final InetSocketAddress sender = (InetSocketAddress) from;
                // Inet4Address.hashCode() is the address itself: no byte[] copy as getAddress() would make.
                meta.set(sender.getAddress().hashCode(), sender.getPort(), ch.address, ch.port, FrameMeta.NO_TIMESTAMP);
                // Counted before the handler runs: a datagram handed to a handler that throws was still received.
                delivered++;
                bytes += length;
                handler.onDatagram(rxView, 0, length, meta);
            }
        } finally {
            cursor = c;
            if (delivered > 0) {
                counters.add(Counter.RX_PACKETS, delivered);
                counters.add(Counter.RX_BYTES, bytes);
            }
        }
        return delivered;
    }

    /**
     * Claims a slot in a reused direct buffer (up to {@value #TX_SLOTS} outstanding).
     *
     * @return {@link #OK}, {@link #TOO_LONG} (counted as {@link Counter#DROP_TOO_LONG}) or
     *         {@link #BACK_PRESSURED} if every slot is claimed and not yet committed
     * @throws BypassException after {@link #close()}
     * @throws IllegalArgumentException if {@code length} is negative
     */
    @Override
    public int tryClaim(final UdpDestination destination, final int length, final DatagramClaim claim) {
        checkOpen();
        if (length < 0) {
            UdpRules.checkLength(length);
        }
        if (length > maxPayload) {
            counters.increment(Counter.DROP_TOO_LONG);
            return TOO_LONG;
        }
        final long free = ~txClaimed;
        if (free == 0 || Long.numberOfTrailingZeros(free) >= TX_SLOTS) {
            counters.increment(Counter.TX_BACK_PRESSURED);
            return BACK_PRESSURED;
        }
        final int slot = Long.numberOfTrailingZeros(free);
        txClaimed |= 1L << slot;
        txDestinations[slot] = destination.socketAddress();
        claim.wrap(this, slot, txAddresses[slot], length);
        return OK;
    }

    /**
     * {@inheritDoc}
     *
     * <p>On NIO the kernel owns the sockets, so the warm-up runs a second endpoint of this
     * class on loopback: {@code datagrams} sends to itself and as many receives into
     * {@code handler}, through the same send and poll code; this endpoint's sockets are not
     * read.
     */
    @Override
    public int warmUp(final DatagramHandler handler, final DirectBuffer payload, final int offset, final int length,
                      final int datagrams) {
        checkOpen();
        UdpRules.checkWarmUp(length, maxPayload, datagrams, !unicast.isEmpty() || !groups.isEmpty());
        final int loopbackPort;
        try (DatagramChannel probe = DatagramChannel.open(StandardProtocolFamily.INET)) {
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            loopbackPort = ((InetSocketAddress) probe.getLocalAddress()).getPort();
        } catch (final IOException e) {
            throw new BypassException("nio: warm-up cannot open a loopback socket: " + e.getMessage(), e);
        }
        // The handler sees the datagrams as addressed to the first group joined (or port bound),
        // as the live ones will be, not to the loopback endpoint that carries them.
        final Channel target = !groups.isEmpty() ? groups.get(0) : unicast.get(0);
        final DatagramMeta asLive = new DatagramMeta();
        final DatagramHandler readdressed = (buffer, off, len, meta) -> {
            asLive.set(WARM_UP_SOURCE, WARM_UP_SOURCE_PORT, target.address, target.port, meta.timestampNanos());
            handler.onDatagram(buffer, off, len, asLive);
        };
        int received = 0;
        try (NioUdpEndpoint shadow = new NioUdpEndpoint(PortUri.parse("nio:lo?maxPayload=" + maxPayload + "&rcvbuf=" + rcvbuf))) {
            shadow.bind(loopbackPort);
            final UdpDestination self = UdpDestination.of(Ipv4.parse("127.0.0.1"), loopbackPort);
            int sent = 0;
            int idle = 0;
            while (received < datagrams && idle < 1000) {
                for (int i = 0; i < 32 && sent < datagrams; i++, sent++) {
                    shadow.send(self, payload, offset, length);
                }
                final int n = shadow.poll(readdressed, 32);
                received += n;
                idle = n == 0 ? idle + 1 : 0;
            }
        }
        return received;
    }

    /**
     * Copies {@code length} bytes into a claim and sends them.
     *
     * @return as {@link #tryClaim}
     */
    @Override
    public int send(final UdpDestination destination, final DirectBuffer buffer, final int offset, final int length) {
        checkOpen();
        if (length < 0) {
            UdpRules.checkLength(length);
        }
        if (length > maxPayload) {
            counters.increment(Counter.DROP_TOO_LONG);
            return TOO_LONG;
        }
        final ByteBuffer slot = txSlots[0];
        if ((txClaimed & 1L) != 0) {
            // Slot 0 is held by an open claim: fall back to the general path.
            final long free = ~txClaimed;
            if (Long.numberOfTrailingZeros(free) >= TX_SLOTS) {
                counters.increment(Counter.TX_BACK_PRESSURED);
                return BACK_PRESSURED;
            }
            final int s = Long.numberOfTrailingZeros(free);
            buffer.getBytes(offset, txSlots[s], 0, length);
            sendSlot(s, destination.socketAddress(), length);
            return OK;
        }
        buffer.getBytes(offset, slot, 0, length);
        sendSlot(0, destination.socketAddress(), length);
        return OK;
    }

    /**
     * For {@link DatagramClaim#commit()}: sends the slot now (one {@code sendto}).
     *
     * @param token  the slot
     * @param length payload bytes
     * @throws BypassException after {@link #close()}
     */
    @Override
    public void commit(final long token, final int length) {
        final int slot = (int) token;
        final long bit = 1L << slot;
        if ((txClaimed & bit) == 0) {
            throw new IllegalStateException("nio: datagram slot " + slot + " is not claimed");
        }
        txClaimed &= ~bit;
        checkOpen();
        sendSlot(slot, txDestinations[slot], length);
        txDestinations[slot] = null;
    }

    /**
     * For {@link DatagramClaim#abort()}: frees the slot unsent.
     *
     * @param token the slot
     */
    @Override
    public void abort(final long token) {
        final long bit = 1L << (int) token;
        if ((txClaimed & bit) == 0) {
            throw new IllegalStateException("nio: datagram slot " + token + " is not claimed");
        }
        txClaimed &= ~bit;
        txDestinations[(int) token] = null;
    }

    private void sendSlot(final int slot, final InetSocketAddress destination, final int length) {
        final ByteBuffer b = txSlots[slot];
        b.clear().limit(length);
        long deadline = 0;
        try {
            while (tx.send(b, destination) == 0) {
                // Socket buffer full: the kernel frees it as frames leave, so retry briefly.
                final long now = System.nanoTime();
                if (deadline == 0) {
                    deadline = now + SEND_RETRY_NANOS;
                } else if (now - deadline > 0) {
                    counters.increment(Counter.DROP_TX_INVALID);
                    return;
                }
                Thread.onSpinWait();
            }
        } catch (final ClosedChannelException e) {
            throw closedException();
        } catch (final IOException e) {
            counters.increment(Counter.DROP_TX_INVALID);
            return;
        }
        counters.increment(Counter.TX_PACKETS);
        counters.add(Counter.TX_BYTES, UdpRules.frameLength(length));
    }

    /**
     * Nothing to do: every commit has already been sent.
     *
     * @return 0
     * @throws BypassException after {@link #close()}
     */
    @Override
    public int flush() {
        checkOpen();
        return 0;
    }

    @Override
    public int maxPayloadLength() {
        return maxPayload;
    }

    /**
     * @return the interface's IPv4 address, or 0 when bound to any interface
     */
    @Override
    public int localAddress() {
        return ifaceAddress;
    }

    /**
     * @return the port sent datagrams come from: the last bound port, else the ephemeral one
     */
    @Override
    public int localPort() {
        return sourcePort;
    }

    @Override
    public Counters counters() {
        return counters;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    /**
     * Leaves every group and closes every socket. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        refreshKernelDrops();
        closed = true;
        for (final Channel c : groups) {
            c.close();
        }
        for (final Channel c : unicast) {
            c.close();
        }
        groups.clear();
        unicast.clear();
        rxChannels = new Channel[0];
        closeQuietly(ephemeralTx);
        stats.close();
    }

    private void refreshKernelDrops() {
        if (!closed) {
            counters.set(Counter.DROP_RX_RING_FULL, stats.drops());
        }
    }

    private void checkOpen() {
        if (closed) {
            throw closedException();
        }
    }

    private BypassException closedException() {
        return UdpRules.closed(uri);
    }

    private static void checkPort(final int port) {
        UdpRules.checkPort(port);
    }

    private static void closeQuietly(final DatagramChannel ch) {
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
        return "NioUdpEndpoint[" + uri.text() + (closed ? ", closed]" : "]");
    }

    /** One socket: a bound port or a joined group. */
    static final class Channel {
        final DatagramChannel channel;
        final int address;
        final int port;
        final MembershipKey key;
        long inode;

        Channel(final DatagramChannel channel, final int address, final int port, final MembershipKey key) {
            this.channel = channel;
            this.address = address;
            this.port = port;
            this.key = key;
        }

        void close() {
            if (key != null) {
                key.drop();
            }
            closeQuietly(channel);
        }
    }
}
