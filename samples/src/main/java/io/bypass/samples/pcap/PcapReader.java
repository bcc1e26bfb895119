package io.bypass.samples.pcap;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads classic pcap (microsecond magic {@code a1b2c3d4} and nanosecond magic
 * {@code a1b23c4d}, either byte order) and pcapng (Section Header, Interface
 * Description with {@code if_tsresol}/{@code if_tsoffset}, Enhanced, Simple and the
 * obsolete Packet block; several sections and interfaces) and extracts the UDP-over-IPv4
 * datagrams. Link types: Ethernet (with 802.1Q/802.1ad tags), Linux cooked v1 and v2,
 * raw IPv4, BSD loopback. Other frames are counted as skipped, never fatal.
 *
 * <pre>{@code
 * Capture c = PcapReader.read(Path.of("feed.pcap"));
 * for (int i = 0; i < c.size(); i++) { ... c.payloadOffset(i), c.payloadLength(i) ... }
 * }</pre>
 */
public final class PcapReader {
    /** Classic pcap, microsecond timestamps, as read in the writer's byte order. */
    public static final int MAGIC_MICROS = 0xa1b2c3d4;
    /** Classic pcap, nanosecond timestamps. */
    public static final int MAGIC_NANOS = 0xa1b23c4d;
    /** pcapng Section Header Block type. */
    public static final int PCAPNG_SHB = 0x0a0d0d0a;
    /** pcapng byte-order magic. */
    public static final int PCAPNG_BOM = 0x1a2b3c4d;

    /** Link type Ethernet. */
    public static final int LINKTYPE_ETHERNET = 1;
    /** Link type BSD loopback. */
    public static final int LINKTYPE_NULL = 0;
    /** Link type raw IP. */
    public static final int LINKTYPE_RAW = 101;
    /** Link type Linux cooked v1. */
    public static final int LINKTYPE_LINUX_SLL = 113;
    /** Link type raw IPv4. */
    public static final int LINKTYPE_IPV4 = 228;
    /** Link type Linux cooked v2. */
    public static final int LINKTYPE_LINUX_SLL2 = 276;

    private static final int MAX_RECORD = 1 << 18;

    private PcapReader() {
    }

    /**
     * @param file a pcap or pcapng file, up to 2 GB (read into memory for replay)
     * @return its UDP datagrams
     * @throws IOException         if it cannot be read
     * @throws PcapFormatException if it is neither format or corrupt
     */
    public static Capture read(final Path file) throws IOException, PcapFormatException {
        final long size = Files.size(file);
        if (size > Integer.MAX_VALUE - 16) {
            throw new PcapFormatException(file + " is " + size + " bytes; replay reads captures into memory and takes up to 2 GB"
                + " (split it with editcap -c)");
        }
        return parse(Files.readAllBytes(file));
    }

    /**
     * @param data the whole file
     * @return its UDP datagrams
     * @throws PcapFormatException if it is neither format or corrupt
     */
    public static Capture parse(final byte[] data) throws PcapFormatException {
        if (data.length < 4) {
            throw new PcapFormatException("file too short (" + data.length + " bytes) for a pcap or pcapng header");
        }
        final ByteBuffer bb = ByteBuffer.wrap(data);
        final int be = bb.order(ByteOrder.BIG_ENDIAN).getInt(0);
        final int le = bb.order(ByteOrder.LITTLE_ENDIAN).getInt(0);
        if (be == PCAPNG_SHB) {
            return parsePcapng(data);
        }
        if (be == MAGIC_MICROS || be == MAGIC_NANOS) {
            return parseClassic(data, ByteOrder.BIG_ENDIAN, be == MAGIC_NANOS);
        }
        if (le == MAGIC_MICROS || le == MAGIC_NANOS) {
            return parseClassic(data, ByteOrder.LITTLE_ENDIAN, le == MAGIC_NANOS);
        }
        throw new PcapFormatException(String.format("not a pcap or pcapng file: magic 0x%08x at offset 0"
            + " (expected a1b2c3d4, a1b23c4d or pcapng 0a0d0d0a)", be));
    }

