package io.bypass.udp;

import io.bypass.Counters;
import io.bypass.FlowRule;
import io.bypass.Port;
import io.bypass.net.Checksums;
import io.bypass.net.Ethernet;
import io.bypass.net.Ipv4;
import io.bypass.net.Ipv4Header;
import io.bypass.net.Ipv4Link;
import io.bypass.net.NeighbourTable;
import io.bypass.net.NextHopResolver;
import io.bypass.net.Udp;
import io.bypass.spi.SyntheticQueues;
import io.bypass.spi.WarmUpQueues;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.function.ToIntBiFunction;

/**
 * One warm-up of an {@link L2UdpEndpoint} ({@link UdpEndpoint#warmUp}): the synthetic frame
 * its warm-up RX queue delivers over and over (a datagram for the flow the live ones take,
 * from TEST-NET-1 and a locally administered MAC, so it never leaves the process), and the
 * loop that polls it and sends into the warm-up TX queue through the endpoint's own calls.
 * The endpoint points its queues and counters at the warm-up ones for the loop's duration.
 */
final class L2UdpWarmUp {
    /** Warm-up datagrams come from TEST-NET-1 (RFC 5737) and a locally administered MAC, and never leave the process. */
    static final int SOURCE = Ipv4.parse("192.0.2.1");
    static final int SOURCE_PORT = 9;
    static final long SOURCE_MAC = 0x02_00_00_00_00_09L;
    /** Where warm-up sends go when nothing is joined: an administratively scoped group, so no neighbour is resolved. */
    static final int GROUP = Ipv4.parse("239.255.0.9");
    private static final int BATCH = 64;
    /**
     * Turns between two changes to the placeholder's neighbour entry, which alternate between forgetting
     * it (as a new client's first reply finds no neighbour) and letting it expire (as every neighbour
     * does after {@link NextHopResolver#REACHABLE_NANOS}). Often enough that both happen while the JIT
     * profiles the send path (its first few thousand replies: a branch it never saw taken there becomes
     * an uncommon trap); seldom enough per reply, a turn answering up to a batch, that the resolver's
     * slow path stays a call of its own rather than inlined into the polling loop.
     */
    static final int NEIGHBOUR_CHURN_TURNS = 64;

    private final UnsafeBuffer frame;
    private final UdpDestination sendTo;
    private final int source;
    private final Port port;
    private final NextHopResolver resolver;
    private final int maxFrameLength;
    private final DirectBuffer payload;
    private final int payloadOffset;
    private final int payloadLength;
    private final int payloadAt;
    private final int destination;
    private final Udp udp = new Udp();
    private int refreshes;
    private int turns;
    /** The placeholder's next hop while the warm-up owns its neighbour entry, else 0. */
    private int churnedHop;

    /**
     * Writes the synthetic frame: to the flow's group (or, for a bound port, our address),
     * tagged on the link's VLAN, with valid checksums.
     *
     * @param link    the endpoint's link: our MAC, address, VLAN and header offsets
     * @param flow    the flow the warm-up takes
     * @param payload what every warm-up datagram carries
     * @param offset  where it starts
     * @param length  its length, within the endpoint's maximum payload
     */
    L2UdpWarmUp(final Ipv4Link link, final FlowRule flow, final DirectBuffer payload, final int offset, final int length,
                final NextHopResolver resolver, final int maxFrameLength) {
        this.port = link.port();
        this.resolver = resolver;
        this.maxFrameLength = maxFrameLength;
        final int destination = flow.destinationAddress() != 0 ? flow.destinationAddress() : link.localAddress();
        source = placeholderSource(link.localAddress(), link.prefixLength());
        final int ipOffset = link.ipOffset();
        final int udpOffset = ipOffset + Ipv4Header.MIN_HEADER_LENGTH;
        final int headers = udpOffset + Udp.HEADER_LENGTH;
        final int frameLength = Math.max(Ethernet.MIN_FRAME_LENGTH, headers + length);
        frame = new UnsafeBuffer(new byte[frameLength]);
        final int udpLength = Udp.HEADER_LENGTH + length;
        final int totalLength = Ipv4Header.MIN_HEADER_LENGTH + udpLength;
        final Ethernet e = new Ethernet();
        e.wrap(frame, 0, frameLength).header(Ipv4.isMulticast(destination) ? Ipv4.multicastMac(destination) : link.localMac(),
            SOURCE_MAC, Ethernet.ETHERTYPE_IPV4);
        if (link.vlan() != 0) {
            e.vlan(0, link.vlan(), Ethernet.ETHERTYPE_IPV4);
        }
        new Ipv4Header().wrap(frame, ipOffset, totalLength).header(Ipv4Header.MIN_HEADER_LENGTH, 0, totalLength, 0,
            Ipv4Header.FLAG_DF, 64, Ipv4Header.PROTOCOL_UDP, source, destination).computeChecksum();
        this.payload = payload;
        this.payloadOffset = offset;
        this.payloadLength = length;
        this.payloadAt = headers;
        this.destination = destination;
        udp.wrap(frame, udpOffset, udpLength).header(SOURCE_PORT, flow.destinationPort(), udpLength);
        refresh();
        sendTo = UdpDestination.of(Ipv4.isMulticast(destination) ? destination : GROUP, flow.destinationPort());
    }

