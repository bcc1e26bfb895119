package io.bypass.udp;

import io.bypass.BypassException;
import io.bypass.BypassUriException;
import io.bypass.Capability;
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
import io.bypass.net.IgmpReporter;
import io.bypass.net.Ipv4;
import io.bypass.net.Ipv4Link;
import io.bypass.net.NeighbourTable;
import io.bypass.net.NextHopResolver;
import io.bypass.spi.ClaimOwner;
import io.bypass.spi.Closer;
import io.bypass.spi.PortVlan;
import io.bypass.spi.UdpRules;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The shared UDP/IPv4 protocol layer over any L2 {@link Port}: every L2 backend (ef_vi,
 * DPDK, AF_XDP) gets unicast, multicast, ARP and IGMP from this one class, through
 * {@link io.bypass.spi.BackendProvider#openUdp(PortUri)}. What is not UDP's own job is done
 * by the pieces in {@link io.bypass.net} that TCP uses too: {@link Ipv4Link} (our addresses,
 * the Ethernet header, IPv4 identification), {@link NextHopResolver} (routing and the
 * neighbour table), {@link ArpResponder} and {@link IgmpReporter}.
 *
 * <p>Receive: {@link #poll} polls one RX queue, validates each frame with a
 * {@link FrameClassifier} (malformed and foreign frames are counted by reason in
 * {@link #counters()}, never thrown) and hands UDP payloads to the
 * {@link DatagramHandler} in place, zero copy. ARP requests for the port's address are
 * answered and neighbours learned; IGMP queries for joined groups are answered. Where
 * the port has {@link Capability#KERNEL_NEIGHBOURS} the kernel owns ARP and IGMP, so this
 * layer leaves them alone and asks {@link Port#resolveNeighbour(int)} for next hops.
 *
 * <p>Transmit: {@link #tryClaim} routes (same subnet or multicast: the destination
 * itself; otherwise the port's gateway), finds the next hop's MAC in its
 * {@link NeighbourTable} (sending a rate-limited ARP request and returning
 * {@link #NEIGHBOUR_PENDING} while unknown), claims a frame on the TX queue, writes the
 * Ethernet, IPv4 and UDP headers and points the {@link DatagramClaim} at the payload so
 * the application writes it in place. Commit fills the lengths and checksums (the UDP
 * checksum is left to the NIC with {@link Capability#TX_CHECKSUM_OFFLOAD}: the field then
 * holds the pseudo-header sum, as DPDK and Linux expect). Frames leave at {@link #flush()}.
 *
 * <p>URI keys it reads, declared in {@link UdpUriParams} (backends accept them through
 * {@link UdpUriParams#L2_ENDPOINT}):
 * <ul>
 *   <li>{@code queue}: RX and TX queue index, default 0.</li>
 *   <li>{@code port}: source UDP port before any {@link #bind}; default an ephemeral port.</li>
 *   <li>{@code unicastTtl}: IPv4 TTL for unicast, default 64.</li>
 *   <li>{@code multicastTtl}: IPv4 TTL for multicast, default 1 (as {@code IP_MULTICAST_TTL}).</li>
 *   <li>{@code igmp}: IGMP version of the reports sent on join and leave, 2 or 3 (default).</li>
 *   <li>{@code vlan}: the 802.1Q VLAN id, 0 (default: untagged) or 1..4094; frames of any
 *       other VLAN are counted as {@link Counter#DROP_WRONG_VLAN}, and every frame sent
 *       (datagrams, ARP, IGMP) carries the tag. See {@link io.bypass.spi.PortVlan}.</li>
 *   <li>{@code checksum}: how received checksums are checked, {@code nic} (default: the NIC's
 *       verdict where it gives one), {@code partial} or {@code verify}; see {@link ChecksumPolicy}.</li>
 * </ul>
 *
 * <pre>{@code
 * try (UdpEndpoint udp = new L2UdpEndpoint(port, port.uri(), true)) {
 *     udp.join(Ipv4.parse("239.1.1.1"), 30001);
 *     while (running) {
 *         idle.idle(udp.poll(onDatagram, 64));
 *     }
 * }
 * }</pre>
 *
 * <p>Call {@link #poll} regularly even when only sending: it answers ARP and IGMP and
 * advances the clock neighbour expiry is judged by. Use from one thread.
 * Not done here: IP fragments (dropped and counted), IP options on transmit, multicast
 * loopback to the sending endpoint, IGMP report retransmission and response delays.
 */
public final class L2UdpEndpoint implements UdpEndpoint, ClaimOwner {
    private static final int EPHEMERAL_LOW = 32768;
    private static final int EPHEMERAL_HIGH = 60999;

    private final Port port;
    private final PortUri uri;
    private final boolean closePort;
    private final Set<Capability> capabilities;
    /**
     * What {@link #counters()} returns: stacked on the port's, with RX_PACKETS/RX_BYTES
     * counted here as datagrams and payload bytes instead of the port's frames.
     */
    private final Counters endpointCounters;
    /** Where this endpoint counts: its own, or a warm-up's scratch counters while it runs. */
    private Counters counters;
    /** The polling thread's RX_PACKETS/RX_BYTES: poll is single-threaded, so no atomic add per poll. */
    private Counters.Writer pollCounters;
    private final Counters.Writer livePollCounters;
    private final int queueId;
    // Not final: warmUp points them at warm-up queues for its duration (the JIT trusts no
    // instance field as constant anyway, so this costs the hot path nothing).
    private RxQueue rx;
    private TxQueue tx;
    private final boolean kernelNeighbours;
    private final int localAddress;

    private final Ipv4Link link;
    private final NextHopResolver resolver;
    private final ArpResponder arpResponder;
    private final IgmpReporter igmpReporter;
    private final FrameClassifier classifier;
    private final L2UdpSender sender;
    private final L2UdpFlows flows;
    private final FrameHandler onFrame = this::onFrame;
    private final DatagramMeta datagramMeta = new DatagramMeta();

    private DatagramHandler handler;
    private int delivered;
    private long deliveredBytes;
    private boolean closed;

    /**
     * Opens the protocol layer over {@code port}. Reads the URI parameters listed in the
     * class description.
     *
     * @param port      an open L2 port
     * @param uri       the URI the endpoint was asked for (its parameters are read here)
     * @param closePort whether {@link #close()} also closes {@code port}
     * @throws BypassUriException if a parameter is malformed or the queue does not exist
     */
    public L2UdpEndpoint(final Port port, final PortUri uri, final boolean closePort) {
        this(port, uri, closePort, SystemNanoClock.INSTANCE);
    }

    /**
     * Opens the protocol layer with a given clock for neighbour expiry and ARP retries
     * (tests drive time with a {@link org.agrona.concurrent.CachedNanoClock}).
     *
     * @param port      an open L2 port
     * @param uri       the URI the endpoint was asked for
     * @param closePort whether {@link #close()} also closes {@code port}
     * @param nanoClock read after polls ({@link NextHopResolver#afterPoll}), on ARP and when soliciting a neighbour
     * @throws BypassUriException if a parameter is malformed or the queue does not exist
     */
    public L2UdpEndpoint(final Port port, final PortUri uri, final boolean closePort, final NanoClock nanoClock) {
        Objects.requireNonNull(nanoClock, "nanoClock");
        this.port = Objects.requireNonNull(port, "port");
        this.uri = Objects.requireNonNull(uri, "uri");
        this.closePort = closePort;
        if (port.isClosed()) {
            throw new BypassException("cannot open a UDP endpoint on a closed port (" + uri + ")");
        }
        capabilities = port.capabilities();
        endpointCounters = new Counters(port.counters(), EnumSet.of(Counter.RX_PACKETS, Counter.RX_BYTES));
        counters = endpointCounters;
        livePollCounters = counters.newWriter();
        pollCounters = livePollCounters;
        queueId = UdpUriParams.QUEUE.intValue(uri);
        if (queueId >= port.rxQueueCount() || queueId >= port.txQueueCount()) {
            throw new BypassUriException(uri.text(), "parameter 'queue' is " + queueId + " but the port has "
                + port.rxQueueCount() + " RX and " + port.txQueueCount() + " TX queues; open it with more queues or pick a lower one");
        }
        rx = port.rxQueue(queueId);
        tx = port.txQueue(queueId);
        final int configuredPort = UdpUriParams.PORT.intValue(uri, 0);
        final int sourcePort = configuredPort != 0 ? configuredPort : ThreadLocalRandom.current().nextInt(EPHEMERAL_LOW, EPHEMERAL_HIGH + 1);
        final int unicastTtl = UdpUriParams.UNICAST_TTL.intValue(uri);
        final int multicastTtl = UdpUriParams.MULTICAST_TTL.intValue(uri);
        final int igmpVersion = UdpUriParams.IGMP.intValue(uri);
        final int vlan = PortVlan.from(uri);
        link = new Ipv4Link(port, vlan, ThreadLocalRandom.current().nextInt(0x10000));
        kernelNeighbours = link.kernelNeighbours();
        localAddress = link.localAddress();
        classifier = new FrameClassifier(endpointCounters)
            .localMac(link.localMac())
            .localAddress(localAddress)
            .handleArp(!kernelNeighbours)
            .handleIgmp(!kernelNeighbours)
            .vlan(vlan)
            .checksumPolicy(ChecksumPolicy.from(uri));
        resolver = new NextHopResolver(link, nanoClock);
        sender = new L2UdpSender(uri, link, resolver, tx, endpointCounters, sourcePort, unicastTtl, multicastTtl,
            capabilities.contains(Capability.TX_CHECKSUM_OFFLOAD));
        arpResponder = new ArpResponder(link, resolver);
        igmpReporter = new IgmpReporter(link, classifier.subscriptions(), igmpVersion);
        flows = new L2UdpFlows(port, queueId, localAddress, classifier, kernelNeighbours ? null : igmpReporter);
    }

    private BypassException closedException() {
        return UdpRules.closed(uri);
    }

    private void ensureOpen() {
        if (closed) {
            throw closedException();
        }
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

    /** {@inheritDoc} */
    @Override
    public Set<Capability> capabilities() {
        return capabilities;
    }

    /**
     * @return the port under this endpoint
     */
    public Port port() {
        return port;
    }

    /**
     * @return the neighbour (ARP) cache; read it from the polling thread only
     */
    public NeighbourTable neighbours() {
        return resolver.neighbours();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Steers {@code FlowRule(localAddress, port)} to this endpoint's queue.
     */
    @Override
    public void bind(final int udpPort) {
        ensureOpen();
        UdpRules.checkPort(udpPort);
        flows.bind(udpPort);
        sender.sourcePort(udpPort);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Steers {@code FlowRule(group, port)} to this endpoint's queue and calls
     * {@link Port#joinMulticast(int)} for a new group; without
     * {@link Capability#KERNEL_NEIGHBOURS} also sends an IGMP membership report (v3
     * CHANGE_TO_EXCLUDE_MODE, or v2 with {@code igmp=2}). Joining twice is a no-op.
     *
     * @throws IllegalArgumentException if {@code group} is not multicast or the port is out of range
     */
    @Override
    public void join(final int group, final int udpPort) {
        ensureOpen();
        UdpRules.checkGroup(group);
        UdpRules.checkPort(udpPort);
        flows.join(group, udpPort, tx);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Undoes {@link #join}: removes the flow, and for the group's last port sends an
     * IGMP leave (v3 CHANGE_TO_INCLUDE_MODE with no sources, or v2 Leave Group) unless
     * the kernel owns IGMP, then calls {@link Port#leaveMulticast(int)}.
     *
     * @throws IllegalArgumentException if {@code group:port} is not joined or the arguments are invalid
     */
    @Override
    public void leave(final int group, final int udpPort) {
        ensureOpen();
        UdpRules.checkGroup(group);
        UdpRules.checkPort(udpPort);
        flows.leave(group, udpPort, tx);
    }

    /** {@inheritDoc} */
    @Override
    public int poll(final DatagramHandler handler, final int limit) {
        if (closed) {
            throw closedException();
        }
        this.handler = handler;
        delivered = 0;
        deliveredBytes = 0;
        try {
            rx.poll(onFrame, limit);
        } finally {
            resolver.afterPoll(); // after, not before, and seldom: a request never waits for the clock
            this.handler = null;
            // datagrams and payload bytes, in this endpoint's own counters: what the port
            // counts for the same frames stays in the port's, which these do not add
            if (delivered != 0) {
                pollCounters.add(Counter.RX_PACKETS, delivered);
                pollCounters.add(Counter.RX_BYTES, deliveredBytes);
            }
        }
        return delivered;
    }

    private void onFrame(final DirectBuffer buffer, final int offset, final int length, final FrameMeta meta) {
        final FrameClassifier c = classifier;
        final int kind = c.classify(buffer, offset, length, meta.checksumVerdict());
        if (kind == FrameClassifier.UDP) {
            final int payloadLength = c.payloadLength();
            datagramMeta.set(c.sourceAddress(), c.sourcePort(), c.destinationAddress(), c.destinationPort(), meta.timestampNanos());
            delivered++;
            deliveredBytes += payloadLength;
            handler.onDatagram(buffer, c.payloadOffset(), payloadLength, datagramMeta);
        } else if (kind == FrameClassifier.ARP) {
            counters.increment(Counter.RX_CONTROL);
            resolver.tick(); // a neighbour learned now is stamped now, however long the gap before this poll
            arpResponder.onArp(buffer, c.l4Offset(), tx);
        } else if (kind == FrameClassifier.IGMP) {
            counters.increment(Counter.RX_CONTROL);
            igmpReporter.onIgmp(buffer, c.l4Offset(), c.l4Length(), tx);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Returns {@link #TOO_LONG} (counted as {@link Counter#DROP_TOO_LONG}) above
     * {@link #maxPayloadLength()}; {@link #NEIGHBOUR_PENDING} (counted as
     * {@link Counter#DROP_NEIGHBOUR_UNRESOLVED}) while the next hop's MAC is unknown, or
     * when the destination is off-subnet and the port has no gateway;
     * {@link #BACK_PRESSURED} when the TX ring is full (the TX queue counts it).
     *
     * @throws IllegalStateException if the previous claim is neither committed nor aborted
     * @throws IllegalArgumentException if {@code length} is negative
     */
    @Override
    public int tryClaim(final UdpDestination destination, final int length, final DatagramClaim claim) {
        return sender.tryClaim(destination, length, claim);
    }

    /** {@inheritDoc} */
    @Override
    public int warmUp(final DatagramHandler handler, final DirectBuffer payload, final int offset, final int length,
                      final int datagrams) {
        final L2UdpWarmUp warmUp = prepareWarmUp(payload, offset, length, datagrams);
        return warmUp.diverted(this, (queues, delivered) -> warmUp.run(this, queues, handler, payload, offset, length, datagrams));
    }

    /** {@inheritDoc} */
    @Override
    public int warmUpDutyCycle(final DutyCycle dutyCycle, final DirectBuffer payload, final int offset, final int length,
                               final int datagrams) {
        Objects.requireNonNull(dutyCycle, "dutyCycle");
        final L2UdpWarmUp warmUp = prepareWarmUp(payload, offset, length, datagrams);
        return warmUp.diverted(this, (queues, delivered) -> UdpRules.runDutyCycle(dutyCycle, delivered, datagrams, () -> {
            warmUp.beforeTurn();
            queues.warmUpTurn();
        }));
    }

    private L2UdpWarmUp prepareWarmUp(final DirectBuffer payload, final int offset, final int length, final int datagrams) {
        ensureOpen();
        final FlowRule flow = flows.first();
        UdpRules.checkWarmUp(length, sender.maxPayloadLength(), datagrams, flow != null);
        return new L2UdpWarmUp(link, flow, payload, offset, length, resolver, tx.maxFrameLength());
    }

    /**
     * For {@link L2UdpWarmUp}: points this endpoint at warm-up queues and scratch counters
     * ({@code delivered} counts the datagrams its polls deliver); {@code null} queues put the
     * live ones back.
     */
    void divert(final RxQueue warmRx, final TxQueue warmTx, final Counters scratch, final Counters delivered) {
        final boolean live = warmRx == null;
        rx = live ? port.rxQueue(queueId) : warmRx;
        tx = live ? port.txQueue(queueId) : warmTx;
        pollCounters = live ? livePollCounters : delivered.newWriter();
        counters = live ? endpointCounters : scratch;
        classifier.countInto(counters);
        sender.divert(tx, counters);
    }

    /**
     * For {@link DatagramClaim}: fills lengths and checksums and commits the frame. Claims
     * from {@link #tryClaim} commit through the send path directly; this is the same call.
     *
     * @param token  the claim's sequence number
     * @param length payload bytes written
     * @throws BypassException if the endpoint was closed since the claim
     * @throws IllegalStateException if {@code token} is not the outstanding claim's
     */
    @Override
    public void commit(final long token, final int length) {
        sender.commit(token, length);
    }

    /**
     * For {@link DatagramClaim}: gives the frame back unsent.
     *
     * @param token the claim's sequence number
     * @throws BypassException if the endpoint was closed since the claim
     * @throws IllegalStateException if {@code token} is not the outstanding claim's
     */
    @Override
    public void abort(final long token) {
        sender.abort(token);
    }

    /** {@inheritDoc} */
    @Override
    public int send(final UdpDestination destination, final DirectBuffer buffer, final int offset, final int length) {
        return sender.send(destination, buffer, offset, length);
    }

    /** {@inheritDoc} */
    @Override
    public int flush() {
        return sender.flush();
    }

    /** {@inheritDoc} */
    @Override
    public int maxPayloadLength() {
        return sender.maxPayloadLength();
    }

    /** {@inheritDoc} */
    @Override
    public int localAddress() {
        return localAddress;
    }

    /** {@inheritDoc} */
    @Override
    public int localPort() {
        return sender.sourcePort();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Counters {@linkplain Counters#Counters(Counters, Set) stacked} on the port's, so
     * kernel and NIC statistics appear here too. {@code RX_PACKETS} and {@code RX_BYTES}
     * count the datagrams and payload bytes this endpoint delivered (added once per poll;
     * the port's own counts of the frames they came in, where it keeps them, stay in
     * {@link Port#counters()} and are not added here). {@code TX_PACKETS} and {@code TX_BYTES} are
     * the port's frame counts, ARP and IGMP included: a datagram counts its Ethernet frame,
     * {@link io.bypass.spi.UdpRules#frameLength(int)} bytes, as on every backend. {@code RX_CONTROL} counts ARP and
     * IGMP frames handled here; each dropped frame increments exactly one drop counter.
     * Every other counter is the port's plus this endpoint's.
     */
    @Override
    public Counters counters() {
        return endpointCounters;
    }

    /** {@inheritDoc} */
    @Override
    public boolean isClosed() {
        return closed;
    }

    /**
     * Leaves every group (sending IGMP leaves where this layer owns IGMP), removes every
     * flow, flushes, and closes the port if asked to at construction. Carries on past
     * failures so the port is always closed, then reports them all (see {@link Closer}). Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        sender.close();
        final Closer closer = new Closer("closing UDP endpoint on " + uri);
        if (!port.isClosed()) {
            closer.run("aborting the pending frame", sender::abortFrame);
            flows.removeAll(tx, closer);
            closer.run("flushing", tx::flush);
        }
        flows.clear();
        if (closePort) {
            closer.close("closing the port", port);
        }
        closer.throwIfFailed();
    }

    /** @return the endpoint's URI and state, for logs */
    @Override
    public String toString() {
        return "L2UdpEndpoint[" + uri + (closed ? ", closed" : "") + ", " + Ipv4.toString(localAddress) + ":" + sender.sourcePort() + "]";
    }
}