    private static Capture parseClassic(final byte[] data, final ByteOrder order, final boolean nanos) throws PcapFormatException {
        if (data.length < 24) {
            throw new PcapFormatException("pcap global header truncated: " + data.length + " of 24 bytes");
        }
        final ByteBuffer bb = ByteBuffer.wrap(data).order(order);
        final int linkType = bb.getInt(20) & 0x0FFFFFFF;
        final Capture c = new Capture(data, "pcap (" + (nanos ? "nanoseconds" : "microseconds") + ", "
            + (order == ByteOrder.BIG_ENDIAN ? "big" : "little") + "-endian, link type " + linkType + ")");
        int at = 24;
        while (at < data.length) {
            if (at + 16 > data.length) {
                c.markTruncatedFile();
                break;
            }
            final long sec = bb.getInt(at) & 0xFFFFFFFFL;
            final long frac = bb.getInt(at + 4) & 0xFFFFFFFFL;
            final int incl = bb.getInt(at + 8);
            if (incl < 0 || incl > MAX_RECORD) {
                throw new PcapFormatException("corrupt pcap record at offset " + at + ": captured length " + (incl & 0xFFFFFFFFL));
            }
            if ((!nanos && frac >= 1_000_000) || (nanos && frac >= 1_000_000_000)) {
                throw new PcapFormatException("corrupt pcap record at offset " + at + ": sub-second field " + frac
                    + (nanos ? " (nanosecond file)" : " (microsecond file; is it really nanosecond?)"));
            }
            if (at + 16 + incl > data.length) {
                c.markTruncatedFile();
                break;
            }
            c.countFrame();
            decodeFrame(c, data, linkType, at + 16, incl, sec * 1_000_000_000L + (nanos ? frac : frac * 1000));
            at += 16 + incl;
        }
        return c;
    }

