package io.bypass.samples.feed;

import io.bypass.samples.cli.GroupPort;
import io.bypass.samples.codec.MarketMessage;
import io.bypass.samples.codec.MoldUdp64;
import io.bypass.samples.codec.MoldUdp64Encoder;
import io.bypass.samples.internal.EpochClock;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.DatagramMeta;
import io.bypass.threads.HiccupRecorder;
import io.bypass.udp.UdpEndpoint;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.IdleStrategy;
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
        final UnsafeBuffer packet = packet();
        final int length = packet.capacity();
        final FeedHandler scratch = new FeedHandler(scratchArbitrator(), a, b);
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
    /**
     * Runs the warm-up through the feed's own loop ({@link FeedLoop}, the class {@code bypass
     * feed} turns live) with {@link UdpEndpoint#warmUpDutyCycle}: a scratch loop of the same
     * class over a scratch handler and arbitrator polls the diverted endpoint, and each turn
     * moves the synthetic packet's sequence number on, so the arbitrator runs its in-sequence
     * path (and its duplicate path, for the copies a turn delivers) and nothing is wrapped.
     *
     * @param udp       the live endpoint, already joined to its lines
     * @param a         A line
     * @param b         B line, or null
     * @param datagrams how many
     * @param batch     datagrams per poll, as the live loop
     * @param idle      an idle strategy of the live loop's kind (a fresh one: it keeps state)
     * @param onMessage the live arbitrator's message handler (the same object, so the call site
     *                  that runs it sees the class live traffic runs)
     * @return nanoseconds it took
     */
    public static long run(final UdpEndpoint udp, final GroupPort a, final GroupPort b, final int datagrams, final int batch,
                           final IdleStrategy idle, final Arbitrator.MessageHandler onMessage) {
        final UnsafeBuffer packet = packet();
        final long[] sequence = {1};
        final long start = System.nanoTime();
        // Half with the lines as given, half swapped: the synthetic packets all go to the
        // endpoint's first subscription, and this way the handler matches them as A and as B.
        final int half = b == null ? datagrams : datagrams / 2;
        warmUp(udp, a, b, onMessage, packet, sequence, half, batch, idle);
        if (b != null) {
            warmUp(udp, b, a, onMessage, packet, sequence, datagrams - half, batch, idle);
        }
        return System.nanoTime() - start;
    }

    private static void warmUp(final UdpEndpoint udp, final GroupPort first, final GroupPort second,
                               final Arbitrator.MessageHandler onMessage,
                               final UnsafeBuffer packet, final long[] sequence, final int datagrams, final int batch,
                               final IdleStrategy idle) {
        final Arbitrator arbitrator = new Arbitrator(sequence[0], onMessage, (from, to, line) -> {
        });
        final FeedLoop loop = new FeedLoop(udp, null, new FeedHandler(arbitrator, first, second), arbitrator, batch, idle,
            new HiccupRecorder());
        final int[] turn = {0};
        final long[] step = {0};
        final long[] high = {sequence[0]};
        udp.warmUpDutyCycle(() -> {
            // Every third turn, not every other: a backend's warm-up queue may deliver on every other turn only.
            if (turn[0]++ % 3 == 0) {
                loop.forgetFirstPacket(); // both ways of its first-packet branch, as live traffic takes them
            }
            final int n = loop.doWork();
            if (n > 0) {
                nextPacket(packet, sequence, high, step[0]++);
            }
            return n;
        }, packet, 0, packet.capacity(), datagrams);
    }

    /**
     * The packet the next turn delivers, moved on once a turn delivered the last: mostly the next in
     * sequence; every 16th one packet further (a gap, as when the A line misses one), then the one
     * skipped (the B line filling it), so the gap and recovery paths are compiled as live ones. One
     * packet in three carries no send time (a capture's), the others the time now.
     */
    private static void nextPacket(final UnsafeBuffer packet, final long[] sequence, final long[] high, final long step) {
        switch ((int) (step & 15)) {
            case 14 -> {
                high[0] += 2 * MESSAGES_PER_PACKET;
                sequence[0] = high[0];
            }
            case 15 -> sequence[0] = high[0] - MESSAGES_PER_PACKET;
            default -> {
                high[0] += MESSAGES_PER_PACKET;
                sequence[0] = high[0];
            }
        }
        packet.putLong(MoldUdp64.SEQUENCE_OFFSET, sequence[0], ByteOrder.BIG_ENDIAN);
        final long sendNanos = step % 3 == 2 ? 0 : EpochClock.nanos();
        for (int m = 0, at = MoldUdp64.HEADER_LENGTH + MoldUdp64.LENGTH_PREFIX; m < MESSAGES_PER_PACKET;
             m++, at += MoldUdp64.LENGTH_PREFIX + MarketMessage.LENGTH) {
            MarketMessage.setSendNanos(packet, at, sendNanos);
        }
    }

    /** @return a MoldUDP64 packet of three add-order messages, sequence 1 */
    private static UnsafeBuffer packet() {
        final UnsafeBuffer packet = new UnsafeBuffer(new byte[MoldUdp64.HEADER_LENGTH
            + MESSAGES_PER_PACKET * (MoldUdp64.LENGTH_PREFIX + MarketMessage.LENGTH)]);
        final MoldUdp64Encoder enc = new MoldUdp64Encoder().wrap(packet, 0, MoldUdp64Encoder.session("WARMUP0001")).sequence(1);
        final byte[] stock = {'W', 'A', 'R', 'M', ' ', ' ', ' ', ' '};
        for (int m = 0; m < MESSAGES_PER_PACKET; m++) {
            MarketMessage.encode(packet, enc.addMessage(MarketMessage.LENGTH), 0, 0, m + 1, (byte) 'B', 100, stock, 1_000_000);
        }
        return packet;
    }

    private static Arbitrator scratchArbitrator() {
        return new Arbitrator(0, (buffer, offset, len, sequence, recovered) -> {
        }, (from, to, line) -> {
        });
    }
}
