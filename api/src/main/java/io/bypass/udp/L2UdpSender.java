package io.bypass.udp;

import io.bypass.BypassException;
import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.FrameClaim;
import io.bypass.PortUri;
import io.bypass.TxQueue;
import io.bypass.net.Ethernet;
import io.bypass.net.Ipv4;
import io.bypass.net.Ipv4Link;
import io.bypass.net.Ipv4UdpHeaders;
import io.bypass.net.Mac;
import io.bypass.net.NeighbourTable;
import io.bypass.net.NextHopResolver;
import io.bypass.net.Udp;
import io.bypass.spi.ClaimOwner;
import io.bypass.spi.HotPathErrors;
import io.bypass.spi.UdpRules;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The transmit path of an {@link L2UdpEndpoint}: routes a datagram (multicast and
 * broadcast to their MACs, unicast through the {@link NextHopResolver}), claims its frame
 * on the TX queue, writes the Ethernet, IPv4 and UDP headers and hands the application the
 * payload area; at commit it fills the lengths and checksums (leaving the UDP checksum to
 * the NIC, as the pseudo-header sum, with {@code checksumOffload}). One datagram claim is
 * outstanding at a time; each gets a new token, so a stale claim cannot commit a later one.
 * The endpoint's {@link L2UdpEndpoint#tryClaim}, {@link L2UdpEndpoint#send} and
 * {@link L2UdpEndpoint#flush} come here; claims are wrapped with this class as their owner.
 * Use from one thread. Keeps no string constant (see {@link HotPathErrors}).
 */
final class L2UdpSender implements ClaimOwner {
    private static final int LIMITED_BROADCAST = 0xFFFF_FFFF;

    private final PortUri uri;
    private final Ipv4Link link;
    private final NextHopResolver resolver;
    private final int unicastTtl;
    private final int multicastTtl;
    private final boolean checksumOffload;
    private final int maxPayloadLength;
    private final Ipv4UdpHeaders headers;
    private final FrameClaim frameClaim = new FrameClaim();
    private final DatagramClaim sendClaim = new DatagramClaim();

    // Not final: a warm-up points them at its own queue and counters for its duration.
    private TxQueue tx;
    private Counters counters;
    private int sourcePort;
    private int pendingDestination;
    /** The claimed frame's IPv4 header sum without its total length, from {@link Ipv4UdpHeaders#write}. */
    private long pendingIpSum;
    private DatagramClaim pendingClaim;
    private long claimSequence;
    private boolean closed;

    /**
     * @param uri              the endpoint's URI, for the closed error
     * @param link             our end of the link
     * @param resolver         finds unicast next hops
     * @param tx               the queue datagrams go out on
     * @param counters         where refusals are counted
     * @param sourcePort       the source port until {@link #sourcePort(int)}
     * @param unicastTtl       IPv4 TTL of unicast and broadcast datagrams
     * @param multicastTtl     IPv4 TTL of multicast datagrams
     * @param checksumOffload  true to leave the UDP checksum to the NIC
     */
    L2UdpSender(final PortUri uri, final Ipv4Link link, final NextHopResolver resolver, final TxQueue tx,
                final Counters counters, final int sourcePort, final int unicastTtl, final int multicastTtl,
                final boolean checksumOffload) {
        this.uri = uri;
        this.link = link;
        this.resolver = resolver;
        this.tx = tx;
        this.counters = counters;
        this.sourcePort = sourcePort;
        this.unicastTtl = unicastTtl;
        this.multicastTtl = multicastTtl;
        this.checksumOffload = checksumOffload;
        headers = new Ipv4UdpHeaders(link);
        maxPayloadLength = Math.max(0, Math.min(link.mtu() - Udp.IPV4_UDP_HEADERS, tx.maxFrameLength() - headers.length()));
    }

    /** @return the largest payload one datagram can carry: within the MTU and the TX frame */
    int maxPayloadLength() {
        return maxPayloadLength;
    }

    /** @return the source port of sent datagrams */
    int sourcePort() {
        return sourcePort;
    }

    /** @param sourcePort the source port of datagrams claimed from now on */
    void sourcePort(final int sourcePort) {
        this.sourcePort = sourcePort;
    }

    /**
     * Points sends at another queue and counters (a warm-up's), or back at the live ones.
     *
     * @param tx       the queue datagrams go out on
     * @param counters where refusals are counted
     */
    void divert(final TxQueue tx, final Counters counters) {
        this.tx = tx;
        this.counters = counters;
    }

    /** As {@link UdpEndpoint#tryClaim}; see {@link L2UdpEndpoint#tryClaim} for the statuses. */
    int tryClaim(final UdpDestination destination, final int length, final DatagramClaim claim) {
        if (closed) {
            throw closedException();
        }
        if (length < 0) {
            UdpRules.checkLength(length);
        }
        if (length > maxPayloadLength) {
            counters.increment(Counter.DROP_TOO_LONG);
            return UdpEndpoint.TOO_LONG;
        }
        if (frameClaim.isClaimed()) {
            throw HotPathErrors.claimOutstanding();
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
            mac = resolver.resolve(destinationAddress, tx);
            if (mac == NeighbourTable.NO_MAC) {
                counters.increment(Counter.DROP_NEIGHBOUR_UNRESOLVED);
                return UdpEndpoint.NEIGHBOUR_PENDING;
            }
        }

        final int frameLength = Math.max(Ethernet.MIN_FRAME_LENGTH, headers.length() + length);
        if (!tx.tryClaim(frameLength, frameClaim)) {
            return UdpEndpoint.BACK_PRESSURED;
        }
        final MutableDirectBuffer b = frameClaim.buffer();
        final int o = frameClaim.offset();
        // lengths and checksums are written at commit, when the payload length is final
        pendingIpSum = headers.write(b, o, frameLength, mac, link.nextIdentification(), ttl, destinationAddress, sourcePort,
            destination.port());
        pendingDestination = destinationAddress;
        pendingClaim = claim;
        claim.wrap(this, ++claimSequence, b.addressOffset() + o + headers.length(), length);
        return UdpEndpoint.OK;
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
        int frameLength = headers.finish(b, o, length, pendingIpSum, pendingDestination, checksumOffload);
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
            throw HotPathErrors.notOutstanding(token);
        }
    }

    /** As {@link UdpEndpoint#send}: claims, copies and commits. */
    int send(final UdpDestination destination, final DirectBuffer buffer, final int offset, final int length) {
        final int result = tryClaim(destination, length, sendClaim);
        if (result == UdpEndpoint.OK) {
            sendClaim.buffer().putBytes(0, buffer, offset, length);
            sendClaim.commit();
        }
        return result;
    }

    /** As {@link UdpEndpoint#flush}. */
    int flush() {
        if (closed) {
            throw closedException();
        }
        return tx.flush();
    }

    /**
     * Refuses every call from now on, and points an outstanding datagram claim at nothing:
     * writing through it then fails a bounds check instead of touching memory the port may
     * unmap, and its commit throws.
     */
    void close() {
        closed = true;
        final DatagramClaim outstanding = pendingClaim;
        pendingClaim = null;
        if (outstanding != null && outstanding.isClaimed()) {
            outstanding.wrap(this, -1, 0, 0);
        }
    }

    /** Gives back the frame of a claim neither committed nor aborted; for close, while the port is open. */
    void abortFrame() {
        if (frameClaim.isClaimed()) {
            frameClaim.abort();
        }
    }

    private BypassException closedException() {
        return UdpRules.closed(uri);
    }
}