    private static Capture parsePcapng(final byte[] data) throws PcapFormatException {
        final Capture c = new Capture(data, "pcapng");
        final ByteBuffer bb = ByteBuffer.wrap(data);
        int[] linkTypes = new int[8];
        long[] resolution = new long[8];   // >0: units per second as 10^k; <0: -(2^k)
        long[] offsetSeconds = new long[8];
        int interfaces = 0;
        long lastTs = 0;
        int at = 0;
        boolean sawShb = false;
        while (at < data.length) {
            if (at + 12 > data.length) {
                c.markTruncatedFile();
                break;
            }
            // The SHB type reads the same in both byte orders; its byte-order magic sets the order.
            if (u32(data, at) == PCAPNG_SHB) {
                final int bom = u32(data, at + 8);
                if (bom == PCAPNG_BOM) {
                    bb.order(ByteOrder.BIG_ENDIAN);
                } else if (Integer.reverseBytes(bom) == PCAPNG_BOM) {
                    bb.order(ByteOrder.LITTLE_ENDIAN);
                } else {
                    throw new PcapFormatException(String.format("pcapng section header at offset %d: bad byte-order magic 0x%08x", at, bom));
                }
                sawShb = true;
                interfaces = 0;   // interface ids restart in every section
            } else if (!sawShb) {
                throw new PcapFormatException("pcapng: first block is not a section header");
            }
            final int len = bb.getInt(at + 4);
            if (len < 12 || (len & 3) != 0 || len > MAX_RECORD + 64) {
                throw new PcapFormatException("corrupt pcapng block at offset " + at + ": length " + (len & 0xFFFFFFFFL));
            }
            if (at + len > data.length) {
                c.markTruncatedFile();
                break;
            }
            if (bb.getInt(at + len - 4) != len) {
                throw new PcapFormatException("corrupt pcapng block at offset " + at + ": trailing length "
                    + (bb.getInt(at + len - 4) & 0xFFFFFFFFL) + " differs from " + len);
            }
            final int btype = bb.getInt(at);
            final int body = at + 8;
            final int bodyEnd = at + len - 4;
            switch (btype) {
                case 1 -> { // Interface Description Block
                    if (interfaces == linkTypes.length) {
                        linkTypes = java.util.Arrays.copyOf(linkTypes, interfaces * 2);
                        resolution = java.util.Arrays.copyOf(resolution, interfaces * 2);
                        offsetSeconds = java.util.Arrays.copyOf(offsetSeconds, interfaces * 2);
                    }
                    linkTypes[interfaces] = bb.getShort(body) & 0xFFFF;
                    resolution[interfaces] = 1_000_000L;
                    offsetSeconds[interfaces] = 0;
                    int opt = body + 8;
                    while (opt + 4 <= bodyEnd) {
                        final int code = bb.getShort(opt) & 0xFFFF;
                        final int olen = bb.getShort(opt + 2) & 0xFFFF;
                        if (code == 0 || opt + 4 + olen > bodyEnd) {
                            break;
                        }
                        if (code == 9 && olen >= 1) {
                            final int r = data[opt + 4] & 0xFF;
                            final int k = r & 0x7F;
                            if ((r & 0x80) == 0) {
                                if (k > 18) {
                                    throw new PcapFormatException("pcapng interface at offset " + at + ": if_tsresol 10^-" + k + " unsupported");
                                }
                                resolution[interfaces] = pow10(k);
                            } else {
                                if (k > 62) {
                                    throw new PcapFormatException("pcapng interface at offset " + at + ": if_tsresol 2^-" + k + " unsupported");
                                }
                                resolution[interfaces] = -(1L << k);
                            }
                        } else if (code == 14 && olen == 8) {
                            offsetSeconds[interfaces] = bb.getLong(opt + 4);
                        }
                        opt += 4 + ((olen + 3) & ~3);
                    }
                    interfaces++;
                }
                case 6, 2 -> { // Enhanced Packet Block, obsolete Packet Block
                    final int iface = btype == 6 ? bb.getInt(body) : bb.getShort(body) & 0xFFFF;
                    if (iface < 0 || iface >= interfaces) {
                        throw new PcapFormatException("pcapng packet at offset " + at + " names interface " + iface
                            + " but the section has " + interfaces);
                    }
                    final long ts = ((bb.getInt(body + 4) & 0xFFFFFFFFL) << 32) | (bb.getInt(body + 8) & 0xFFFFFFFFL);
                    final int caplen = bb.getInt(body + 12);
                    final int dataAt = body + 20;
                    if (caplen < 0 || dataAt + caplen > bodyEnd) {
                        throw new PcapFormatException("corrupt pcapng packet at offset " + at + ": captured length "
                            + (caplen & 0xFFFFFFFFL) + " overruns the block");
                    }
                    lastTs = toNanos(ts, resolution[iface]) + offsetSeconds[iface] * 1_000_000_000L;
                    c.countFrame();
                    decodeFrame(c, data, linkTypes[iface], dataAt, caplen, lastTs);
                }
                case 3 -> { // Simple Packet Block: interface 0, no timestamp
                    if (interfaces == 0) {
                        throw new PcapFormatException("pcapng simple packet at offset " + at + " before any interface");
                    }
                    final int orig = bb.getInt(body);
                    final int caplen = Math.min(orig, bodyEnd - (body + 4));
                    c.countFrame();
                    decodeFrame(c, data, linkTypes[0], body + 4, caplen, lastTs);
                }
                default -> {
                    // Name resolution, statistics, custom blocks: nothing to replay.
                }
            }
            at += len;
        }
        return c;
    }

    private static long pow10(final int k) {
        long v = 1;
        for (int i = 0; i < k; i++) {
            v *= 10;
        }
        return v;
    }

