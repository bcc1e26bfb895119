package io.bypass.samples.pcap;

import io.bypass.net.Ipv4;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes captures that {@link PcapReader}, tcpdump and Wireshark read: classic pcap with
 * microsecond or nanosecond timestamps, or pcapng (one Ethernet interface with
 * {@code if_tsresol} = nanoseconds). {@link #writeUdp} wraps a payload in Ethernet,
 * IPv4 (with header checksum) and UDP headers, so tests and {@code bypass capture} make
 * captures without tcpdump.
 *
 * <pre>{@code
 * try (PcapWriter w = PcapWriter.open(path, PcapWriter.Format.PCAP_NANOS)) {
 *     w.writeUdp(tsNanos, src, 40000, group, 30001, payload, 0, payload.length);
 * }
 * }</pre>
 */
public final class PcapWriter implements AutoCloseable {
    /** File formats. */
    public enum Format {
        /** Classic pcap, microsecond timestamps ({@code a1b2c3d4}). */
        PCAP_MICROS,
        /** Classic pcap, nanosecond timestamps ({@code a1b23c4d}). */
        PCAP_NANOS,
        /** pcapng with nanosecond resolution. */
        PCAPNG
    }

    private static final int HEADERS = 14 + 20 + 8;
    private final OutputStream out;
    private final Format format;
    private final ByteOrder order;
    private final byte[] frame = new byte[65536 + HEADERS];
    private final ByteBuffer fb = ByteBuffer.wrap(frame).order(ByteOrder.BIG_ENDIAN);
    private final byte[] record = new byte[32];
    private final ByteBuffer rb;
    private short ipId;
    private long written;

    private PcapWriter(final OutputStream out, final Format format, final ByteOrder order) throws IOException {
        this.out = out;
        this.format = format;
        this.order = order;
        this.rb = ByteBuffer.wrap(record).order(order);
        writeHeader();
    }

    /**
     * Creates (or truncates) a capture file, in this machine's byte order.
     *
     * @param file   the path
     * @param format the format
     * @return the writer
     * @throws IOException if it cannot be created
     */
    public static PcapWriter open(final Path file, final Format format) throws IOException {
        return open(file, format, ByteOrder.nativeOrder());
    }

    /**
     * Creates a capture file in a chosen byte order (tests use both).
     *
     * @param file   the path
     * @param format the format
     * @param order  byte order of headers and records
     * @return the writer
     * @throws IOException if it cannot be created
     */
    public static PcapWriter open(final Path file, final Format format, final ByteOrder order) throws IOException {
        return new PcapWriter(new BufferedOutputStream(Files.newOutputStream(file), 1 << 16), format, order);
    }

    private void writeHeader() throws IOException {
        if (format == Format.PCAPNG) {
            // Section Header Block: 28 bytes, no options.
            final ByteBuffer b = ByteBuffer.allocate(28).order(order);
            b.putInt(PcapReader.PCAPNG_SHB).putInt(28).putInt(PcapReader.PCAPNG_BOM)
                .putShort((short) 1).putShort((short) 0).putLong(-1L).putInt(28);
            out.write(b.array());
            // Interface Description Block: Ethernet, if_tsresol = 9 (nanoseconds).
            final ByteBuffer i = ByteBuffer.allocate(32).order(order);
            i.putInt(1).putInt(32).putShort((short) PcapReader.LINKTYPE_ETHERNET).putShort((short) 0).putInt(65535)
                .putShort((short) 9).putShort((short) 1).put((byte) 9).put((byte) 0).put((byte) 0).put((byte) 0)
                .putShort((short) 0).putShort((short) 0).putInt(32);
            out.write(i.array());
        } else {
            final ByteBuffer b = ByteBuffer.allocate(24).order(order);
            b.putInt(format == Format.PCAP_NANOS ? PcapReader.MAGIC_NANOS : PcapReader.MAGIC_MICROS)
                .putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(65535).putInt(PcapReader.LINKTYPE_ETHERNET);
            out.write(b.array());
        }
    }

    /**
     * Writes one UDP datagram as an Ethernet frame. Multicast destinations get the
     * group's MAC; others a locally administered placeholder MAC.
     *
     * @param timestampNanos epoch nanoseconds
     * @param src            source IPv4 (big-endian int)
     * @param srcPort        source port
     * @param dst            destination IPv4
     * @param dstPort        destination port
     * @param payload        payload bytes
     * @param offset         payload offset
     * @param length         payload length, up to 65507
     * @throws IOException if the write fails
     */
    public void writeUdp(final long timestampNanos, final int src, final int srcPort, final int dst, final int dstPort,
                         final byte[] payload, final int offset, final int length) throws IOException {
        if (length < 0 || length > 65507) {
            throw new IllegalArgumentException("UDP payload " + length + " bytes outside 0..65507");
        }
        final long dstMac = Ipv4.isMulticast(dst) ? Ipv4.multicastMac(dst) : 0x02_00_00_00_00_02L;
        putMac(0, dstMac);
        putMac(6, 0x02_00_00_00_00_01L);
        fb.putShort(12, (short) 0x0800);
        fb.put(14, (byte) 0x45).put(15, (byte) 0).putShort(16, (short) (20 + 8 + length)).putShort(18, ipId++)
            .putShort(20, (short) 0x4000).put(22, (byte) 64).put(23, (byte) 17).putShort(24, (short) 0)
            .putInt(26, src).putInt(30, dst);
        fb.putShort(24, (short) ipChecksum());
        fb.putShort(34, (short) srcPort).putShort(36, (short) dstPort).putShort(38, (short) (8 + length)).putShort(40, (short) 0);
        System.arraycopy(payload, offset, frame, HEADERS, length);
        writeFrame(timestampNanos, frame, 0, HEADERS + length);
    }

    private void putMac(final int at, final long mac) {
        for (int i = 0; i < 6; i++) {
            frame[at + i] = (byte) (mac >>> (40 - 8 * i));
        }
    }

    private int ipChecksum() {
        int sum = 0;
        for (int i = 14; i < 34; i += 2) {
            sum += fb.getShort(i) & 0xFFFF;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return ~sum & 0xFFFF;
    }

    /**
     * Writes one raw Ethernet frame.
     *
     * @param timestampNanos epoch nanoseconds
     * @param bytes          frame bytes
     * @param offset         where the frame starts
     * @param length         frame length
     * @throws IOException if the write fails
     */
    public void writeFrame(final long timestampNanos, final byte[] bytes, final int offset, final int length) throws IOException {
        if (format == Format.PCAPNG) {
            final int padded = (length + 3) & ~3;
            final int total = 28 + padded + 4;
            rb.clear();
            rb.putInt(6).putInt(total).putInt(0).putInt((int) (timestampNanos >>> 32)).putInt((int) timestampNanos)
                .putInt(length).putInt(length);
            out.write(record, 0, 28);
            out.write(bytes, offset, length);
            for (int i = length; i < padded; i++) {
                out.write(0);
            }
            rb.clear();
            rb.putInt(total);
            out.write(record, 0, 4);
        } else {
            final long sec = timestampNanos / 1_000_000_000L;
            final long nanos = timestampNanos % 1_000_000_000L;
            rb.clear();
            rb.putInt((int) sec).putInt((int) (format == Format.PCAP_NANOS ? nanos : nanos / 1000)).putInt(length).putInt(length);
            out.write(record, 0, 16);
            out.write(bytes, offset, length);
        }
        written++;
    }

    /** @return records written */
    public long written() {
        return written;
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