    /**
     * Copies the caller's payload into the synthetic frame again and sets its UDP checksum:
     * before each turn of a duty cycle, which may have changed it (a sequence number). The
     * turns cycle through a complete sum, no sum (0, as IPv4 allows and many feeds send) and
     * a kernel peer's partial sum (the pseudo-header alone, as veth delivers it), so that every
     * branch of the receive path's checksum check is compiled: a live datagram taking a branch
     * the warm-up never took sends the compiled polling loop back to the interpreter. A cycle of
     * three: a backend's warm-up queue may deliver on every other turn only, and two and three
     * share no factor, so every kind is still delivered.
     */
    void refresh() {
        frame.putBytes(payloadAt, payload, payloadOffset, payloadLength);
        switch (++refreshes % 3) {
            case 0 -> udp.checksum(0);
            case 1 -> udp.computeChecksum(source, destination);
            default -> udp.checksum(Checksums.fold(Checksums.udpPseudoHeaderSum(source, destination, udp.length())));
        }
    }

    /**
     * Before each turn of a duty cycle: {@link #refresh()} the frame, and every
     * {@value #NEIGHBOUR_CHURN_TURNS} / 2 turns forget the placeholder's neighbour entry or let
     * it expire, in turn (only while the warm-up owns that entry).
     */
    void beforeTurn() {
        refresh();
        if (churnedHop != 0) {
            final int turn = ++turns % NEIGHBOUR_CHURN_TURNS;
            if (turn == 0) {
                resolver.neighbours().remove(churnedHop);
            } else if (turn == NEIGHBOUR_CHURN_TURNS / 2) {
                resolver.neighbours().learn(churnedHop, SOURCE_MAC, resolver.nowNanos() - NextHopResolver.REACHABLE_NANOS);
            }
        }
    }

    /**
     * The synthetic datagrams' sender: an address on the link's own subnet (its last host
     * address that is not ours), so that a reply to it has a next hop without a gateway; on a
     * /31 or /32, or with no prefix known, {@link #SOURCE}, reached through the gateway if any.
     *
     * @param local        the link's address
     * @param prefixLength its prefix length
     * @return the placeholder sender's address
     */
    static int placeholderSource(final int local, final int prefixLength) {
        if (prefixLength <= 0 || prefixLength > 30) {
            return SOURCE;
        }
        final int hostMask = -1 >>> prefixLength;
        final int broadcast = (local & ~hostMask) | hostMask;
        return broadcast - 1 != local ? broadcast - 1 : broadcast - 2;
    }

    /** @return the synthetic datagrams' source address */
    int source() {
        return source;
    }

    /**
     * Runs {@code body} with {@code endpoint} on warm-up queues (the port's own where it
     * offers them) and scratch counters, and the placeholder sender's next hop known, then puts
     * everything back, whatever {@code body} threw.
     *
     * @param endpoint the endpoint to warm up
     * @param body     the warm-up: given the queues (for {@link WarmUpQueues#warmUpTurn}) and
     *                 the counters where the endpoint counts the datagrams it delivers
     * @return what {@code body} returned
     */
    int diverted(final L2UdpEndpoint endpoint, final ToIntBiFunction<WarmUpQueues, Counters> body) {
        final WarmUpQueues queues = port instanceof WarmUpQueues w ? w : new SyntheticQueues(maxFrameLength);
        final Counters scratch = new Counters();
        final Counters delivered = new Counters();
        // Replies to the placeholder take the unicast path as live replies do: learned (not
        // static, which live entries never are) through the resolver's own solicitation, now
        // and then forgotten or expired (see beforeTurn), removed afterwards, never asked for on
        // the wire or of the kernel. A next hop the table already knows (a gateway) is left alone.
        final NeighbourTable neighbours = resolver.neighbours();
        final int hop = resolver.nextHop(source);
        final boolean owned = hop != 0 && neighbours.lookup(hop) == NeighbourTable.NO_MAC;
        try {
            if (owned) {
                resolver.warmUp(hop, SOURCE_MAC);
                churnedHop = hop;
            }
            endpoint.divert(queues.warmUpRxQueue(frame, 0, frame.capacity(), scratch), queues.warmUpTxQueue(scratch), scratch,
                delivered);
            return body.applyAsInt(queues, delivered);
        } finally {
            endpoint.divert(null, null, null, null);
            if (owned) {
                churnedHop = 0;
                resolver.endWarmUp();
                neighbours.remove(hop);
            }
            queues.closeWarmUp();
        }
    }

    UnsafeBuffer frame() {
        return frame;
    }

    /**
     * Polls {@code datagrams} datagrams into {@code handler} and sends as many, in batches,
     * through {@code endpoint} (whose queues are the warm-up ones by now).
     *
     * @return datagrams delivered
     */
    int run(final UdpEndpoint endpoint, final WarmUpQueues queues, final DatagramHandler handler, final DirectBuffer payload,
            final int offset, final int length, final int datagrams) {
        final DatagramClaim claim = new DatagramClaim();
        int received = 0;
        int sent = 0;
        while (received < datagrams || sent < datagrams) {
            queues.warmUpTurn();
            if (received < datagrams) {
                received += endpoint.poll(handler, Math.min(BATCH, datagrams - received));
            }
            for (int i = 0; i < BATCH && sent < datagrams; i++, sent++) {
                if (endpoint.tryClaim(sendTo, length, claim) == UdpEndpoint.OK) {
                    claim.buffer().putBytes(claim.offset(), payload, offset, length);
                    claim.commit();
                }
            }
            endpoint.flush();
        }
        return received;
    }
}
