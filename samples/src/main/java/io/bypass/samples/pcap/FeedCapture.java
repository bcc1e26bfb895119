package io.bypass.samples.pcap;

import io.bypass.net.Ipv4;
import io.bypass.samples.codec.MarketMessage;
import io.bypass.samples.codec.MoldUdp64;
import io.bypass.samples.codec.MoldUdp64Encoder;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Writes a synthetic exchange capture: a MoldUDP64 market-data stream on an A and a B
 * multicast line, as a feed handler receives it, for replays by a third-party sender
 * ({@code tcpreplay}) or by {@code bypass replay}. Some A-line packets are missing (the B
 * line fills them, so nothing is lost), and malformed frames addressed to the A line are
 * mixed in, one of each {@link Malformed} kind in turn, so a receiver's drop counters can
 * be checked against what the capture holds. The stream ends with an end of session on
 * both lines, so {@code bypass feed} stops by itself.
 *
 * <pre>
 * FeedCapture.Stats s = new FeedCapture(config).write(Path.of("feed.pcap"), PcapWriter.Format.PCAP_NANOS);
 * </pre>
 */
public final class FeedCapture {
    /** The malformed frames mixed in, each addressed to the A line's group and port. */
    public enum Malformed {
        /** IPv4 total length runs past the end of the frame (the frame was cut short). */
        TRUNCATED_IP,
        /** IPv4 header length below 5 words. */
        BAD_IHL,
        /** IPv4 header checksum wrong. */
        BAD_IP_CHECKSUM,
        /** First fragment of a datagram (more-fragments set). */
        FRAGMENT,
        /** UDP length larger than the IPv4 payload. */
        BAD_UDP_LENGTH,
        /** UDP checksum present and wrong. */
        BAD_UDP_CHECKSUM,
        /** A well-formed datagram whose MoldUDP64 message length runs past its end (the feed's own malformed count). */
        MOLD_OVERRUN
    }

    /** What the capture is made of. */
    public static final class Config {
        /** A line group. */
        public int groupA = Ipv4.parse("239.1.1.1");
        /** A line port. */
        public int portA = 30001;
        /** B line group. */
        public int groupB = Ipv4.parse("239.1.1.2");
        /** B line port. */
        public int portB = 30002;
        /** Sender address. */
        public int source = Ipv4.parse("192.0.2.1");
        /** MoldUDP64 sequenced packets (each sent on A and B). */
        public int packets = 100_000;
        /** Messages in each packet. */
        public int messagesPerPacket = 3;
        /** Packets per second per line at 1x. */
        public int rate = 2_500;
        /** Percentage of A-line copies missing (filled by B). */
        public double aMissingPercent = 1.0;
        /** Malformed frames mixed in on the A line. */
        public int malformed = 14;
        /** Seed of the random A-line misses. */
        public long seed = 1;
    }

    /** What was written. */
    public record Stats(long frames, long packets, long messages, long aMissing, long[] malformedByKind, long durationNanos) {
        /** @return malformed frames of every kind */
        public long malformed() {
            long n = 0;
            for (final long v : malformedByKind) {
                n += v;
            }
            return n;
        }
    }

    private static final byte[] STOCK = {'R', 'E', 'P', 'L', 'A', 'Y', ' ', ' '};
    private static final long T0 = 1_700_000_000_000_000_000L;
    private static final int ETH = 14;
    private static final int IP = 20;
    private static final int UDP = 8;

    private final Config config;
    private final UnsafeBuffer payload = new UnsafeBuffer(new byte[2048]);
    private final byte[] frame = new byte[2048];
    private final UnsafeBuffer fb = new UnsafeBuffer(frame);
    private final MoldUdp64Encoder enc = new MoldUdp64Encoder();
    private final byte[] session = MoldUdp64Encoder.session("SYNTH00001");
    private int ipId;

    /**
     * @param config what to write
     */
    public FeedCapture(final Config config) {
        if (config.packets < 1 || config.messagesPerPacket < 1 || config.rate < 1 || config.malformed < 0
            || config.aMissingPercent < 0 || config.aMissingPercent > 100) {
            throw new IllegalArgumentException("packets, messages per packet and rate must be positive, "
                + "malformed non-negative and the A-missing percentage within 0..100");
        }
        this.config = config;
    }

    /**
     * Writes the capture.
     *
     * @param file   where
     * @param format pcap (micro- or nanosecond) or pcapng
     * @return what was written
     * @throws IOException if the file cannot be written
     */
    public Stats write(final Path file, final PcapWriter.Format format) throws IOException {
        final Config c = config;
        final SplittableRandom random = new SplittableRandom(c.seed);
        final long gap = 1_000_000_000L / c.rate;
        final long malformedEvery = c.malformed == 0 ? Long.MAX_VALUE : Math.max(1, c.packets / (c.malformed + 1));
        final long[] byKind = new long[Malformed.values().length];
        long frames = 0;
        long aMissing = 0;
        long malformed = 0;
        long sequence = 1;
        long t = T0;
        try (PcapWriter w = PcapWriter.open(file, format)) {
            for (int i = 0; i < c.packets; i++) {
                final int length = encodePacket(sequence);
                // The A copy may be missing; B's copy follows a microsecond later, as from a second feed server.
                if (random.nextDouble() * 100 >= c.aMissingPercent) {
                    w.writeUdp(t, c.source, 40000, c.groupA, c.portA, payload.byteArray(), 0, length);
                    frames++;
                } else {
                    aMissing++;
                }
                w.writeUdp(t + 1000, c.source, 40001, c.groupB, c.portB, payload.byteArray(), 0, length);
                frames++;
                sequence += c.messagesPerPacket;
                if (malformed < c.malformed && (i + 1) % malformedEvery == 0) {
                    final Malformed kind = Malformed.values()[(int) (malformed % byKind.length)];
                    writeMalformed(w, t + gap / 2, kind, sequence);
                    byKind[kind.ordinal()]++;
                    malformed++;
                    frames++;
                }
                t += gap;
            }
            enc.wrap(payload, 0, session).sequence(sequence).endOfSession();
            w.writeUdp(t, c.source, 40000, c.groupA, c.portA, payload.byteArray(), 0, enc.length());
            w.writeUdp(t + 1000, c.source, 40001, c.groupB, c.portB, payload.byteArray(), 0, enc.length());
            frames += 2;
        }
        return new Stats(frames, c.packets, (long) c.packets * c.messagesPerPacket, aMissing, byKind, t + 1000 - T0);
    }

