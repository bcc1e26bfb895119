package io.bypass.nio;

import io.bypass.BypassException;
import io.bypass.Capability;
import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.FrameMeta;
import io.bypass.PortUri;
import io.bypass.spi.ClaimOwner;
import io.bypass.spi.Closer;
import io.bypass.net.ChecksumPolicy;
import io.bypass.spi.PortVlan;
import io.bypass.spi.RxStallBudget;
import io.bypass.spi.UdpRules;
import io.bypass.spi.UriParams;
import io.bypass.udp.DatagramClaim;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.DutyCycle;
import io.bypass.udp.DatagramMeta;
import io.bypass.udp.UdpDestination;
import io.bypass.udp.UdpEndpoint;
import io.bypass.udp.UdpUriParams;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * {@link UdpEndpoint} on kernel sockets: one non-blocking {@link DatagramChannel} per
 * bound port and per joined group, read round-robin into one reused direct buffer.
 *
 * <h2>URI</h2>
 * {@code nio:[IFACE][?loop=true|false&multicastTtl=N&rcvbuf=BYTES&...]}: the keys, what each
 * sets on the sockets and its default are in {@link NioUriParams}.
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
 * <h2>Pieces</h2>
 * {@link NioSockets} opens sockets with the URI's options on its interface,
 * {@link NioSubscriptions} keeps the bound and joined ones, {@link NioSender} sends.
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
    private final PortUri uri;
    private final NioSockets sockets;
    private final int maxPayload;
    private final Counters liveCounters = new Counters();
    /** Where this endpoint counts: {@link #liveCounters}, or a warm-up's scratch counters while it runs. */
    private Counters counters = liveCounters;
    private final UdpStats stats;
    private final NioSubscriptions subscriptions;
    final NioSender sender; // package-private: NioWarmUp puts its socket back after a warm-up

    private final ByteBuffer rxBuffer;
    private final UnsafeBuffer rxView;
    private final DatagramMeta meta = new DatagramMeta();
    // Poll state: the subscriptions' sockets, taken anew off the hot path whenever one comes or goes.
    private NioSocket[] rxSockets;
    private int cursor;
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
        UriParams.requireOnly(uri, NioUriParams.UDP);
        ChecksumPolicy.from(uri); // validated as on every backend; the kernel checks the sums
        final int vlan = PortVlan.from(uri);
        if (vlan != PortVlan.UNTAGGED) {
            throw new io.bypass.BypassUriException(uri.text(), "nio: sockets receive on the kernel's interfaces, which "
                + "take the VLAN tags off: for VLAN " + vlan + " open the kernel's VLAN interface instead (e.g. nio:"
                + (uri.target().isEmpty() ? "eth1" : uri.target()) + "." + vlan + ", made with 'ip link add link "
                + (uri.target().isEmpty() ? "eth1" : uri.target()) + " name " + (uri.target().isEmpty() ? "eth1" : uri.target())
                + "." + vlan + " type vlan id " + vlan + "') without vlan=");
        }
        final boolean loop = NioUriParams.LOOP.booleanValue(uri);
        final int multicastTtl = UdpUriParams.MULTICAST_TTL.intValue(uri);
        NioUriParams.checkUnicastTtl(uri);
        final RxStallBudget budget = RxStallBudget.from(uri);
        final int rcvbuf = NioUriParams.receiveBufferRequest(uri, budget);
        final int sndbuf = NioUriParams.SNDBUF.intValue(uri, 0);
        sockets = new NioSockets(uri, loop, multicastTtl, rcvbuf, sndbuf, budget);
        final int mtu = sockets.mtu();
        final int defaultMax = Math.min(MAX_UDP_PAYLOAD, Math.max(1, (mtu > 0 ? mtu : 1500) - 28));
        maxPayload = NioUriParams.MAX_PAYLOAD.intValue(uri, uri.target().isEmpty() ? 1472 : defaultMax);
        rxBuffer = ByteBuffer.allocateDirect(maxPayload + 1); // one spare byte reveals a cut datagram
        rxView = new UnsafeBuffer(rxBuffer);
        stats = new UdpStats();
        DatagramChannel ch = null;
        final int sourcePort;
        try {
            ch = sockets.open(false);
            ch.bind(new InetSocketAddress(sockets.bindAddress(), 0));
            sourcePort = ((InetSocketAddress) ch.getLocalAddress()).getPort();
        } catch (final IOException e) {
            NioSockets.closeQuietly(ch); // opened but not bound: do not leak its fd
            stats.close();
            throw new BypassException("nio: cannot open a UDP socket on " + sockets.describe() + ": " + e.getMessage(), e);
        }
        ephemeralTx = ch;
        subscriptions = new NioSubscriptions(sockets, stats);
        rxSockets = subscriptions.sockets();
        sender = new NioSender(uri, counters, maxPayload, ch, sourcePort);
        liveCounters.refresher(this::refreshKernelDrops);
    }

    /**
     * The {@code SO_RCVBUF} of the endpoint's receiving sockets, as Java reports it (the kernel
     * keeps twice that, and charges each queued datagram's whole buffer against it).
     *
     * @return bytes, of the smallest receiving socket; 0 before {@link #bind} or {@link #join}
     */
    public int receiveBufferBytes() {
        return subscriptions.receiveBufferBytes();
    }

    /** For tests: the {@code IP_MULTICAST_TTL} the kernel has for the send socket before any bind. */
    int sendSocketMulticastTtl() throws IOException {
        return ephemeralTx.getOption(java.net.StandardSocketOptions.IP_MULTICAST_TTL);
    }

    /** @return why a receiving socket has less buffer than the stall budget asks, or null if none falls short */
    public String receiveBufferShortfall() {
        return sockets.receiveBufferShortfall();
    }

    /** Takes the subscriptions' sockets for poll after one came or went. */
    private void subscriptionsChanged() {
        final NioSocket[] now = subscriptions.sockets();
        if (now != rxSockets) {
            rxSockets = now;
            cursor = 0;
        }
    }

    /** @return {@value NioBackendProvider#NAME} */
    @Override
    public String backend() {
        return NioBackendProvider.NAME;
    }

    /** @return the URI the endpoint was opened with */
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
        UdpRules.checkPort(port);
        sender.sendFrom(subscriptions.bind(port), port);
        subscriptionsChanged();
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
        UdpRules.checkPort(port);
        subscriptions.join(group, port);
        subscriptionsChanged();
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
        UdpRules.checkPort(port);
        subscriptions.leave(group, port);
        subscriptionsChanged();
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
        final NioSocket[] channels = rxSockets;
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
                final NioSocket ch = channels[c];
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
                final InetSocketAddress source = (InetSocketAddress) from;
                // Inet4Address.hashCode() is the address itself: no byte[] copy as getAddress() would make.
                meta.set(source.getAddress().hashCode(), source.getPort(), ch.address, ch.port, FrameMeta.NO_TIMESTAMP);
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
     * Claims a slot in a reused direct buffer (up to {@value NioSender#SLOTS} outstanding).
     *
     * @return {@link #OK}, {@link #TOO_LONG} (counted as {@link Counter#DROP_TOO_LONG}) or
     *         {@link #BACK_PRESSURED} if every slot is claimed and not yet committed
     * @throws BypassException after {@link #close()}
     * @throws IllegalArgumentException if {@code length} is negative
     */
    @Override
    public int tryClaim(final UdpDestination destination, final int length, final DatagramClaim claim) {
        checkOpen();
        return sender.tryClaim(this, destination, length, claim);
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
        final NioSocket target = subscriptions.first();
        UdpRules.checkWarmUp(length, maxPayload, datagrams, target != null);
        return NioWarmUp.run(target, maxPayload, sockets.rcvbuf(), handler, payload, offset, length, datagrams);
    }

    /**
     * {@inheritDoc}
     *
     * <p>On NIO the duty cycle polls a loopback socket that a placeholder sender on loopback
     * feeds, and sends go out on loopback to that sender, which discards them ({@link NioWarmUp}).
     */
    @Override
    public int warmUpDutyCycle(final DutyCycle dutyCycle, final DirectBuffer payload, final int offset, final int length,
                      final int datagrams) {
        checkOpen();
        java.util.Objects.requireNonNull(dutyCycle, "dutyCycle");
        final NioSocket target = subscriptions.first();
        UdpRules.checkWarmUp(length, maxPayload, datagrams, target != null);
        return NioWarmUp.runDutyCycle(this, target, dutyCycle, payload, offset, length, datagrams);
    }

    /**
     * For a warm-up: polls read {@code rx} instead of the subscriptions' sockets, sends go out
     * on {@code tx} (from {@code txPort}), everything is counted in {@code scratch}; a null
     * {@code rx} puts it all back, with {@code tx} and {@code txPort} the live send socket.
     */
    void divert(final NioSocket[] rx, final DatagramChannel tx, final int txPort, final Counters scratch) {
        rxSockets = rx != null ? rx : subscriptions.sockets();
        cursor = 0;
        counters = rx != null ? scratch : liveCounters;
        sender.divert(tx, txPort, counters);
    }

    /**
     * Copies {@code length} bytes into a claim and sends them.
     *
     * @return as {@link #tryClaim}
     */
    @Override
    public int send(final UdpDestination destination, final DirectBuffer buffer, final int offset, final int length) {
        checkOpen();
        return sender.send(destination, buffer, offset, length);
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
        final InetSocketAddress destination = sender.release(token);
        checkOpen();
        sender.sendSlot((int) token, destination, length);
    }

    /**
     * For {@link DatagramClaim#abort()}: frees the slot unsent.
     *
     * @param token the slot
     */
    @Override
    public void abort(final long token) {
        sender.release(token);
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

    /** {@inheritDoc} */
    @Override
    public int maxPayloadLength() {
        return maxPayload;
    }

    /**
     * @return the interface's IPv4 address, or 0 when bound to any interface
     */
    @Override
    public int localAddress() {
        return sockets.ifaceAddress();
    }

    /**
     * @return the port sent datagrams come from: the last bound port, else the ephemeral one
     */
    @Override
    public int localPort() {
        return sender.sourcePort();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Refreshing copies in the kernel's per-socket drops ({@code DROP_RX_RING_FULL}).
     */
    @Override
    public Counters counters() {
        return liveCounters;
    }

    /** {@inheritDoc} */
    @Override
    public boolean isClosed() {
        return closed;
    }

    /**
     * Leaves every group and closes every socket; carries on past failures, then reports
     * them all (see {@link Closer}). Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        final Closer closer = new Closer("nio: closing " + uri.text());
        closer.run("reading the kernel's drops", this::refreshKernelDrops);
        closed = true;
        subscriptions.closeAll(closer);
        rxSockets = subscriptions.sockets();
        closer.close("closing the sending socket", ephemeralTx);
        closer.close("closing the kernel drop statistics", stats);
        closer.throwIfFailed();
    }

    private void refreshKernelDrops() {
        if (!closed) {
            liveCounters.set(Counter.DROP_RX_RING_FULL, stats.drops());
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

    /** @return the endpoint's URI and state, for logs */
    @Override
    public String toString() {
        return "NioUdpEndpoint[" + uri.text() + (closed ? ", closed]" : "]");
    }
}
