package io.bypass.udp;

import io.bypass.BypassException;
import io.bypass.BypassUriException;
import io.bypass.Capability;
import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.FlowRule;
import io.bypass.FrameClaim;
import io.bypass.FrameHandler;
import io.bypass.FrameMeta;
import io.bypass.Port;
import io.bypass.PortUri;
import io.bypass.RxQueue;
import io.bypass.TxQueue;
import io.bypass.net.Arp;
import io.bypass.net.ChecksumPolicy;
import io.bypass.net.Checksums;
import io.bypass.net.Ethernet;
import io.bypass.net.FrameClassifier;
import io.bypass.net.Igmp;
import io.bypass.net.IgmpV3Report;
import io.bypass.net.Ipv4;
import io.bypass.net.Ipv4Header;
import io.bypass.net.Mac;
import io.bypass.net.NeighbourTable;
import io.bypass.net.Udp;
import io.bypass.spi.ClaimOwner;
import io.bypass.spi.PortVlan;
import io.bypass.spi.SyntheticQueues;
import io.bypass.spi.UdpRules;
import io.bypass.spi.WarmUpQueues;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The shared UDP/IPv4 protocol layer over any L2 {@link Port}: every L2 backend (ef_vi,
 * DPDK, AF_XDP) gets unicast, multicast, ARP and IGMP from this one class, through
 * {@link io.bypass.spi.BackendProvider#openUdp(PortUri)}.
 *
 * <p>Receive: {@link #poll} polls one RX queue, validates each frame with a
 * {@link FrameClassifier} (malformed and foreign frames are counted by reason in the
 * port's {@link Counters}, never thrown) and hands UDP payloads to the
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
 * <p>URI parameters it reads (backends accept them through {@link #URI_PARAMETERS}):
 * <ul>
 *   <li>{@code queue}: RX and TX queue index, default 0.</li>
 *   <li>{@code port}: source UDP port before any {@link #bind}; default an ephemeral port.</li>
 *   <li>{@code ttl}: IPv4 TTL for unicast, default 64.</li>
 *   <li>{@code mcast_ttl}: IPv4 TTL for multicast, default 1 (as {@code IP_MULTICAST_TTL}).</li>
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
    /** URI parameters this layer reads; L2 backends include them in their {@code requireOnly} set. */
    public static final Set<String> URI_PARAMETERS = Set.of("queue", "port", "ttl", "mcast_ttl", "igmp", PortVlan.PARAM_NAME,
        ChecksumPolicy.PARAM_NAME);

    /** IGMP goes with the Router Alert option (RFC 2236 section 2, RFC 3376 section 4). */
    private static final int IGMP_IP_HEADER_LENGTH = Ipv4Header.MIN_HEADER_LENGTH + 4;
    /** Internetwork control precedence, as Linux sends IGMP. */
    private static final int TOS_INTERNETWORK_CONTROL = 0xC0;
    private static final int LIMITED_BROADCAST = 0xFFFF_FFFF;
    private static final long REACHABLE_NANOS = 30_000_000_000L;
    private static final long ARP_RETRY_NANOS = 1_000_000_000L;
    private static final long KERNEL_RETRY_NANOS = 10_000_000L;
    /** Used when a port cannot tell its MTU (reports 0). */
    private static final int DEFAULT_MTU = 1500;
    private static final int EPHEMERAL_LOW = 32768;
    private static final int EPHEMERAL_HIGH = 60999;
    /** Warm-up datagrams come from TEST-NET-1 (RFC 5737) and a locally administered MAC, and never leave the process. */
    private static final int WARM_UP_SOURCE = Ipv4.parse("192.0.2.1");
    private static final int WARM_UP_SOURCE_PORT = 9;
    private static final long WARM_UP_SOURCE_MAC = 0x02_00_00_00_00_09L;
    /** Where warm-up sends go when nothing is joined: an administratively scoped group, so no neighbour is resolved. */
    private static final int WARM_UP_GROUP = Ipv4.parse("239.255.0.9");
    private static final int WARM_UP_BATCH = 64;

    private final NanoClock nanoClock;
    private final Port port;
    private final PortUri uri;
    private final boolean closePort;
    private final Set<Capability> capabilities;
    /** The port's counters, which {@link #counters()} returns. */
    private final Counters portCounters;
    /** Where this endpoint counts: the port's, or a warm-up's scratch counters while it runs. */
    private Counters counters;
    /** The polling thread's RX_PACKETS/RX_BYTES corrections: poll is single-threaded, so no atomic add per poll. */
    private Counters.Writer pollCounters;
    private final int queueId;
    // Not final: warmUp points them at warm-up queues for its duration (the JIT trusts no
    // instance field as constant anyway, so this costs the hot path nothing).
    private RxQueue rx;
    private TxQueue tx;
    private final boolean kernelNeighbours;
    private final boolean checksumOffload;
    private final int igmpVersion;
    private final int unicastTtl;
    private final int multicastTtl;
    private final long localMac;
    private final int localAddress;
    private final int prefixLength;
    private final int gateway;
    private final int mtu;
    private final int maxPayloadLength;
    /** The VLAN id sent and accepted, 0 for untagged. */
    private final int vlan;
    // Where each header starts in a frame we send: 4 bytes later behind an 802.1Q tag.
    private final int ipOffset;
    private final int udpOffset;
    private final int igmpOffset;
    /** Ethernet (with the tag, if any), IPv4 and UDP headers. */
    private final int headers;

    private final FrameClassifier classifier;
    private final NeighbourTable neighbours;
    private final FrameHandler onFrame = this::onFrame;
    private final FrameClaim frameClaim = new FrameClaim();
    private final FrameClaim controlClaim = new FrameClaim();
    private final DatagramClaim sendClaim = new DatagramClaim();
    private final DatagramMeta datagramMeta = new DatagramMeta();
    private final Ethernet ethernet = new Ethernet();
    private final Ipv4Header ip = new Ipv4Header();
    private final Udp udp = new Udp();
    private final Arp arp = new Arp();
    private final Igmp igmp = new Igmp();
    private final IgmpV3Report igmpReport = new IgmpV3Report();
    private final List<FlowRule> boundFlows = new ArrayList<>();
    private final List<FlowRule> joinedFlows = new ArrayList<>();

    private DatagramHandler handler;
    private int delivered;
    private long deliveredBytes;
    private long clockNanos;
    private int sourcePort;
    private int identification;
    private int pendingDestination;
    private DatagramClaim pendingClaim;
    private long claimSequence;
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
     * @param nanoClock read once per {@link #poll} and when resolving a neighbour
     * @throws BypassUriException if a parameter is malformed or the queue does not exist
     */
    public L2UdpEndpoint(final Port port, final PortUri uri, final boolean closePort, final NanoClock nanoClock) {
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        this.port = Objects.requireNonNull(port, "port");
        this.uri = Objects.requireNonNull(uri, "uri");
        this.closePort = closePort;
        if (port.isClosed()) {
            throw new BypassException("cannot open a UDP endpoint on a closed port (" + uri + ")");
        }
        capabilities = port.capabilities();
        portCounters = port.counters();
        counters = portCounters;
        pollCounters = counters.newWriter();
        queueId = uri.getInt("queue", 0, 0, 65535);
        if (queueId >= port.rxQueueCount() || queueId >= port.txQueueCount()) {
            throw new BypassUriException(uri.text(), "parameter 'queue' is " + queueId + " but the port has "
                + port.rxQueueCount() + " RX and " + port.txQueueCount() + " TX queues; open it with more queues or pick a lower one");
        }
        rx = port.rxQueue(queueId);
        tx = port.txQueue(queueId);
        final int configuredPort = uri.getInt("port", 0, 0, 65535);
        sourcePort = configuredPort != 0 ? configuredPort : ThreadLocalRandom.current().nextInt(EPHEMERAL_LOW, EPHEMERAL_HIGH + 1);
        unicastTtl = uri.getInt("ttl", 64, 1, 255);
        multicastTtl = uri.getInt("mcast_ttl", 1, 1, 255);
        igmpVersion = uri.getInt("igmp", 3, 2, 3);
        vlan = PortVlan.from(uri);
        ipOffset = vlan != PortVlan.UNTAGGED ? Ethernet.VLAN_HEADER_LENGTH : Ethernet.HEADER_LENGTH;
        udpOffset = ipOffset + Ipv4Header.MIN_HEADER_LENGTH;
        igmpOffset = ipOffset + IGMP_IP_HEADER_LENGTH;
        headers = udpOffset + Udp.HEADER_LENGTH;
        kernelNeighbours = capabilities.contains(Capability.KERNEL_NEIGHBOURS);
        checksumOffload = capabilities.contains(Capability.TX_CHECKSUM_OFFLOAD);
        localMac = port.macAddress() & Mac.MASK;
        localAddress = port.ipv4Address();
        prefixLength = port.ipv4PrefixLength();
        gateway = port.ipv4Gateway();
        mtu = port.mtu() > 0 ? port.mtu() : DEFAULT_MTU;
        maxPayloadLength = Math.max(0, Math.min(mtu - Udp.IPV4_UDP_HEADERS, tx.maxFrameLength() - headers));
        classifier = new FrameClassifier(counters)
            .localMac(localMac)
            .localAddress(localAddress)
            .handleArp(!kernelNeighbours)
            .handleIgmp(!kernelNeighbours)
            .vlan(vlan)
            .checksumPolicy(ChecksumPolicy.from(uri));
        neighbours = new NeighbourTable(16, REACHABLE_NANOS, kernelNeighbours ? KERNEL_RETRY_NANOS : ARP_RETRY_NANOS);
        identification = ThreadLocalRandom.current().nextInt(0x10000);
        clockNanos = nanoClock.nanoTime();
    }

    private BypassException closedException() {
        return UdpRules.closed(uri);
    }

    private void ensureOpen() {
        if (closed) {
            throw closedException();
        }
    }

    private static void checkPort(final int udpPort) {
        UdpRules.checkPort(udpPort);
    }

    private static void checkGroup(final int group) {
        UdpRules.checkGroup(group);
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
        return neighbours;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Steers {@code FlowRule(localAddress, port)} to this endpoint's queue.
     */
    @Override
    public void bind(final int udpPort) {
        ensureOpen();
        checkPort(udpPort);
        if (!classifier.isBound(udpPort)) {
            final FlowRule rule = new FlowRule(localAddress, udpPort);
            port.addFlow(queueId, rule);
            classifier.bind(udpPort);
            boundFlows.add(rule);
        }
        sourcePort = udpPort;
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
        checkGroup(group);
        checkPort(udpPort);
        if (classifier.isJoined(group, udpPort)) {
            return;
        }
        final FlowRule rule = new FlowRule(group, udpPort);
        port.addFlow(queueId, rule);
        final boolean newGroup = !classifier.isJoined(group);
        if (newGroup) {
            try {
                port.joinMulticast(group);
            } catch (final RuntimeException e) {
                port.removeFlow(queueId, rule);
                throw e;
            }
        }
        classifier.join(group, udpPort);
        joinedFlows.add(rule);
        if (newGroup && !kernelNeighbours) {
            if (igmpVersion == 3) {
                sendV3Report(IgmpV3Report.CHANGE_TO_EXCLUDE_MODE, group);
            } else {
                sendIgmpV2(Igmp.TYPE_V2_MEMBERSHIP_REPORT, group, group);
            }
            tx.flush();
        }
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
        checkGroup(group);
        checkPort(udpPort);
        if (!classifier.isJoined(group, udpPort)) {
            throw UdpRules.notJoined(group, udpPort);
        }
        doLeave(group, udpPort);
        joinedFlows.remove(new FlowRule(group, udpPort));
    }

    private void doLeave(final int group, final int udpPort) {
        final boolean lastPort = classifier.leave(group, udpPort);
        port.removeFlow(queueId, new FlowRule(group, udpPort));
        if (lastPort) {
            if (!kernelNeighbours) {
                if (igmpVersion == 3) {
                    sendV3Report(IgmpV3Report.CHANGE_TO_INCLUDE_MODE, group);
                } else {
                    sendIgmpV2(Igmp.TYPE_V2_LEAVE_GROUP, group, Igmp.ALL_ROUTERS);
                }
                tx.flush();
            }
            port.leaveMulticast(group);
        }
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
        clockNanos = nanoClock.nanoTime();
        final Counters c = counters;
        final long packetsBefore = c.get(Counter.RX_PACKETS);
        final long bytesBefore = c.get(Counter.RX_BYTES);
        try {
            rx.poll(onFrame, limit);
        } finally {
            this.handler = null;
            // RX_PACKETS/RX_BYTES count datagrams and payload bytes delivered here; a port that
            // counted the frames of this batch in the shared counters is corrected, not doubled
            final long packets = delivered - (c.get(Counter.RX_PACKETS) - packetsBefore);
            final long bytes = deliveredBytes - (c.get(Counter.RX_BYTES) - bytesBefore);
            if (packets != 0) {
                pollCounters.add(Counter.RX_PACKETS, packets);
            }
            if (bytes != 0) {
                pollCounters.add(Counter.RX_BYTES, bytes);
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
            onArp(buffer);
        } else if (kind == FrameClassifier.IGMP) {
            onIgmp(buffer);
        }
    }

    private void onArp(final DirectBuffer buffer) {
        counters.increment(Counter.RX_CONTROL);
        arp.wrap(buffer, classifier.l4Offset(), Arp.LENGTH);
        final long senderMac = arp.senderMac();
        final int senderAddress = arp.senderAddress();
        final boolean validSender = senderAddress != 0 && senderAddress != localAddress
            && !Mac.isMulticast(senderMac) && senderMac != Mac.ZERO;
        if (arp.targetAddress() != localAddress) {
            // gratuitous: update a neighbour we already use (RFC 826 merge), never add one
            if (validSender) {
                neighbours.refresh(senderAddress, senderMac, clockNanos);
            }
            return;
        }
        if (validSender) {
            neighbours.learn(senderAddress, senderMac, clockNanos);
        }
        if (arp.operation() == Arp.OP_REQUEST) {
            sendArp(Arp.OP_REPLY, senderMac, senderMac, senderAddress);
            tx.flush();
        }
    }

    private void onIgmp(final DirectBuffer buffer) {
        counters.increment(Counter.RX_CONTROL);
        final int length = classifier.l4Length();
        igmp.wrap(buffer, classifier.l4Offset(), length);
        if (igmp.type() != Igmp.TYPE_MEMBERSHIP_QUERY) {
            return; // another member's report or leave: hosts need do nothing
        }
        final int group = igmp.groupAddress();
        final boolean v3 = length >= Igmp.V3_QUERY_MIN_LENGTH;
        final int v2Type = igmp.maxResponseCode() == 0 ? Igmp.TYPE_V1_MEMBERSHIP_REPORT : Igmp.TYPE_V2_MEMBERSHIP_REPORT;
        // answered at once rather than after a random delay: one host per group, no report storm to avoid
        if (group == 0) {
            if (classifier.groupCount() == 0) {
                return;
            }
            if (v3) {
                sendV3Report(IgmpV3Report.MODE_IS_EXCLUDE, 0);
            } else {
                for (int i = 0; i < classifier.groupCount(); i++) {
                    final int g = classifier.group(i);
                    sendIgmpV2(v2Type, g, g);
                }
            }
        } else if (classifier.isJoined(group)) {
            if (v3) {
                sendV3Report(IgmpV3Report.MODE_IS_EXCLUDE, group);
            } else {
                sendIgmpV2(v2Type, group, group);
            }
        } else {
            return;
        }
        tx.flush();
    }

    private boolean sendArp(final int operation, final long ethernetDestination, final long targetMac, final int targetAddress) {
        if (!tx.tryClaim(Ethernet.MIN_FRAME_LENGTH, controlClaim)) {
            return false;
        }
        final MutableDirectBuffer b = controlClaim.buffer();
        final int o = controlClaim.offset();
        writeEthernet(b, o, Ethernet.MIN_FRAME_LENGTH, ethernetDestination, Ethernet.ETHERTYPE_ARP);
        arp.wrap(b, o + ipOffset, Arp.LENGTH).header(operation, localMac, localAddress, targetMac, targetAddress);
        final int used = ipOffset + Arp.LENGTH;
        b.setMemory(o + used, Ethernet.MIN_FRAME_LENGTH - used, (byte) 0);
        controlClaim.commit(Ethernet.MIN_FRAME_LENGTH);
        return true;
    }

    private void writeIgmpIpHeader(final MutableDirectBuffer b, final int o, final int frameLength, final int igmpLength, final int destination) {
        writeEthernet(b, o, frameLength, Ipv4.multicastMac(destination), Ethernet.ETHERTYPE_IPV4);
        ip.wrap(b, o + ipOffset, IGMP_IP_HEADER_LENGTH + igmpLength)
            .header(IGMP_IP_HEADER_LENGTH, TOS_INTERNETWORK_CONTROL, IGMP_IP_HEADER_LENGTH + igmpLength, nextIdentification(),
                0, 1, Ipv4Header.PROTOCOL_IGMP, localAddress, destination);
        b.putInt(o + ipOffset + Ipv4Header.MIN_HEADER_LENGTH, Ipv4Header.OPTION_ROUTER_ALERT, java.nio.ByteOrder.BIG_ENDIAN);
        ip.computeChecksum();
    }

    private boolean sendIgmpV2(final int type, final int group, final int destination) {
        final int used = igmpOffset + Igmp.V2_LENGTH;
        final int frameLength = Math.max(Ethernet.MIN_FRAME_LENGTH, used);
        if (!tx.tryClaim(frameLength, controlClaim)) {
            return false;
        }
        final MutableDirectBuffer b = controlClaim.buffer();
        final int o = controlClaim.offset();
        writeIgmpIpHeader(b, o, frameLength, Igmp.V2_LENGTH, destination);
        igmp.wrap(b, o + igmpOffset, Igmp.V2_LENGTH).header(type, 0, group).computeChecksum();
        b.setMemory(o + used, frameLength - used, (byte) 0);
        controlClaim.commit(frameLength);
        return true;
    }

    /**
     * Sends IGMPv3 reports: one record for {@code group}, or (group 0) one record per
     * joined group, split over as many frames as the MTU needs.
     */
    private void sendV3Report(final int recordType, final int group) {
        final int room = Math.min(mtu, tx.maxFrameLength() - ipOffset)
            - IGMP_IP_HEADER_LENGTH - IgmpV3Report.HEADER_LENGTH;
        final int perFrame = Math.max(1, room / IgmpV3Report.RECORD_HEADER_LENGTH);
        final int total = group != 0 ? 1 : classifier.groupCount();
        int next = 0;
        while (next < total) {
            final int records = Math.min(perFrame, total - next);
            final int igmpLength = IgmpV3Report.HEADER_LENGTH + records * IgmpV3Report.RECORD_HEADER_LENGTH;
            final int used = igmpOffset + igmpLength;
            final int frameLength = Math.max(Ethernet.MIN_FRAME_LENGTH, used);
            if (!tx.tryClaim(frameLength, controlClaim)) {
                return;
            }
            final MutableDirectBuffer b = controlClaim.buffer();
            final int o = controlClaim.offset();
            writeIgmpIpHeader(b, o, frameLength, igmpLength, Igmp.V3_ROUTERS);
            igmpReport.wrap(b, o + igmpOffset, igmpLength).header(0);
            for (int i = 0; i < records; i++) {
                igmpReport.appendRecord(recordType, group != 0 ? group : classifier.group(next + i));
            }
            igmpReport.computeChecksum();
            b.setMemory(o + used, frameLength - used, (byte) 0);
            controlClaim.commit(frameLength);
            next += records;
        }
    }

    /** The Ethernet header of a frame we send, with our 802.1Q tag when the port is on a VLAN. */
    private void writeEthernet(final MutableDirectBuffer b, final int o, final int frameLength, final long destination,
                               final int etherType) {
        ethernet.wrap(b, o, frameLength).header(destination, localMac, etherType);
        if (vlan != PortVlan.UNTAGGED) {
            ethernet.vlan(0, vlan, etherType);
        }
    }

    private int nextIdentification() {
        identification = (identification + 1) & 0xFFFF;
        return identification;
    }

    /**
     * Finds the MAC for a next hop not in the table: asks the kernel (ports with
     * {@link Capability#KERNEL_NEIGHBOURS}) or sends an ARP request, rate-limited.
     */
    private long resolve(final int nextHop) {
        final long now = nanoClock.nanoTime();
        clockNanos = now;
        if (neighbours.trySolicit(nextHop, now)) {
            if (kernelNeighbours) {
                final long mac = port.resolveNeighbour(nextHop);
                if (mac >= 0) {
                    neighbours.learn(nextHop, mac, now);
                    return mac & Mac.MASK;
                }
            } else if (sendArp(Arp.OP_REQUEST, Mac.BROADCAST, Mac.ZERO, nextHop)) {
                tx.flush();
            }
        }
        return NeighbourTable.NO_MAC;
    }

    /**
     * A known but expired neighbour: keep using it, confirm it at most once per retry
     * interval. Broadcast, so a neighbour whose MAC changed still hears the request; the
     * kernel's answer, where it resolves, is used at once.
     */
    private long reconfirm(final int nextHop, final long staleMac) {
        if (neighbours.trySolicit(nextHop, clockNanos)) {
            if (kernelNeighbours) {
                final long mac = port.resolveNeighbour(nextHop);
                if (mac >= 0) {
                    neighbours.learn(nextHop, mac, clockNanos);
                    return mac & Mac.MASK;
                }
            } else if (sendArp(Arp.OP_REQUEST, Mac.BROADCAST, Mac.ZERO, nextHop)) {
                tx.flush();
            }
        }
        return staleMac;
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
        if (closed) {
            throw closedException();
        }
        if (length < 0) {
            UdpRules.checkLength(length);
        }
        if (length > maxPayloadLength) {
            counters.increment(Counter.DROP_TOO_LONG);
            return TOO_LONG;
        }
        if (frameClaim.isClaimed()) {
            throw new IllegalStateException("the previous datagram claim is neither committed nor aborted");
        }
        final int destinationAddress = destination.address();
        final long mac;
        final int ttl;
        if (Ipv4.isMulticast(destinationAddress)) {
            mac = Ipv4.multicastMac(destinationAddress);
            ttl = multicastTtl;
        } else if (destinationAddress == LIMITED_BROADCAST) {
            mac = Mac.BROADCAST;
            ttl = unicastTtl;
        } else {
            ttl = unicastTtl;
            final int nextHop = Ipv4.sameSubnet(destinationAddress, localAddress, prefixLength) ? destinationAddress : gateway;
            if (nextHop == 0) {
                counters.increment(Counter.DROP_NEIGHBOUR_UNRESOLVED);
                return NEIGHBOUR_PENDING;
            }
            long m = neighbours.lookup(nextHop);
            if (m == NeighbourTable.NO_MAC) {
                m = resolve(nextHop);
                if (m == NeighbourTable.NO_MAC) {
                    counters.increment(Counter.DROP_NEIGHBOUR_UNRESOLVED);
                    return NEIGHBOUR_PENDING;
                }
            } else if (!neighbours.isFresh(nextHop, clockNanos)) {
                m = reconfirm(nextHop, m);
            }
            mac = m;
        }

        final int frameLength = Math.max(Ethernet.MIN_FRAME_LENGTH, headers + length);
        if (!tx.tryClaim(frameLength, frameClaim)) {
            return BACK_PRESSURED;
        }
        final MutableDirectBuffer b = frameClaim.buffer();
        final int o = frameClaim.offset();
        writeEthernet(b, o, frameLength, mac, Ethernet.ETHERTYPE_IPV4);
        // lengths and checksums are written at commit, when the payload length is final
        ip.wrap(b, o + ipOffset, frameLength - ipOffset).header(Ipv4Header.MIN_HEADER_LENGTH, 0, 0, nextIdentification(),
            Ipv4Header.FLAG_DF, ttl, Ipv4Header.PROTOCOL_UDP, localAddress, destinationAddress);
        udp.wrap(b, o + udpOffset, frameLength - udpOffset).header(sourcePort, destination.port(), 0);
        pendingDestination = destinationAddress;
        pendingClaim = claim;
        claim.wrap(this, ++claimSequence, b.addressOffset() + o + headers, length);
        return OK;
    }

    /** {@inheritDoc} */
    @Override
    public int warmUp(final DatagramHandler handler, final DirectBuffer payload, final int offset, final int length,
                      final int datagrams) {
        ensureOpen();
        if (length < 0 || length > maxPayloadLength) {
            throw new IllegalArgumentException("warm-up payload of " + length + " bytes outside 0.." + maxPayloadLength);
        }
        if (datagrams < 0) {
            throw new IllegalArgumentException("negative warm-up count " + datagrams);
        }
        final FlowRule flow = !joinedFlows.isEmpty() ? joinedFlows.get(0) : !boundFlows.isEmpty() ? boundFlows.get(0) : null;
        if (flow == null) {
            throw new IllegalStateException("join a group or bind a port before warmUp, so the warm-up takes the path your datagrams take");
        }
        final int destination = flow.destinationAddress() != 0 ? flow.destinationAddress() : localAddress;
        final int frameLength = Math.max(Ethernet.MIN_FRAME_LENGTH, headers + length);
        final org.agrona.concurrent.UnsafeBuffer frame = new org.agrona.concurrent.UnsafeBuffer(new byte[frameLength]);
        final int udpLength = Udp.HEADER_LENGTH + length;
        final int totalLength = Ipv4Header.MIN_HEADER_LENGTH + udpLength;
        final Ethernet e = new Ethernet();
        final Ipv4Header h = new Ipv4Header();
        final Udp u = new Udp();
        e.wrap(frame, 0, frameLength).header(Ipv4.isMulticast(destination) ? Ipv4.multicastMac(destination) : localMac,
            WARM_UP_SOURCE_MAC, Ethernet.ETHERTYPE_IPV4);
        if (vlan != PortVlan.UNTAGGED) {
            e.vlan(0, vlan, Ethernet.ETHERTYPE_IPV4);
        }
        h.wrap(frame, ipOffset, totalLength).header(Ipv4Header.MIN_HEADER_LENGTH, 0, totalLength, 0, Ipv4Header.FLAG_DF, 64,
            Ipv4Header.PROTOCOL_UDP, WARM_UP_SOURCE, destination).computeChecksum();
        frame.putBytes(headers, payload, offset, length);
        u.wrap(frame, udpOffset, udpLength).header(WARM_UP_SOURCE_PORT, flow.destinationPort(), udpLength)
            .computeChecksum(WARM_UP_SOURCE, destination);
        final UdpDestination sendTo = UdpDestination.of(Ipv4.isMulticast(destination) ? destination : WARM_UP_GROUP,
            flow.destinationPort());

        final WarmUpQueues queues = port instanceof WarmUpQueues w ? w : new SyntheticQueues(tx.maxFrameLength());
        final Counters scratch = new Counters();
        final RxQueue liveRx = rx;
        final TxQueue liveTx = tx;
        final Counters.Writer livePollCounters = pollCounters;
        final DatagramClaim claim = new DatagramClaim();
        int received = 0;
        try {
            rx = queues.warmUpRxQueue(frame, 0, frameLength, scratch);
            tx = queues.warmUpTxQueue(scratch);
            pollCounters = scratch.newWriter();
            counters = scratch;
            int sent = 0;
            while (received < datagrams || sent < datagrams) {
                if (received < datagrams) {
                    received += poll(handler, Math.min(WARM_UP_BATCH, datagrams - received));
                }
                for (int i = 0; i < WARM_UP_BATCH && sent < datagrams; i++, sent++) {
                    if (tryClaim(sendTo, length, claim) == OK) {
                        claim.buffer().putBytes(claim.offset(), payload, offset, length);
                        claim.commit();
                    }
                }
                flush();
            }
        } finally {
            rx = liveRx;
            tx = liveTx;
            pollCounters = livePollCounters;
            counters = portCounters;
            queues.closeWarmUp();
        }
        return received;
    }

    /**
     * For {@link DatagramClaim}: fills lengths and checksums and commits the frame.
     *
     * @param token  the claim's sequence number
     * @param length payload bytes written
     * @throws BypassException if the endpoint was closed since the claim
     */
    @Override
    public void commit(final long token, final int length) {
        checkClaim(token);
        pendingClaim = null;
        final MutableDirectBuffer b = frameClaim.buffer();
        final int o = frameClaim.offset();
        final int udpLength = Udp.HEADER_LENGTH + length;
        final int totalLength = Ipv4Header.MIN_HEADER_LENGTH + udpLength;
        int frameLength = ipOffset + totalLength;
        ip.wrap(b, o + ipOffset, totalLength).totalLength(totalLength).computeChecksum();
        udp.wrap(b, o + udpOffset, udpLength).udpLength(udpLength);
        if (checksumOffload) {
            udp.checksum(Checksums.fold(Checksums.udpPseudoHeaderSum(localAddress, pendingDestination, udpLength)));
        } else {
            udp.computeChecksum(localAddress, pendingDestination);
        }
        if (frameLength < Ethernet.MIN_FRAME_LENGTH) {
            b.setMemory(o + frameLength, Ethernet.MIN_FRAME_LENGTH - frameLength, (byte) 0);
            frameLength = Ethernet.MIN_FRAME_LENGTH;
        }
        frameClaim.commit(frameLength);
    }

    /**
     * For {@link DatagramClaim}: gives the frame back unsent.
     *
     * @param token the claim's sequence number
     * @throws BypassException if the endpoint was closed since the claim
     */
    @Override
    public void abort(final long token) {
        checkClaim(token);
        pendingClaim = null;
        frameClaim.abort();
    }

    private void checkClaim(final long token) {
        if (closed) {
            throw closedException();
        }
        if (token != claimSequence || !frameClaim.isClaimed()) {
            throw new IllegalStateException("datagram claim " + token + " is not the outstanding one");
        }
    }

    /** {@inheritDoc} */
    @Override
    public int send(final UdpDestination destination, final DirectBuffer buffer, final int offset, final int length) {
        final int result = tryClaim(destination, length, sendClaim);
        if (result == OK) {
            sendClaim.buffer().putBytes(0, buffer, offset, length);
            sendClaim.commit();
        }
        return result;
    }

    /** {@inheritDoc} */
    @Override
    public int flush() {
        if (closed) {
            throw closedException();
        }
        return tx.flush();
    }

    /** {@inheritDoc} */
    @Override
    public int maxPayloadLength() {
        return maxPayloadLength;
    }

    /** {@inheritDoc} */
    @Override
    public int localAddress() {
        return localAddress;
    }

    /** {@inheritDoc} */
    @Override
    public int localPort() {
        return sourcePort;
    }

    /**
     * {@inheritDoc}
     *
     * <p>The port's own {@link Counters}, so kernel and NIC statistics appear here too.
     * {@code RX_PACKETS} and {@code RX_BYTES} count datagrams and payload bytes delivered
     * (added once per poll; where the port counts received frames itself, the endpoint
     * replaces that batch's frame counts). {@code TX_PACKETS} and {@code TX_BYTES} are
     * the port's frame counts, ARP and IGMP included: a datagram counts its Ethernet frame,
     * {@link io.bypass.spi.UdpRules#frameLength(int)} bytes, as on every backend. {@code RX_CONTROL} counts ARP and
     * IGMP frames handled here; each dropped frame increments exactly one drop counter.
     */
    @Override
    public Counters counters() {
        return portCounters;
    }

    /** {@inheritDoc} */
    @Override
    public boolean isClosed() {
        return closed;
    }

    /**
     * Leaves every group (sending IGMP leaves where this layer owns IGMP), removes every
     * flow, flushes, and closes the port if asked to at construction. Carries on past
     * failures so the port is always closed, then rethrows the first one. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        final DatagramClaim outstanding = pendingClaim;
        pendingClaim = null;
        if (outstanding != null && outstanding.isClaimed()) {
            // point the application's claim at nothing: writing after close then fails a
            // bounds check instead of touching memory the port may unmap; commit throws
            outstanding.wrap(this, -1, 0, 0);
        }
        RuntimeException failure = null;
        try {
            if (!port.isClosed()) {
                if (frameClaim.isClaimed()) {
                    frameClaim.abort();
                }
                for (final FlowRule rule : joinedFlows) {
                    try {
                        doLeave(rule.destinationAddress(), rule.destinationPort());
                    } catch (final RuntimeException e) {
                        failure = failure == null ? e : failure;
                    }
                }
                for (final FlowRule rule : boundFlows) {
                    try {
                        port.removeFlow(queueId, rule);
                    } catch (final RuntimeException e) {
                        failure = failure == null ? e : failure;
                    }
                }
                tx.flush();
            }
        } catch (final RuntimeException e) {
            failure = failure == null ? e : failure;
        } finally {
            joinedFlows.clear();
            boundFlows.clear();
            if (closePort) {
                port.close();
            }
        }
        if (failure != null) {
            throw new BypassException("closing UDP endpoint on " + uri + ": " + failure.getMessage(), failure);
        }
    }

    /** @return the endpoint's URI and state, for logs */
    @Override
    public String toString() {
        return "L2UdpEndpoint[" + uri + (closed ? ", closed" : "") + ", " + Ipv4.toString(localAddress) + ":" + sourcePort + "]";
    }
}
