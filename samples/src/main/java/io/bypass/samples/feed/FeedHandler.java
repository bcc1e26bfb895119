package io.bypass.samples.feed;

import io.bypass.samples.cli.GroupPort;
import io.bypass.samples.codec.MarketMessage;
import io.bypass.samples.codec.MoldUdp64;
import io.bypass.samples.internal.EpochClock;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.DatagramMeta;
import org.HdrHistogram.Histogram;
import org.agrona.DirectBuffer;

/**
 * The feed handler's receive path, shared by {@code feed} and {@code trade}: validates
 * MoldUDP64 framing (malformed packets are counted and skipped, never stop the feed),
 * tells the A line from the B line, arbitrates, and records wire-to-handler latency of
 * each packet whose first message carries a send time. No allocation per packet.
 */
public final class FeedHandler implements DatagramHandler {
    /** Latency above this is clamped, so one stray clock cannot throw. */
    private static final long MAX_LATENCY = 60_000_000_000L;

    private final MoldUdp64 mold = new MoldUdp64();
    private final Arbitrator arbitrator;
    private final GroupPort a;
    private final GroupPort b;
    private final Histogram latency = new Histogram(MAX_LATENCY, 3);
    private long malformed;
    private final long[] malformedByReason = new long[5];
    private long foreign;
    private long clockSkewed;
    private long sessionMismatch;
    private byte[] session;
    private int fixedLine = -1;
    private long lastPacketNanos;

    /**
     * @param arbitrator where valid packets go
     * @param a          the A line (matched by destination group and port)
     * @param b          the B line, or null for a single line
     */
    public FeedHandler(final Arbitrator arbitrator, final GroupPort a, final GroupPort b) {
        this.arbitrator = arbitrator;
        this.a = a;
        this.b = b;
    }

    /**
     * Forces the line of every following datagram, when A and B come through separate
     * endpoints.
     *
     * @param line 0, 1, or -1 to match by destination again
     */
    public void fixLine(final int line) {
        fixedLine = line;
    }

    @Override
    public void onDatagram(final DirectBuffer buffer, final int offset, final int length, final DatagramMeta meta) {
        final int line = fixedLine >= 0 ? fixedLine : lineOf(meta);
        if (line < 0) {
            foreign++;
            return;
        }
        final int rc = mold.wrap(buffer, offset, length);
        if (rc != MoldUdp64.VALID) {
            malformed++;
            malformedByReason[rc]++;
            return;
        }
        if (session == null) {
            // First packet fixes the session; allocation happens once.
            session = new byte[MoldUdp64.SESSION_LENGTH];
            mold.getSession(session);
        } else if (!mold.sessionEquals(session)) {
            sessionMismatch++;
            return;
        }
        final long before = arbitrator.messages();
        final long now = System.nanoTime();
        arbitrator.onPacket(mold, line, now);
        lastPacketNanos = now;
        if (arbitrator.messages() != before && mold.messageCount() > 0) {
            final int first = mold.firstMessage();
            final int at = mold.payloadOffset(first);
            if (MarketMessage.isAddOrder(buffer, at, mold.payloadLength(first))) {
                final long sent = MarketMessage.sendNanos(buffer, at);
                if (sent != 0) {
                    final long d = EpochClock.nanos() - sent;
                    if (d < 0) {
                        clockSkewed++;
                    } else {
                        latency.recordValue(Math.min(d, MAX_LATENCY));
                    }
                }
            }
        }
    }

    private int lineOf(final DatagramMeta meta) {
        if (matches(a, meta)) {
            return 0;
        }
        if (b != null && matches(b, meta)) {
            return 1;
        }
        return -1;
    }

    private static boolean matches(final GroupPort gp, final DatagramMeta meta) {
        return meta.destinationPort() == gp.port() && (!gp.isMulticast() || meta.destinationAddress() == gp.address());
    }

    /** @return the arbitrator */
    public Arbitrator arbitrator() {
        return arbitrator;
    }

    /** @return packets with bad MoldUDP64 framing */
    public long malformed() {
        return malformed;
    }

    /**
     * @param reason a {@code MoldUdp64.MALFORMED_*} code
     * @return malformed packets for that reason
     */
    public long malformed(final int reason) {
        return malformedByReason[reason];
    }

    /** @return datagrams for neither line */
    public long foreign() {
        return foreign;
    }

    /** @return packets whose session differs from the first packet's */
    public long sessionMismatch() {
        return sessionMismatch;
    }

    /** @return latencies not recorded because the send time was in the future */
    public long clockSkewed() {
        return clockSkewed;
    }

    /** @return wire-to-handler latency in nanoseconds, one sample per new stamped packet */
    public Histogram latency() {
        return latency;
    }

    /** @return {@link System#nanoTime()} of the last valid packet, 0 if none */
    public long lastPacketNanos() {
        return lastPacketNanos;
    }
}