    private int encodePacket(final long sequence) {
        enc.wrap(payload, 0, session).sequence(sequence);
        for (int m = 0; m < config.messagesPerPacket; m++) {
            final long ref = sequence + m;
            MarketMessage.encode(payload, enc.addMessage(MarketMessage.LENGTH), 0, 0, ref,
                (ref & 1) == 0 ? (byte) 'B' : (byte) 'S', 100, STOCK, 1_000_000 + (int) (ref % 1000));
        }
        return enc.length();
    }

    private void writeMalformed(final PcapWriter w, final long t, final Malformed kind, final long sequence) throws IOException {
        final Config c = config;
        if (kind == Malformed.MOLD_OVERRUN) {
            enc.wrap(payload, 0, session).sequence(sequence);
            final int at = enc.addMessage(MarketMessage.LENGTH);
            MarketMessage.encode(payload, at, 0, 0, 0, (byte) 'B', 1, STOCK, 1);
            payload.putShort(at - MoldUdp64.LENGTH_PREFIX, (short) 200, ByteOrder.BIG_ENDIAN);
            w.writeUdp(t, c.source, 40000, c.groupA, c.portA, payload.byteArray(), 0, enc.length());
            return;
        }
        // A heartbeat's worth of payload: the frame is malformed below the application.
        enc.wrap(payload, 0, session).sequence(sequence);
        final int length = enc.length();
        final int udpLength = UDP + length;
        final int ipLength = IP + udpLength;
        final long mac = Ipv4.multicastMac(c.groupA);
        for (int i = 0; i < 6; i++) {
            frame[i] = (byte) (mac >>> (40 - 8 * i));
            frame[6 + i] = (byte) (0x02_00_00_00_00_01L >>> (40 - 8 * i));
        }
        fb.putShort(12, (short) 0x0800, ByteOrder.BIG_ENDIAN);
        fb.putByte(ETH, (byte) 0x45);
        fb.putByte(ETH + 1, (byte) 0);
        fb.putShort(ETH + 2, (short) ipLength, ByteOrder.BIG_ENDIAN);
        // Each frame its own IPv4 identification, as a sender's would be: two fragments with the
        // same (source, destination, id) would be one datagram's to a reassembler.
        fb.putShort(ETH + 4, (short) (0x1000 + ipId++), ByteOrder.BIG_ENDIAN);
        fb.putShort(ETH + 6, (short) 0x4000, ByteOrder.BIG_ENDIAN);
        fb.putByte(ETH + 8, (byte) 64);
        fb.putByte(ETH + 9, (byte) 17);
        fb.putInt(ETH + 12, c.source, ByteOrder.BIG_ENDIAN);
        fb.putInt(ETH + 16, c.groupA, ByteOrder.BIG_ENDIAN);
        fb.putShort(ETH + IP, (short) 40000, ByteOrder.BIG_ENDIAN);
        fb.putShort(ETH + IP + 2, (short) c.portA, ByteOrder.BIG_ENDIAN);
        fb.putShort(ETH + IP + 4, (short) udpLength, ByteOrder.BIG_ENDIAN);
        fb.putShort(ETH + IP + 6, (short) 0, ByteOrder.BIG_ENDIAN);
        fb.putBytes(ETH + IP + UDP, payload, 0, length);
        int frameLength = ETH + ipLength;
        switch (kind) {
            case TRUNCATED_IP -> frameLength = ETH + IP + UDP + length / 2;
            case BAD_IHL -> fb.putByte(ETH, (byte) 0x44);
            case FRAGMENT -> fb.putShort(ETH + 6, (short) 0x2000, ByteOrder.BIG_ENDIAN);
            case BAD_UDP_LENGTH -> fb.putShort(ETH + IP + 4, (short) (udpLength + 40), ByteOrder.BIG_ENDIAN);
            case BAD_UDP_CHECKSUM -> fb.putShort(ETH + IP + 6, (short) 0x1bad, ByteOrder.BIG_ENDIAN);
            default -> {
            }
        }
        fb.putShort(ETH + 10, (short) ipChecksum(), ByteOrder.BIG_ENDIAN);
        if (kind == Malformed.BAD_IP_CHECKSUM) {
            fb.putShort(ETH + 10, (short) (ipChecksum() ^ 0x0101), ByteOrder.BIG_ENDIAN);
        }
        w.writeFrame(t, frame, 0, frameLength);
    }

    private int ipChecksum() {
        final int words = (fb.getByte(ETH) & 0x0F) * 2;
        int sum = 0;
        for (int i = 0; i < Math.max(words, 10); i++) {
            if (i != 5) {
                sum += fb.getShort(ETH + 2 * i, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            }
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return ~sum & 0xFFFF;
    }
}
