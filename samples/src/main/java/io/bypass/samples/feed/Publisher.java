package io.bypass.samples.feed;

import io.bypass.samples.cli.Udp;
import io.bypass.samples.codec.MarketMessage;
import io.bypass.samples.codec.MoldUdp64;
import io.bypass.samples.codec.MoldUdp64Encoder;
import io.bypass.samples.internal.EpochClock;
import io.bypass.udp.UdpDestination;
import io.bypass.udp.UdpEndpoint;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * Sends a synthetic MoldUDP64 stream of {@link MarketMessage}s to an A and a B line,
 * each packet once per line, stamped with the send time. Shared by {@code publish},
 * {@code exchange} and the demo. Allocation-free per packet.
 */
public final class Publisher {
    private static final long SEND_TIMEOUT = 1_000_000_000L;
    private static final byte[] STOCK = {'B', 'Y', 'P', 'S', ' ', ' ', ' ', ' '};

    private final UdpEndpoint udp;
    private final UdpDestination a;
    private final UdpDestination b;
    private final byte[] session;
    private final int messagesPerPacket;
    private final IdleStrategy idle;
    private final UnsafeBuffer buf = new UnsafeBuffer(ByteBuffer.allocateDirect(65536));
    private final MoldUdp64Encoder enc = new MoldUdp64Encoder();
    private long sequence;
    private long packets;
    private long messages;
    private long failures;
    private long orderRef;
    private long lastTriggerRef = -1;
    private long lastSendNanos;

    /**
     * @param udp               endpoint to send through
     * @param a                 A line
     * @param b                 B line, or null
     * @param session           10-byte session
     * @param firstSequence     sequence number of the first message
     * @param messagesPerPacket messages in each packet, 1..
     * @param idle              idle strategy for retries
     */
    public Publisher(final UdpEndpoint udp, final UdpDestination a, final UdpDestination b, final byte[] session,
                     final long firstSequence, final int messagesPerPacket, final IdleStrategy idle) {
        final int length = MoldUdp64.HEADER_LENGTH + messagesPerPacket * (MoldUdp64.LENGTH_PREFIX + MarketMessage.LENGTH);
        if (length > udp.maxPayloadLength()) {
            throw new IllegalArgumentException(messagesPerPacket + " messages per packet make " + length
                + "-byte packets, over this endpoint's " + udp.maxPayloadLength() + "-byte limit");
        }
        this.udp = udp;
        this.a = a;
        this.b = b;
        this.session = session;
        this.sequence = firstSequence;
        this.messagesPerPacket = messagesPerPacket;
        this.idle = idle;
    }

    private int encode(final boolean trigger) {
        enc.wrap(buf, 0, session).sequence(sequence);
        final long now = EpochClock.nanos();
        for (int i = 0; i < messagesPerPacket; i++) {
            final int at = enc.addMessage(MarketMessage.LENGTH);
            final boolean t = trigger && i == 0;
            orderRef++;
            if (t) {
                lastTriggerRef = orderRef;
            }
            MarketMessage.encode(buf, at, t ? MarketMessage.FLAG_TRIGGER : 0, now, orderRef,
                (orderRef & 1) == 0 ? (byte) 'B' : (byte) 'S', 100, STOCK, 1_000_000 + (int) (orderRef % 1000));
        }
        lastSendNanos = System.nanoTime();
        return enc.length();
    }

    /**
     * Sends the next packet on both lines and flushes.
     *
     * @param trigger mark its first message as a trigger
     * @return true if both copies went out
     */
    public boolean send(final boolean trigger) {
        return send(trigger, true, true);
    }

    /**
     * Sends the next packet on chosen lines (for tests that drop one line's copy).
     *
     * @param trigger mark its first message as a trigger
     * @param onA     send the A copy
     * @param onB     send the B copy
     * @return true if every copy asked for went out
     */
    public boolean send(final boolean trigger, final boolean onA, final boolean onB) {
        final int length = encode(trigger);
        boolean ok = true;
        if (onA) {
            ok &= sendOne(a, length);
        }
        if (onB && b != null) {
            ok &= sendOne(b, length);
        }
        udp.flush();
        packets++;
        messages += messagesPerPacket;
        sequence += messagesPerPacket;
        return ok;
    }

    private boolean sendOne(final UdpDestination d, final int length) {
        final int rc = Udp.send(udp, d, buf, 0, length, idle, SEND_TIMEOUT, Udp.IGNORE);
        if (rc != UdpEndpoint.OK) {
            failures++;
            return false;
        }
        return true;
    }

    /**
     * Skips one packet's worth of sequence numbers without sending: an injected gap.
     */
    public void skip() {
        sequence += messagesPerPacket;
        orderRef += messagesPerPacket;
    }

    /**
     * Sends a packet whose MoldUDP64 framing is broken (a message length running past
     * the end) on the A line; it consumes no sequence number.
     */
    public void sendMalformed() {
        enc.wrap(buf, 0, session).sequence(sequence);
        final int at = enc.addMessage(MarketMessage.LENGTH);
        MarketMessage.encode(buf, at, 0, EpochClock.nanos(), 0, (byte) 'B', 1, STOCK, 1);
        // Claim 200 bytes in the length prefix while only 39 follow.
        buf.putShort(at - MoldUdp64.LENGTH_PREFIX, (short) 200, java.nio.ByteOrder.BIG_ENDIAN);
        sendOne(a, enc.length());
        udp.flush();
    }

    /**
     * Sends a heartbeat (count 0, next sequence) on both lines.
     */
    public void sendHeartbeat() {
        enc.wrap(buf, 0, session).sequence(sequence);
        sendOne(a, enc.length());
        if (b != null) {
            sendOne(b, enc.length());
        }
        udp.flush();
    }

    /**
     * Sends end of session on both lines.
     */
    public void sendEndOfSession() {
        enc.wrap(buf, 0, session).sequence(sequence).endOfSession();
        sendOne(a, enc.length());
        if (b != null) {
            sendOne(b, enc.length());
        }
        udp.flush();
    }

    /** @return the next sequence number */
    public long sequence() {
        return sequence;
    }

    /** @return packets sent (each counted once though sent on both lines) */
    public long packets() {
        return packets;
    }

    /** @return messages sent */
    public long messages() {
        return messages;
    }

    /** @return copies that could not be sent in time */
    public long failures() {
        return failures;
    }

    /** @return order reference of the last trigger sent, -1 if none */
    public long lastTriggerRef() {
        return lastTriggerRef;
    }

    /** @return {@link System#nanoTime()} just before the last packet was sent */
    public long lastSendNanos() {
        return lastSendNanos;
    }
}