    /** Converts a timestamp in 1/unitsPerSecond (or 2^-k when negative) to nanoseconds. */
    static long toNanos(final long ts, final long resolution) {
        if (resolution > 0) {
            if (resolution == 1_000_000_000L) {
                return ts;
            }
            final long sec = Long.divideUnsigned(ts, resolution);
            final long rem = Long.remainderUnsigned(ts, resolution);
            return sec * 1_000_000_000L + (long) (rem * (1e9 / resolution));
        }
        final long units = -resolution;
        final int k = Long.numberOfTrailingZeros(units);
        final long sec = ts >>> k;
        final long frac = ts & (units - 1);
        return sec * 1_000_000_000L + (long) (frac * 1e9 / units);
    }

    private static void decodeFrame(final Capture c, final byte[] d, final int linkType, final int start, final int caplen,
                                    final long ts) {
        final int end = start + caplen;
        int at;
        int proto;
        switch (linkType) {
            case LINKTYPE_ETHERNET -> {
                if (caplen < 14) {
                    c.skipTruncated();
                    return;
                }
                at = start + 12;
                proto = u16(d, at);
                at += 2;
                while ((proto == 0x8100 || proto == 0x88a8 || proto == 0x9100) && at + 4 <= end) {
                    proto = u16(d, at + 2);
                    at += 4;
                }
            }
            case LINKTYPE_LINUX_SLL -> {
                if (caplen < 16) {
                    c.skipTruncated();
                    return;
                }
                proto = u16(d, start + 14);
                at = start + 16;
            }
            case LINKTYPE_LINUX_SLL2 -> {
                if (caplen < 20) {
                    c.skipTruncated();
                    return;
                }
                proto = u16(d, start);
                at = start + 20;
            }
            case LINKTYPE_RAW, LINKTYPE_IPV4 -> {
                proto = caplen > 0 && (d[start] & 0xF0) == 0x40 ? 0x0800 : 0;
                at = start;
            }
            case LINKTYPE_NULL -> {
                if (caplen < 4) {
                    c.skipTruncated();
                    return;
                }
                // The family is in the capturing host's byte order: accept AF_INET (2) either way.
                final int fam = u32(d, start);
                proto = fam == 2 || Integer.reverseBytes(fam) == 2 ? 0x0800 : 0;
                at = start + 4;
            }
            default -> {
                c.skipLinkType();
                return;
            }
        }
        if (proto != 0x0800) {
            c.skipNotUdp();
            return;
        }
        decodeIpv4(c, d, at, end, ts);
    }

    private static void decodeIpv4(final Capture c, final byte[] d, final int at, final int end, final long ts) {
        if (at + 20 > end) {
            c.skipTruncated();
            return;
        }
        final int vihl = d[at] & 0xFF;
        if ((vihl >> 4) != 4 || (vihl & 0x0F) < 5) {
            c.skipNotUdp();
            return;
        }
        final int ihl = (vihl & 0x0F) * 4;
        final int total = u16(d, at + 2);
        final int fragment = u16(d, at + 6);
        if ((d[at + 9] & 0xFF) != 17) {
            c.skipNotUdp();
            return;
        }
        if ((fragment & 0x3FFF) != 0) { // MF set or non-zero offset
            c.skipFragment();
            return;
        }
        final int udp = at + ihl;
        if (udp + 8 > end || total < ihl + 8) {
            c.skipTruncated();
            return;
        }
        final int udpLen = u16(d, udp + 4);
        final int payloadLen = Math.min(udpLen, total - ihl) - 8;
        if (payloadLen < 0 || udp + 8 + payloadLen > end) {
            c.skipTruncated();
            return;
        }
        c.add(ts, udp + 8, payloadLen, u32(d, at + 12), u32(d, at + 16), u16(d, udp), u16(d, udp + 2));
    }

    private static int u16(final byte[] d, final int at) {
        return ((d[at] & 0xFF) << 8) | (d[at + 1] & 0xFF);
    }

    private static int u32(final byte[] d, final int at) {
        return ((d[at] & 0xFF) << 24) | ((d[at + 1] & 0xFF) << 16) | ((d[at + 2] & 0xFF) << 8) | (d[at + 3] & 0xFF);
    }
}
