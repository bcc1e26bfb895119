package io.bypass.tcp;

import io.bypass.BypassException;
import io.bypass.BypassUriException;
import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.FlowRule;
import io.bypass.FrameHandler;
import io.bypass.FrameMeta;
import io.bypass.Port;
import io.bypass.PortUri;
import io.bypass.RxQueue;
import io.bypass.TxQueue;
import io.bypass.net.ArpResponder;
import io.bypass.net.ChecksumPolicy;
import io.bypass.net.FrameClassifier;
import io.bypass.net.Ipv4;
import io.bypass.net.Ipv4Link;
import io.bypass.net.NextHopResolver;
import io.bypass.net.Tcp;
import io.bypass.spi.Closer;
import io.bypass.spi.PortVlan;
import io.bypass.spi.UriParams;
import io.bypass.udp.UdpUriParams;
import org.agrona.DirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Bypass's own TCP over IPv4 on any L2 {@link Port}: the TCP endpoint of every L2 backend, through
 * {@link io.bypass.spi.BackendProvider#openTcp(PortUri)}. It shares the link's pieces with UDP
 * ({@link Ipv4Link}, {@link NextHopResolver}, {@link ArpResponder}, {@link FrameClassifier}) and keeps
 * every connection's state itself ({@link L2TcpConnection}: RFC 9293 states, RFC 7323 window scaling,
 * RFC 6298 retransmission timer, RFC 5681/6582 congestion control, RFC 6528 initial sequence numbers).
 *
 * <p>{@link #poll(int)} takes one RX burst (segments, ARP), runs the timers that are due, sends the ACKs
 * and the segments that ACKs made room for, and kicks the TX queue at most once. A connection's own
 * {@link TcpConnection#poll} does the same and delivers its bytes in place. No thread, and nothing is
 * allocated in steady state (a connection's memory comes from a pool when it is made).
 *
 * <p>URI keys: those of {@link TcpUriParams} ({@code nagle}, {@code delayedAck}, {@code keepAliveMs},
 * {@code timeWaitMs}, {@code sndbuf}: the send ring, default {@value #DEFAULT_BUFFER} bytes; {@code rcvbuf}:
 * the receive ring and so the largest window, default {@value #DEFAULT_BUFFER}; both rounded up to a power
 * of two), and of the link: {@code queue}, {@code unicastTtl}, {@code vlan}, {@code checksum}. UDP's own
 * keys ({@code port}, {@code multicastTtl}, {@code igmp}) are refused. Where the kernel keeps the
 * interface's address (the port has {@link io.bypass.Capability#KERNEL_NEIGHBOURS}: {@code afxdp:},
 * {@code efvi:}), every listener and connection steers its own flow to this endpoint's queue and reserves
 * its local port in the kernel ({@link TcpFlowSteering}), so the kernel neither answers our segments nor
 * gives our ports away; the kernel chooses the ephemeral ports there.
 *
 * <p>Loss recovery uses SACK both ways (RFC 2018, RFC 2883 D-SACK, recovery in the spirit of RFC 6675),
 * a tail loss probe (RFC 8985 7) and the undoing of a spurious timeout (RFC 3708, RFC 4015); see
 * docs/tcp.md. Not done: RACK's time-based loss detection, timestamps (RTTM/PAWS), urgent data, IP
 * options, path MTU discovery, TCP checksum offload. Use from one thread.
 */
public final class L2TcpEndpoint implements TcpEndpoint {
    /** Default size of each connection's send and receive rings. */
    public static final int DEFAULT_BUFFER = 1 << 20;
    /** A delayed ACK waits at most this long (only with {@code delayedAck=true}). */
    static final long DELAYED_ACK_NANOS = 40_000_000L;
    private static final int SCRATCH = 64 * 1024;
    /** Longest an endpoint's close waits for its FINs to be acknowledged where flows are steered. */
    static final long LINGER_NANOS = 200_000_000L;

    private final Port port;
    private final PortUri uri;
    private final boolean closePort;
    private final NanoClock clock;
    private final Counters counters;
    private final Counters.Writer writer;
    private final RxQueue rx;
    private final TxQueue tx;
    private final Ipv4Link link;
    private final NextHopResolver resolver;
    private final ArpResponder arpResponder;
    private final FrameClassifier classifier;
    private final TcpOutput output;
    private final TcpInput input;
    private final TcpTimers timers;
    private final TcpIsn isn = new TcpIsn();
    private final TcpBuffers buffers;
    private final int localAddress;
    private final boolean nagle;
    private final boolean delayedAck;
    private final long keepAliveNanos;
    private final long timeWaitNanos;
    private final int receiveScale;
    private final TcpTable table = new TcpTable();
    private final Int2ObjectHashMap<L2TcpListener> listeners = new Int2ObjectHashMap<>();
    private final TcpPending pending = new TcpPending();
    /** Where the kernel keeps the address, the rules that take our flows from it. */
    final TcpFlowSteering steering;
    private final FrameHandler onFrame = this::onFrame;
    private long now;
    private boolean closed;

    // the connection being polled by TcpConnection.poll, whose bytes go to its handler in place
    private L2TcpConnection target;
    private TcpHandler targetHandler;
    private int targetLimit;
    private int targetCalls;
    private int work;

    /**
     * Opens TCP over {@code port}.
     *
     * @param port      an open L2 port with an IPv4 address
     * @param uri       the URI (its keys are read here)
     * @param closePort whether {@link #close()} closes the port too
     * @throws BypassUriException if a key is malformed, a UDP-only key is given, or the queue does not exist
     */
    public L2TcpEndpoint(final Port port, final PortUri uri, final boolean closePort) {
        this(port, uri, closePort, SystemNanoClock.INSTANCE);
    }

    /**
     * Opens TCP over {@code port} with a given clock (tests).
     *
     * @param port      an open L2 port with an IPv4 address
     * @param uri       the URI
     * @param closePort whether {@link #close()} closes the port too
     * @param clock     read once per poll, for every timer
     */
    public L2TcpEndpoint(final Port port, final PortUri uri, final boolean closePort, final NanoClock clock) {
        this.port = Objects.requireNonNull(port, "port");
        this.uri = Objects.requireNonNull(uri, "uri");
        this.closePort = closePort;
        this.clock = Objects.requireNonNull(clock, "clock");
        if (port.isClosed()) {
            throw new BypassException("cannot open a TCP endpoint on a closed port (" + uri + ")");
        }
        TcpUriParams.refuseUdpKeys(uri);
        nagle = TcpUriParams.NAGLE.booleanValue(uri);
        delayedAck = TcpUriParams.DELAYED_ACK.booleanValue(uri);
        keepAliveNanos = TcpUriParams.KEEP_ALIVE_MS.intValue(uri) * 1_000_000L;
        timeWaitNanos = TcpUriParams.TIME_WAIT_MS.intValue(uri) * 1_000_000L;
        final int sndbuf = UriParams.SNDBUF.intValue(uri, 0);
        final int rcvbuf = UriParams.RCVBUF.intValue(uri, DEFAULT_BUFFER);
        final int sendCapacity = TcpBuffers.powerOfTwo(sndbuf == 0 ? DEFAULT_BUFFER : sndbuf);
        final int receiveCapacity = TcpBuffers.powerOfTwo(rcvbuf);
        receiveScale = TcpBuffers.windowScale(receiveCapacity);
        buffers = new TcpBuffers(sendCapacity, Math.min(SCRATCH, sendCapacity), receiveCapacity);
        final int queue = UdpUriParams.QUEUE.intValue(uri);
        if (queue >= port.rxQueueCount() || queue >= port.txQueueCount()) {
            throw new BypassUriException(uri.text(), "parameter 'queue' is " + queue + " but the port has " + port.rxQueueCount()
                + " RX and " + port.txQueueCount() + " TX queues");
        }
        rx = port.rxQueue(queue);
        tx = port.txQueue(queue);
        counters = new Counters(port.counters(), Set.of());
        steering = new TcpFlowSteering(port, queue, counters);
        writer = counters.newWriter();
        final int vlan = PortVlan.from(uri);
        link = new Ipv4Link(port, vlan, ThreadLocalRandom.current().nextInt(0x10000));
        localAddress = link.localAddress();
        if (localAddress == 0) {
            throw new BypassUriException(uri.text(), "the port has no IPv4 address: TCP needs one (dpdk: add ip=A.B.C.D/NN)");
        }
        classifier = new FrameClassifier(counters).localMac(link.localMac()).localAddress(localAddress)
            .handleArp(!link.kernelNeighbours()).handleIgmp(false).handleTcp(true).vlan(vlan).checksumPolicy(ChecksumPolicy.from(uri));
        resolver = new NextHopResolver(link, clock);
        arpResponder = new ArpResponder(link, resolver);
        output = new TcpOutput(this, link, resolver, tx, UdpUriParams.UNICAST_TTL.intValue(uri), nagle);
        input = new TcpInput(this, output);
        timers = new TcpTimers(this, output);
        now = clock.nanoTime();
    }

    BypassException closedException() {
        return new BypassException("TCP endpoint on " + uri + " is closed");
    }

    private void ensureOpen() {
        if (closed) {
            throw closedException();
        }
    }

    void count(final Counter counter, final long delta) {
        writer.add(counter, delta);
    }

    long nanoTime() {
        return now;
    }

    TcpOutput output() {
        return output;
    }

    long keepAliveNanos() {
        return keepAliveNanos;
    }

    long timeWaitNanos() {
        return timeWaitNanos;
    }

    boolean delayedAck() {
        return delayedAck;
    }

    /** @return the source MAC of the frame being handled */
    long sourceMac() {
        return classifier.sourceMac();
    }

    /** {@code c} owes its peer an ACK: sent at the end of this burst. */
    void ackLater(final L2TcpConnection c) {
        pending.add(c);
    }

    /** {@code c}'s windows grew: send what they allow at the end of this burst. */
    void touched(final L2TcpConnection c) {
        pending.add(c);
    }

    /** {@inheritDoc} */
    @Override
    public String backend() {
        return port.backend();
    }

    /** {@inheritDoc} */
    @Override
    public PortUri uri() {
        return uri;
    }

    /** @return the port under this endpoint */
    public Port port() {
        return port;
    }

    private L2TcpConnection newConnection(final int remoteAddress, final int remotePort, final int localPort) {
        final L2TcpConnection c = new L2TcpConnection(this, localAddress, localPort, remoteAddress, remotePort,
            new TcpSendBuffer(buffers.takeSend(), buffers.takeScratch()), new TcpReceiveBuffer(buffers.takeReceive()));
        c.rcvWscale = receiveScale;
        c.congestion.start(output.linkMss());
        c.iss = isn.isn(localAddress, localPort, remoteAddress, remotePort, now);
        table.add(c);
        return c;
    }

    /** {@inheritDoc} */
    @Override
    public TcpConnection connect(final int remoteAddress, final int remotePort) {
        ensureOpen();
        if (remoteAddress == 0 || Ipv4.isMulticast(remoteAddress)) {
            throw new IllegalArgumentException("not a unicast address: " + Ipv4.toString(remoteAddress));
        }
        if (remotePort < 1 || remotePort > 65535) {
            throw new IllegalArgumentException("port " + remotePort + " outside 1..65535");
        }
        now = clock.nanoTime();
        // steered (and the port reserved in the kernel) before the SYN goes, so the SYN-ACK comes to us
        final FlowRule flow = steering.connect(localAddress, remoteAddress, remotePort);
        final int localPort = flow != null ? flow.localPort() : table.ephemeralPort(remoteAddress, remotePort, listeners::containsKey);
        if (localPort == 0) {
            counters.increment(Counter.TCP_CONNECT_FAILED);
            throw new BypassException("no ephemeral port free to " + Ipv4.toString(remoteAddress) + ":" + remotePort);
        }
        final L2TcpConnection c;
        try {
            if (table.get(remoteAddress, remotePort, localPort) != null) {
                throw new BypassException("the kernel gave local port " + localPort + " to " + Ipv4.toString(remoteAddress) + ":"
                    + remotePort + ", which a connection of ours still uses");
            }
            c = newConnection(remoteAddress, remotePort, localPort);
        } catch (final RuntimeException e) {
            steering.removeAfterFailure(e, flow);
            throw e;
        }
        c.flow = flow;
        c.state = TcpState.SYN_SENT;
        c.count(Counter.TCP_ACTIVE_OPENS);
        output.syn(c, now);
        output.flush();
        return c;
    }

    /** {@inheritDoc} */
    @Override
    public TcpListener listen(final int localPort) {
        ensureOpen();
        if (localPort < 1 || localPort > 65535) {
            throw new IllegalArgumentException("port " + localPort + " outside 1..65535");
        }
        if (listeners.containsKey(localPort)) {
            throw new BypassException("TCP port " + localPort + " is already listened on (" + uri + ")");
        }
        final L2TcpListener l = new L2TcpListener(this, localPort);
        l.flow = steering.listen(localAddress, localPort);
        listeners.put(localPort, l);
        return l;
    }

    void unlisten(final L2TcpListener l) {
        listeners.remove(l.localPort());
        final FlowRule flow = l.flow;
        l.flow = null;
        steering.remove(flow);
    }

    /** {@code c} is CLOSED: it leaves the table and gives its memory back. */
    void release(final L2TcpConnection c) {
        if (c.released) {
            return;
        }
        c.released = true;
        if (c.listener != null) {
            c.listener.abandoned(c);
        }
        table.remove(c);
        c.receive.discard();
        buffers.give(c.send.ring(), c.send.scratch(), c.receive.ring());
        steering.released(c);
    }

    /** {@inheritDoc} */
    @Override
    public int poll(final int limit) {
        ensureOpen();
        return pollFor(null, null, limit);
    }

    /** One turn of the stack; {@code c}'s in-order bytes go to {@code handler} in place. */
    int pollFor(final L2TcpConnection c, final TcpHandler handler, final int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit " + limit + " < 0");
        }
        target = c;
        targetHandler = handler;
        targetLimit = limit;
        targetCalls = 0;
        work = 0;
        now = clock.nanoTime();
        resolver.tick();
        pending.settleOwedAck(output);
        try {
            rx.poll(onFrame, Math.max(1, limit));
        } finally {
            target = null;
            targetHandler = null;
        }
        runTimers();
        pending.drain(this, c != null && targetCalls > 0 ? c : null);
        output.flush();
        steering.throwFailure();
        return c != null ? targetCalls : work;
    }

    private void runTimers() {
        for (int i = table.size() - 1; i >= 0; i--) {
            if (i >= table.size()) {
                continue;
            }
            final L2TcpConnection c = table.at(i);
            if (now >= TcpTimers.nextDeadline(c)) {
                work++;
                timers.run(c, now);
            }
        }
    }

    private void onFrame(final DirectBuffer buffer, final int offset, final int length, final FrameMeta meta) {
        final FrameClassifier fc = classifier;
        final int kind = fc.classify(buffer, offset, length, meta.checksumVerdict());
        if (kind == FrameClassifier.TCP) {
            work++;
            segment(buffer, fc.tcp());
        } else if (kind == FrameClassifier.ARP) {
            counters.increment(Counter.RX_CONTROL);
            arpResponder.onArp(buffer, fc.l4Offset(), tx);
        }
    }

    private void segment(final DirectBuffer frame, final Tcp seg) {
        final int remoteAddress = classifier.sourceAddress();
        final L2TcpConnection c = table.get(remoteAddress, seg.sourcePort(), seg.destinationPort());
        if (c != null) {
            final boolean polled = c == target;
            final int calls = input.arrives(c, seg, frame, now, polled ? targetHandler : null, polled ? targetLimit - targetCalls : 0);
            if (polled) {
                targetCalls += calls;
            }
            return;
        }
        final L2TcpListener l = listeners.get(seg.destinationPort());
        final int flags = seg.flags();
        if (l != null && (flags & (Tcp.SYN | Tcp.ACK | Tcp.RST | Tcp.FIN)) == Tcp.SYN) {
            if (l.full()) {
                counters.increment(Counter.DROP_TCP_NO_CONNECTION);
                return;
            }
            final L2TcpConnection n = newConnection(remoteAddress, seg.sourcePort(), seg.destinationPort());
            n.listener = l;
            l.pending++;
            n.offerScale = seg.windowScale() >= 0;
            n.offerSack = seg.sackPermitted();
            n.state = TcpState.SYN_RECEIVED;
            input.peerSyn(n, seg);
            output.syn(n, now);
            return;
        }
        counters.increment(Counter.DROP_TCP_NO_CONNECTION);
        if ((flags & (Tcp.SYN | Tcp.ACK)) == Tcp.SYN) {
            // a SYN to a port nobody listens on: refused (RFC 9293 3.10.7.1). Other segments for no connection
            // are dropped without a RST: another endpoint on the same wire and address (a second port on the
            // interface) may own them, and a RST from us would kill its connection.
            output.resetFor(frame, classifier.sourceMac(), remoteAddress, seg);
        }
    }

    /** {@inheritDoc} */
    @Override
    public Counters counters() {
        return counters;
    }

    /** {@inheritDoc} */
    @Override
    public boolean isClosed() {
        return closed;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Each open connection gets one last send of what the windows allow, then a FIN (a RST if
     * bytes it received were never read), and ends CLOSED "endpoint closed".
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        final Closer closer = new Closer("closing TCP endpoint on " + uri);
        final java.util.List<L2TcpListener> open = new java.util.ArrayList<>(listeners.values());
        listeners.clear(); // no new connection while the others end
        if (!port.isClosed()) {
            closer.run("ending connections", this::endConnections);
            closer.run("flushing", tx::flush);
        }
        closed = true;
        steering.closing(open, closer);
        buffers.clear();
        if (closePort) {
            closer.close("closing the port", port);
        }
        closer.throwIfFailed();
    }

    // Sends each connection's FIN (or RST). Where flows are steered it lingers, polling (LINGER_NANOS at most), until every
    // FIN is acknowledged: a removed rule hands the flow back to the kernel, which would reset the peer's ACK of our last bytes.
    private void endConnections() {
        now = clock.nanoTime();
        final boolean linger = steering.enabled();
        for (int i = table.size() - 1; i >= 0; i--) {
            table.at(i).endpointClosed(now, linger);
        }
        final long deadline = now + LINGER_NANOS;
        while (linger && table.finsUnacknowledged() && clock.nanoTime() < deadline) {
            pollFor(null, null, 64);
        }
        for (int i = table.size() - 1; i >= 0; i--) {
            table.at(i).closed("endpoint closed");
        }
    }


    /** @return the endpoint's URI, address and connection count, for logs */
    @Override
    public String toString() {
        return "L2TcpEndpoint[" + uri + (closed ? ", closed" : "") + ", " + Ipv4.toString(localAddress) + ", " + table.size()
            + " connections]";
    }
}
