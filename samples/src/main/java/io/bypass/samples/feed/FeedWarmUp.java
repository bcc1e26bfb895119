package io.bypass.samples.feed;

import io.bypass.samples.cli.GroupPort;
import io.bypass.samples.codec.MarketMessage;
import io.bypass.samples.codec.MoldUdp64;
import io.bypass.samples.codec.MoldUdp64Encoder;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.DatagramMeta;
import io.bypass.udp.UdpEndpoint;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * Warms a feed handler's receive path before the market opens ({@link UdpEndpoint#warmUp}):
 * MoldUDP64 packets through the endpoint's own receive code into a {@link FeedHandler} of
 * the same class as the live one, over a scratch {@link Arbitrator}, with each packet's
 * sequence number moved on so the handler runs its in-sequence path, not its duplicate one.
 */
public final class FeedWarmUp {
    /** Datagrams a warm-up pushes through by default: enough for C2 to compile the poll path here. */
    public static final int DEFAULT_DATAGRAMS = 300_000;
    private static final int MESSAGES_PER_PACKET = 3;

    private FeedWarmUp() {
    }

    /**
     * Runs the warm-up.
     *
     * @param udp       the live endpoint, already joined to its lines
     * @param a         A line
     * @param b         B line, or null
     * @param datagrams how many
     * @return nanoseconds it took
     */
    public static long run(final UdpEndpoint udp, final GroupPort a, final GroupPort b, final int datagrams) {
        final UnsafeBuffer packet = new UnsafeBuffer(new byte[MoldUdp64.HEADER_LENGTH
            + MESSAGES_PER_PACKET * (MoldUdp64.LENGTH_PREFIX + MarketMessage.LENGTH)]);
        final MoldUdp64Encoder enc = new MoldUdp64Encoder().wrap(packet, 0, MoldUdp64Encoder.session("WARMUP0001")).sequence(1);
        final byte[] stock = {'W', 'A', 'R', 'M', ' ', ' ', ' ', ' '};
        for (int m = 0; m < MESSAGES_PER_PACKET; m++) {
            MarketMessage.encode(packet, enc.addMessage(MarketMessage.LENGTH), 0, 0, m + 1, (byte) 'B', 100, stock, 1_000_000);
        }
        final int length = enc.length();
        final FeedHandler scratch = new FeedHandler(new Arbitrator(0, (buffer, offset, len, sequence, recovered) -> {
        }, (from, to, line) -> {
        }), a, b);
        final UnsafeBuffer copy = new UnsafeBuffer(new byte[length]);
        final DatagramHandler sequencer = new DatagramHandler() {
            private long sequence = 1;

            @Override
            public void onDatagram(final DirectBuffer buffer, final int offset, final int len, final DatagramMeta meta) {
                copy.putBytes(0, buffer, offset, len);
                copy.putLong(MoldUdp64.SEQUENCE_OFFSET, sequence, ByteOrder.BIG_ENDIAN);
                sequence += MESSAGES_PER_PACKET;
                scratch.onDatagram(copy, 0, len, meta);
            }
        };
        final long start = System.nanoTime();
        udp.warmUp(sequencer, packet, 0, length, datagrams);
        return System.nanoTime() - start;
    }
}
