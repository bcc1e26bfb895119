package io.bypass.nio;

import io.bypass.BypassException;
import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.PortUri;
import io.bypass.spi.ClaimOwner;
import io.bypass.spi.UdpRules;
import io.bypass.udp.DatagramClaim;
import io.bypass.udp.UdpDestination;
import io.bypass.udp.UdpEndpoint;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;

/**
 * The send path of a {@link NioUdpEndpoint}: up to {@value #SLOTS} claimable slots in one
 * reused direct buffer, each sent with one {@code sendto} at commit from the endpoint's
 * sending socket (its ephemeral one until a port is bound, then the bound one). A send
 * refused for a full socket buffer is retried for {@value NioUdpEndpoint#SEND_RETRY_NANOS}
 * ns, then counted as {@link Counter#DROP_TX_INVALID}, as is any other refusal; each datagram
 * sent counts its Ethernet frame in {@code TX_BYTES} ({@link UdpRules#frameLength(int)}).
 * The endpoint checks it is open; use from its thread.
 */
final class NioSender {
    /** Claims outstanding at once. */
    static final int SLOTS = 16;

    private final PortUri uri;
    private Counters counters;
    private final int maxPayload;
    private final ByteBuffer[] slots = new ByteBuffer[SLOTS];
    private final long[] addresses = new long[SLOTS];
    private final InetSocketAddress[] destinations = new InetSocketAddress[SLOTS];
    private long claimed; // bit i set: slot i claimed
    private DatagramChannel channel;
    private int sourcePort; // the channel's local port, kept so localPort() needs no syscall and works after close

    /**
     * @param uri        the endpoint's URI, for the closed error
     * @param counters   the endpoint's counters
     * @param maxPayload the largest datagram: each slot's size
     * @param channel    the socket to send from until {@link #sendFrom}
     * @param sourcePort its local port
     */
    NioSender(final PortUri uri, final Counters counters, final int maxPayload, final DatagramChannel channel,
              final int sourcePort) {
        this.uri = uri;
        this.counters = counters;
        this.maxPayload = maxPayload;
        this.channel = channel;
        this.sourcePort = sourcePort;
        final ByteBuffer area = ByteBuffer.allocateDirect(maxPayload * SLOTS);
        final long base = BufferUtil.address(area);
        for (int i = 0; i < SLOTS; i++) {
            slots[i] = area.slice(i * maxPayload, maxPayload);
            addresses[i] = base + (long) i * maxPayload;
        }
    }

    /**
     * @param channel    the socket datagrams go out from from now on (a newly bound port)
     * @param sourcePort its local port
     */
    void sendFrom(final DatagramChannel channel, final int sourcePort) {
        this.channel = channel;
        this.sourcePort = sourcePort;
    }

    /**
     * Points the sender somewhere else for a warm-up, and back.
     *
     * @param channel    the socket datagrams go out from
     * @param sourcePort its local port
     * @param counters   where sends are counted
     */
    void divert(final DatagramChannel channel, final int sourcePort, final Counters counters) {
        this.channel = channel;
        this.sourcePort = sourcePort;
        this.counters = counters;
    }

    /** @return the socket datagrams go out from */
    DatagramChannel channel() {
        return channel;
    }

    /** @return the source port of sent datagrams */
    int sourcePort() {
        return sourcePort;
    }

    /** As {@link NioUdpEndpoint#tryClaim}, with {@code owner} as the claim's owner. */
    int tryClaim(final ClaimOwner owner, final UdpDestination destination, final int length, final DatagramClaim claim) {
        if (length < 0) {
            UdpRules.checkLength(length);
        }
        if (length > maxPayload) {
            counters.increment(Counter.DROP_TOO_LONG);
            return UdpEndpoint.TOO_LONG;
        }
        final long free = ~claimed;
        if (free == 0 || Long.numberOfTrailingZeros(free) >= SLOTS) {
            counters.increment(Counter.TX_BACK_PRESSURED);
            return UdpEndpoint.BACK_PRESSURED;
        }
        final int slot = Long.numberOfTrailingZeros(free);
        claimed |= 1L << slot;
        destinations[slot] = destination.socketAddress();
        claim.wrap(owner, slot, addresses[slot], length);
        return UdpEndpoint.OK;
    }

    /** As {@link NioUdpEndpoint#send}: copies into a free slot and sends it. */
    int send(final UdpDestination destination, final DirectBuffer buffer, final int offset, final int length) {
        if (length < 0) {
            UdpRules.checkLength(length);
        }
        if (length > maxPayload) {
            counters.increment(Counter.DROP_TOO_LONG);
            return UdpEndpoint.TOO_LONG;
        }
        final ByteBuffer slot = slots[0];
        if ((claimed & 1L) != 0) {
            // Slot 0 is held by an open claim: fall back to the general path.
            final long free = ~claimed;
            if (Long.numberOfTrailingZeros(free) >= SLOTS) {
                counters.increment(Counter.TX_BACK_PRESSURED);
                return UdpEndpoint.BACK_PRESSURED;
            }
            final int s = Long.numberOfTrailingZeros(free);
            buffer.getBytes(offset, slots[s], 0, length);
            sendSlot(s, destination.socketAddress(), length);
            return UdpEndpoint.OK;
        }
        buffer.getBytes(offset, slot, 0, length);
        sendSlot(0, destination.socketAddress(), length);
        return UdpEndpoint.OK;
    }

    /**
     * Frees a claimed slot, for commit or abort.
     *
     * @param token the slot
     * @return where the slot's datagram was to go
     * @throws IllegalStateException if the slot is not claimed
     */
    InetSocketAddress release(final long token) {
        final int slot = (int) token;
        final long bit = 1L << slot;
        if ((claimed & bit) == 0) {
            throw new IllegalStateException("nio: datagram slot " + token + " is not claimed");
        }
        claimed &= ~bit;
        final InetSocketAddress destination = destinations[slot];
        destinations[slot] = null;
        return destination;
    }

    /**
     * Sends one slot now (one {@code sendto}), counting it as sent or dropped.
     *
     * @param slot        the slot
     * @param destination where to
     * @param length      payload bytes
     * @throws BypassException if the socket was closed
     */
    void sendSlot(final int slot, final InetSocketAddress destination, final int length) {
        final ByteBuffer b = slots[slot];
        b.clear().limit(length);
        long deadline = 0;
        try {
            while (channel.send(b, destination) == 0) {
                // Socket buffer full: the kernel frees it as frames leave, so retry briefly.
                final long now = System.nanoTime();
                if (deadline == 0) {
                    deadline = now + NioUdpEndpoint.SEND_RETRY_NANOS;
                } else if (now - deadline > 0) {
                    counters.increment(Counter.DROP_TX_INVALID);
                    return;
                }
                Thread.onSpinWait();
            }
        } catch (final ClosedChannelException e) {
            throw UdpRules.closed(uri);
        } catch (final IOException e) {
            counters.increment(Counter.DROP_TX_INVALID);
            return;
        }
        counters.increment(Counter.TX_PACKETS);
        counters.add(Counter.TX_BYTES, UdpRules.frameLength(length));
    }
}
