package io.bypass.net;

import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.FrameMeta;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Validates and classifies received Ethernet frames for the UDP and TCP layers: returns
 * {@link #UDP}, {@link #TCP}, {@link #ARP} or {@link #IGMP} with the parsed fields available from its
 * getters, or {@link #DROPPED} after incrementing exactly one drop {@link Counter}.
 * Never throws for any frame content or length; allocates nothing.
 *
 * <p>Checks, in order:
 * <ol>
 *   <li>Ethernet: shorter than 14 (18 if tagged) bytes {@link Counter#DROP_TRUNCATED};
 *       not of the configured {@link #vlan(int) VLAN} (by default untagged: an 802.1Q tag
 *       with a VLAN id other than 0, which is a priority tag, is another VLAN's)
 *       {@link Counter#DROP_WRONG_VLAN}; QinQ or an EtherType other than IPv4 and ARP
 *       {@link Counter#DROP_BAD_ETHERNET}.</li>
 *   <li>ARP: shorter than 28 bytes {@code DROP_TRUNCATED}; not handled here (the kernel
 *       answers) {@code DROP_NOT_OURS}; not a request or reply for IPv4 over Ethernet
 *       {@link Counter#DROP_BAD_CONTROL}; not broadcast or to our MAC, or neither for our
 *       address nor gratuitous (sender address equal to target address) {@code DROP_NOT_OURS}.</li>
 *   <li>IPv4: destination MAC not ours, broadcast, a joined group's or (when IGMP is
 *       handled) all-systems {@code DROP_NOT_OURS}; fewer than 20 bytes
 *       {@code DROP_TRUNCATED}; version not 4, IHL below 5 or IHL beyond the frame
 *       {@link Counter#DROP_BAD_IP_HEADER}; total length below IHL*4 or beyond the frame
 *       {@link Counter#DROP_BAD_IP_LENGTH} (Ethernet padding after it is fine); header
 *       checksum {@link Counter#DROP_BAD_IP_CHECKSUM} (the NIC's verdict where it gave one
 *       and the {@link #checksumPolicy(ChecksumPolicy) policy} is {@code nic}); MF or a fragment offset
 *       {@link Counter#DROP_IP_FRAGMENT}; a protocol other than UDP and IGMP
 *       {@code DROP_NOT_OURS}.</li>
 *   <li>UDP: payload shorter than 8 {@code DROP_TRUNCATED}; UDP length below 8 or beyond
 *       the IPv4 payload {@link Counter#DROP_BAD_UDP_LENGTH}; destination not our address
 *       (or limited broadcast) on a bound port, nor a joined group on its port
 *       {@code DROP_NOT_OURS}; checksum non-zero and wrong {@link Counter#DROP_BAD_UDP_CHECKSUM},
 *       except a kernel peer's partial checksum, delivered and counted in
 *       {@link Counter#RX_PARTIAL_CHECKSUM} unless the policy is {@code verify} (see
 *       {@link ChecksumPolicy}).</li>
 *   <li>TCP ({@link #handleTcp(boolean) handled} only): shorter than 20 {@code DROP_TRUNCATED}; not to our address
 *       {@code DROP_NOT_OURS}; bad data offset or options {@link Counter#DROP_BAD_TCP_HEADER}; checksum wrong
 *       {@link Counter#DROP_BAD_TCP_CHECKSUM} (a kernel peer's partial sum accepted as for UDP).</li>
 *   <li>IGMP: not handled here {@code DROP_NOT_OURS}; shorter than 8
 *       {@code DROP_TRUNCATED}; malformed or bad checksum {@code DROP_BAD_CONTROL};
 *       destination not all-systems, a joined group or our address {@code DROP_NOT_OURS}.</li>
 * </ol>
 *
 * <pre>{@code
 * FrameClassifier classifier = new FrameClassifier(port.counters()).localMac(mac).localAddress(address);
 * classifier.subscriptions().bind(9000);
 * if (classifier.classify(buffer, offset, length) == FrameClassifier.UDP) {
 *     deliver(buffer, classifier.payloadOffset(), classifier.payloadLength());
 * }
 * }</pre>
 *
 * <p>{@link #subscriptions() Subscriptions} (bound ports, joined groups) are not
 * thread-safe: change them from the polling thread.
 */
public final class FrameClassifier {
    /** The frame was dropped and one drop counter incremented; see {@link #lastDrop()}. */
    public static final int DROPPED = -1;
    /** A valid UDP datagram for a bound port or joined group. */
    public static final int UDP = 0;
    /** A valid ARP request or reply for our address, or a gratuitous ARP. */
    public static final int ARP = 1;
    /** A valid IGMP message for us (query, or another member's report). */
    public static final int IGMP = 2;
    /** A valid TCP segment to our address, when TCP is {@linkplain #handleTcp(boolean) handled}; see {@link #tcp()}. */
    public static final int TCP = 3;

    private static final long ALL_SYSTEMS_MAC = Ipv4.multicastMac(Igmp.ALL_SYSTEMS);
    private static final int LIMITED_BROADCAST = 0xFFFF_FFFF;
    /** The counters this classifier was made with, and its own writer on them. */
    private final Counters homeCounters;
    private final Counters.Writer homeWriter;
    /** Where drops and partial sums are counted now: a single-writer counter, no atomic per frame. */
    private Counters.Writer counters;
    private final Subscriptions subscriptions = new Subscriptions();
    private long localMac;
    private int localAddress;
    private boolean handleArp = true;
    private boolean handleIgmp = true;
    private boolean handleTcp;
    private final Tcp tcp = new Tcp();
    private ChecksumPolicy checksumPolicy = ChecksumPolicy.DEFAULT;
    /** The NIC's verdict on the frame being classified, masked to nothing unless the policy is NIC. */
    private int verdict;
    /** The VLAN id frames must carry, 0 for untagged (or priority-tagged) frames. */
    private int vlan;
    private Counter lastDrop;
    private int vlanId;
    private long sourceMac;
    private long destinationMac;
    private int ipOffset;
    private int ipHeaderLength;
    private int sourceAddress;
    private int destinationAddress;
    private int l4Offset;
    private int l4Length;
    private int sourcePort;
    private int destinationPort;

    /**
     * A classifier that counts drops and partial checksums in {@code counters} through a writer of
     * its own ({@link Counters#newWriter()}): classify from one thread only, the polling thread.
     *
     * @param counters where drops are counted
     */
    public FrameClassifier(final Counters counters) {
        this.homeCounters = Objects.requireNonNull(counters, "counters");
        this.homeWriter = counters.newWriter();
        this.counters = homeWriter;
    }

    /**
     * Where drops (and partial checksums) are counted from now on: an endpoint's warm-up counts
     * what it drops of its synthetic frames in scratch counters, then puts its own back (the
     * writer made with this classifier is used again, not a new one).
     *
     * @param counters where to count
     * @return this
     */
    public FrameClassifier countInto(final Counters counters) {
        Objects.requireNonNull(counters, "counters");
        this.counters = counters == homeCounters ? homeWriter : counters.newWriter();
        return this;
    }

    /**
     * @param mac our MAC address
     * @return this
     */
    public FrameClassifier localMac(final long mac) {
        this.localMac = mac & Mac.MASK;
        return this;
    }

    /**
     * @param address our IPv4 address, or 0 for none (then no unicast is ours)
     * @return this
     */
    public FrameClassifier localAddress(final int address) {
        this.localAddress = address;
        return this;
    }

    /**
     * @param handle false when the kernel answers ARP: ARP frames then count as not ours
     * @return this
     */
    public FrameClassifier handleArp(final boolean handle) {
        this.handleArp = handle;
        return this;
    }

    /**
     * @param handle false when the kernel handles IGMP: IGMP frames then count as not ours
     * @return this
     */
    public FrameClassifier handleIgmp(final boolean handle) {
        this.handleIgmp = handle;
        return this;
    }

    /**
     * @param handle true when a TCP layer takes segments to our address (default false)
     * @return this
     */
    public FrameClassifier handleTcp(final boolean handle) {
        this.handleTcp = handle;
        return this;
    }

    /**
     * @param policy how received checksums are checked (default {@link ChecksumPolicy#NIC})
     * @return this
     */
    public FrameClassifier checksumPolicy(final ChecksumPolicy policy) {
        this.checksumPolicy = policy;
        return this;
    }

    /** @return how received checksums are checked */
    public ChecksumPolicy checksumPolicy() {
        return checksumPolicy;
    }

    /**
     * @param vlanId the 802.1Q VLAN id frames must carry (1..4094), or 0 (the default) for
     *               untagged frames; priority-tagged frames (VLAN id 0) count as untagged
     * @return this
     * @throws IllegalArgumentException outside 0..4094
     */
    public FrameClassifier vlan(final int vlanId) {
        if (vlanId < 0 || vlanId > 4094) {
            throw new IllegalArgumentException("VLAN id " + vlanId + " outside 0..4094");
        }
        this.vlan = vlanId;
        return this;
    }

    /** @return the VLAN id frames must carry, 0 for untagged */
    public int vlan() {
        return vlan;
    }

    /** @return our MAC */
    public long localMac() {
        return localMac;
    }

    /** @return our IPv4 address */
    public int localAddress() {
        return localAddress;
    }

    /**
     * The ports bound and groups joined that this classifier accepts: change them from the
     * polling thread.
     *
     * @return the subscriptions
     */
    public Subscriptions subscriptions() {
        return subscriptions;
    }

    private int drop(final Counter counter) { // exactly one drop counter per dropped frame
        lastDrop = counter;
        counters.increment(counter);
        return DROPPED;
    }

    /**
     * Validates and classifies one frame.
     *
     * @param buffer the frame's buffer
     * @param offset where the Ethernet header starts
     * @param length frame length without FCS
     * @return {@link #UDP}, {@link #TCP}, {@link #ARP}, {@link #IGMP} or {@link #DROPPED}
     */
    public int classify(final DirectBuffer buffer, final int offset, final int length) {
        return classify(buffer, offset, length, FrameMeta.CHECKSUM_UNKNOWN);
    }

    /**
     * Validates and classifies one frame the NIC has given a checksum verdict on.
     *
     * @param buffer          the frame's buffer
     * @param offset          where the Ethernet header starts
     * @param length          frame length without FCS
     * @param checksumVerdict the NIC's {@link FrameMeta#checksumVerdict()}, used only under
     *                        {@link ChecksumPolicy#NIC}
     * @return {@link #UDP}, {@link #TCP}, {@link #ARP}, {@link #IGMP} or {@link #DROPPED}
     */
    public int classify(final DirectBuffer buffer, final int offset, final int length, final int checksumVerdict) {
        lastDrop = null;
        verdict = checksumPolicy == ChecksumPolicy.NIC ? checksumVerdict : FrameMeta.CHECKSUM_UNKNOWN;
        if (length < Ethernet.HEADER_LENGTH || offset < 0 || length > buffer.capacity() - offset) {
            return drop(Counter.DROP_TRUNCATED);
        }
        final int end = offset + length;
        // the frame's range is checked above and each header's length below: fields are read unchecked
        int etherType = NetworkBytes.getUnsignedShort(buffer, offset + Ethernet.ETHERTYPE_OFFSET);
        int l3 = offset + Ethernet.HEADER_LENGTH;
        vlanId = -1;
        if (etherType == Ethernet.ETHERTYPE_VLAN) {
            if (length < Ethernet.VLAN_HEADER_LENGTH) {
                return drop(Counter.DROP_TRUNCATED);
            }
            vlanId = NetworkBytes.getUnsignedShort(buffer, offset + Ethernet.TCI_OFFSET) & 0x0FFF;
            if (vlanId != vlan) {
                return drop(Counter.DROP_WRONG_VLAN);
            }
            etherType = NetworkBytes.getUnsignedShort(buffer, offset + Ethernet.INNER_ETHERTYPE_OFFSET);
            l3 = offset + Ethernet.VLAN_HEADER_LENGTH;
        } else if (vlan != 0) {
            return drop(Counter.DROP_WRONG_VLAN);
        }
        destinationMac = NetworkBytes.getMac(buffer, offset);
        sourceMac = NetworkBytes.getMac(buffer, offset + Ethernet.SOURCE_OFFSET);
        ipOffset = l3;
        if (etherType == Ethernet.ETHERTYPE_IPV4) {
            return classifyIpv4(buffer, l3, end);
        }
        if (etherType == Ethernet.ETHERTYPE_ARP) {
            return classifyArp(buffer, l3, end);
        }
        return drop(Counter.DROP_BAD_ETHERNET);
    }

    private int classifyArp(final DirectBuffer buffer, final int l3, final int end) {
        if (end - l3 < Arp.LENGTH) {
            return drop(Counter.DROP_TRUNCATED);
        }
        if (!handleArp) {
            return drop(Counter.DROP_NOT_OURS);
        }
        final int op = buffer.getShort(l3 + Arp.OPER_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if ((buffer.getShort(l3 + Arp.HTYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF) != Arp.HTYPE_ETHERNET
            || (buffer.getShort(l3 + Arp.PTYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF) != Arp.PTYPE_IPV4
            || buffer.getByte(l3 + Arp.HLEN_OFFSET) != 6
            || buffer.getByte(l3 + Arp.PLEN_OFFSET) != 4
            || (op != Arp.OP_REQUEST && op != Arp.OP_REPLY)) {
            return drop(Counter.DROP_BAD_CONTROL);
        }
        if (destinationMac != localMac && destinationMac != Mac.BROADCAST) {
            return drop(Counter.DROP_NOT_OURS);
        }
        sourceAddress = buffer.getInt(l3 + Arp.SPA_OFFSET, ByteOrder.BIG_ENDIAN);
        destinationAddress = buffer.getInt(l3 + Arp.TPA_OFFSET, ByteOrder.BIG_ENDIAN);
        // ours: asks for or answers our address; or gratuitous (sender == target), which
        // announces a neighbour's new MAC (gateway failover) and refreshes the cache
        if ((localAddress == 0 || destinationAddress != localAddress)
            && (sourceAddress != destinationAddress || sourceAddress == 0)) {
            return drop(Counter.DROP_NOT_OURS);
        }
        l4Offset = l3;
        l4Length = Arp.LENGTH;
        return ARP;
    }

    private boolean isOurMac(final long mac) {
        return mac == localMac || mac == Mac.BROADCAST
            || (Mac.isMulticast(mac) && (subscriptions.hasGroupMac(mac) || (handleIgmp && mac == ALL_SYSTEMS_MAC)));
    }

    private int classifyIpv4(final DirectBuffer buffer, final int l3, final int end) {
        if (!isOurMac(destinationMac)) {
            return drop(Counter.DROP_NOT_OURS);
        }
        final int available = end - l3;
        if (available < Ipv4Header.MIN_HEADER_LENGTH) {
            return drop(Counter.DROP_TRUNCATED);
        }
        final int versionIhl = NetworkBytes.getUnsignedByte(buffer, l3);
        final int headerLength = (versionIhl & 0x0F) << 2;
        if ((versionIhl >>> 4) != 4 || headerLength < Ipv4Header.MIN_HEADER_LENGTH || headerLength > available) {
            return drop(Counter.DROP_BAD_IP_HEADER);
        }
        final int totalLength = NetworkBytes.getUnsignedShort(buffer, l3 + Ipv4Header.TOTAL_LENGTH_OFFSET);
        if (totalLength < headerLength || totalLength > available) {
            return drop(Counter.DROP_BAD_IP_LENGTH);
        }
        if ((verdict & FrameMeta.IP_CHECKSUM_GOOD) == 0
            && ((verdict & FrameMeta.IP_CHECKSUM_BAD) != 0 || Checksums.ipv4Header(buffer, l3, headerLength) != 0)) {
            return drop(Counter.DROP_BAD_IP_CHECKSUM);
        }
        final int fragment = NetworkBytes.getUnsignedShort(buffer, l3 + Ipv4Header.FRAGMENT_OFFSET)
            & (Ipv4Header.FLAG_MF | Ipv4Header.FRAGMENT_OFFSET_MASK);
        if (fragment != 0) {
            return drop(Counter.DROP_IP_FRAGMENT);
        }
        ipHeaderLength = headerLength;
        sourceAddress = NetworkBytes.getInt(buffer, l3 + Ipv4Header.SOURCE_OFFSET);
        destinationAddress = NetworkBytes.getInt(buffer, l3 + Ipv4Header.DESTINATION_OFFSET);
        l4Offset = l3 + headerLength;
        l4Length = totalLength - headerLength;
        final int protocol = NetworkBytes.getUnsignedByte(buffer, l3 + Ipv4Header.PROTOCOL_OFFSET);
        if (protocol == Ipv4Header.PROTOCOL_UDP) {
            return classifyUdp(buffer);
        }
        if (protocol == Ipv4Header.PROTOCOL_IGMP) {
            return classifyIgmp(buffer);
        }
        if (protocol == Ipv4Header.PROTOCOL_TCP && handleTcp) {
            return classifyTcp(buffer);
        }
        return drop(Counter.DROP_NOT_OURS);
    }

    private int classifyTcp(final DirectBuffer buffer) {
        final Tcp t = tcp.wrap(buffer, l4Offset, l4Length);
        final Counter bad = TcpChecks.check(t, sourceAddress, destinationAddress, localAddress, verdict, checksumPolicy, counters);
        if (bad != null) {
            return drop(bad);
        }
        sourcePort = t.sourcePort();
        destinationPort = t.destinationPort();
        return TCP;
    }

    /** @return the last {@link #TCP} segment, parsed (options read); valid until the next classify */
    public Tcp tcp() {
        return tcp;
    }

    private int classifyUdp(final DirectBuffer buffer) {
        if (l4Length < Udp.HEADER_LENGTH) {
            return drop(Counter.DROP_TRUNCATED);
        }
        final int udpLength = NetworkBytes.getUnsignedShort(buffer, l4Offset + Udp.LENGTH_OFFSET);
        if (udpLength < Udp.HEADER_LENGTH || udpLength > l4Length) {
            return drop(Counter.DROP_BAD_UDP_LENGTH);
        }
        sourcePort = NetworkBytes.getUnsignedShort(buffer, l4Offset + Udp.SOURCE_PORT_OFFSET);
        destinationPort = NetworkBytes.getUnsignedShort(buffer, l4Offset + Udp.DESTINATION_PORT_OFFSET);
        final int dst = destinationAddress;
        if (Ipv4.isMulticast(dst)) {
            if (!subscriptions.isJoined(dst, destinationPort)) {
                return drop(Counter.DROP_NOT_OURS);
            }
        } else if ((dst != localAddress || localAddress == 0) && dst != LIMITED_BROADCAST || !subscriptions.isBound(destinationPort)) {
            return drop(Counter.DROP_NOT_OURS);
        }
        if ((verdict & FrameMeta.L4_CHECKSUM_GOOD) == 0) {
            if ((verdict & FrameMeta.L4_CHECKSUM_BAD) != 0) {
                return drop(Counter.DROP_BAD_UDP_CHECKSUM);
            }
            // the partial sum first: two header bytes against the pseudo-header, where the full
            // sum reads the payload, which a partial sum's sender left unchecked anyway
            if (checksumPolicy != ChecksumPolicy.VERIFY && Checksums.isUdpPartial(buffer, l4Offset, udpLength, sourceAddress, dst)) {
                counters.increment(Counter.RX_PARTIAL_CHECKSUM);
            } else if (!Checksums.isUdpValid(buffer, l4Offset, udpLength, sourceAddress, dst)) {
                return drop(Counter.DROP_BAD_UDP_CHECKSUM);
            }
        }
        l4Length = udpLength;
        return UDP;
    }

    private int classifyIgmp(final DirectBuffer buffer) {
        final Counter bad = IgmpChecks.check(buffer, l4Offset, l4Length, destinationAddress, localAddress, handleIgmp, subscriptions);
        return bad == null ? IGMP : drop(bad);
    }

    /** @return the counter incremented by the last {@link #classify} that dropped, else null */
    public Counter lastDrop() {
        return lastDrop;
    }

    /** @return VLAN id of the last frame, or -1 if untagged */
    public int vlanId() {
        return vlanId;
    }

    /** @return source MAC of the last frame */
    public long sourceMac() {
        return sourceMac;
    }

    /** @return destination MAC of the last frame */
    public long destinationMac() {
        return destinationMac;
    }

    /** @return where the IPv4 header or ARP packet starts */
    public int ipOffset() {
        return ipOffset;
    }

    /** @return IPv4 header length (IHL * 4) of the last IPv4 frame */
    public int ipHeaderLength() {
        return ipHeaderLength;
    }

    /** @return IPv4 source (ARP: sender protocol address) */
    public int sourceAddress() {
        return sourceAddress;
    }

    /** @return IPv4 destination (ARP: target protocol address) */
    public int destinationAddress() {
        return destinationAddress;
    }

    /** @return where the UDP header, IGMP message or ARP packet starts */
    public int l4Offset() {
        return l4Offset;
    }

    /** @return UDP length, IGMP message length or ARP length */
    public int l4Length() {
        return l4Length;
    }

    /** @return UDP source port */
    public int sourcePort() {
        return sourcePort;
    }

    /** @return UDP destination port */
    public int destinationPort() {
        return destinationPort;
    }

    /** @return where the UDP payload starts */
    public int payloadOffset() {
        return l4Offset + Udp.HEADER_LENGTH;
    }

    /** @return UDP payload length, from the UDP length field */
    public int payloadLength() {
        return l4Length - Udp.HEADER_LENGTH;
    }
}
