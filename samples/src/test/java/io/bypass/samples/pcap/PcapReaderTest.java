package io.bypass.samples.pcap;

import io.bypass.net.Ipv4;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Captures built byte by byte here, not with PcapWriter, so reader and writer check each other. */
class PcapReaderTest {
    private static final int SRC = Ipv4.parse("10.0.0.1");
    private static final int DST = Ipv4.parse("239.1.1.1");

    /** Ethernet + IPv4 + UDP carrying {@code payload}, optionally with a VLAN tag or as a fragment. */
    static byte[] frame(final byte[] payload, final boolean vlan, final boolean fragment, final int protocol) {
        final ByteBuffer b = ByteBuffer.allocate(14 + (vlan ? 4 : 0) + 28 + payload.length);
        b.put(new byte[] {1, 0, 0x5e, 1, 1, 1}).put(new byte[] {2, 0, 0, 0, 0, 1});
        if (vlan) {
            b.putShort((short) 0x8100).putShort((short) 100);
        }
        b.putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (28 + payload.length)).putShort((short) 1)
            .putShort((short) (fragment ? 0x2000 : 0x4000)).put((byte) 64).put((byte) protocol).putShort((short) 0)
            .putInt(SRC).putInt(DST);
        b.putShort((short) 40000).putShort((short) 30001).putShort((short) (8 + payload.length)).putShort((short) 0);
        b.put(payload);
        return b.array();
    }

    static byte[] classic(final ByteOrder order, final boolean nanos, final int linkType, final long[] ts, final byte[]... frames) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteBuffer h = ByteBuffer.allocate(24).order(order);
        h.putInt(nanos ? 0xa1b23c4d : 0xa1b2c3d4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(65535).putInt(linkType);
        out.writeBytes(h.array());
        for (int i = 0; i < frames.length; i++) {
            final ByteBuffer r = ByteBuffer.allocate(16).order(order);
            final long sec = ts[i] / 1_000_000_000L;
            final long sub = ts[i] % 1_000_000_000L;
            r.putInt((int) sec).putInt((int) (nanos ? sub : sub / 1000)).putInt(frames[i].length).putInt(frames[i].length);
            out.writeBytes(r.array());
            out.writeBytes(frames[i]);
        }
        return out.toByteArray();
    }

    @Test
    void classicMicrosecondsLittleEndian() throws Exception {
        final byte[] f = frame(new byte[] {1, 2, 3}, false, false, 17);
        final Capture c = PcapReader.parse(classic(ByteOrder.LITTLE_ENDIAN, false, 1,
            new long[] {1_700_000_000_123_456_000L, 1_700_000_001_000_001_000L}, f, f));
        assertEquals(2, c.size());
        assertEquals(1_700_000_000_123_456_000L, c.timestampNanos(0));
        assertEquals(1_700_000_001_000_001_000L, c.timestampNanos(1));
        assertEquals(3, c.payloadLength(0));
        assertEquals(1, c.data()[c.payloadOffset(0)]);
        assertEquals(DST, c.dstAddress(0));
        assertEquals(SRC, c.srcAddress(0));
        assertEquals(30001, c.dstPort(0));
        assertEquals(40000, c.srcPort(0));
        assertTrue(c.format().contains("microseconds"));
    }

    @Test
    void classicNanosecondsBigEndian() throws Exception {
        final byte[] f = frame(new byte[] {9}, false, false, 17);
        final Capture c = PcapReader.parse(classic(ByteOrder.BIG_ENDIAN, true, 1, new long[] {5_000_000_007L}, f));
        assertEquals(1, c.size());
        assertEquals(5_000_000_007L, c.timestampNanos(0));
        assertTrue(c.format().contains("nanoseconds") && c.format().contains("big"));
    }

    @Test
    void vlanTaggedLinuxCookedAndRawIp() throws Exception {
        final byte[] tagged = frame(new byte[] {7, 7}, true, false, 17);
        assertEquals(2, PcapReader.parse(classic(ByteOrder.LITTLE_ENDIAN, false, 1, new long[] {0}, tagged)).payloadLength(0));
        // Linux cooked v1: 16-byte header, protocol at 14.
        final byte[] eth = frame(new byte[] {5}, false, false, 17);
        final byte[] sll = new byte[16 + eth.length - 14];
        sll[14] = 0x08;
        System.arraycopy(eth, 14, sll, 16, eth.length - 14);
        final Capture c = PcapReader.parse(classic(ByteOrder.LITTLE_ENDIAN, false, 113, new long[] {0}, sll));
        assertEquals(1, c.size());
        assertEquals(5, c.data()[c.payloadOffset(0)]);
        final byte[] raw = new byte[eth.length - 14];
        System.arraycopy(eth, 14, raw, 0, raw.length);
        assertEquals(1, PcapReader.parse(classic(ByteOrder.LITTLE_ENDIAN, false, 101, new long[] {0}, raw)).size());
    }

    @Test
    void nonUdpFragmentsAndShortFramesAreCountedNotFatal() throws Exception {
        final byte[] udp = frame(new byte[] {1}, false, false, 17);
        final byte[] tcp = frame(new byte[] {1}, false, false, 6);
        final byte[] frag = frame(new byte[] {1}, false, true, 17);
        final byte[] shortFrame = new byte[10];
        final Capture c = PcapReader.parse(classic(ByteOrder.LITTLE_ENDIAN, false, 1, new long[] {0, 1, 2, 3}, udp, tcp, frag, shortFrame));
        assertEquals(1, c.size());
        assertEquals(4, c.frames());
        assertEquals(1, c.skippedNotUdp());
        assertEquals(1, c.skippedFragment());
        assertEquals(1, c.skippedTruncated());
    }

    @Test
    void truncatedFileKeepsWhatIsComplete() throws Exception {
        final byte[] f = frame(new byte[] {1}, false, false, 17);
        final byte[] whole = classic(ByteOrder.LITTLE_ENDIAN, false, 1, new long[] {0, 1}, f, f);
        final byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 3);
        final Capture c = PcapReader.parse(cut);
        assertEquals(1, c.size());
        assertTrue(c.truncatedFile());
    }

    @Test
    void garbageIsRejectedWithOffsetAndMagic() {
        assertTrue(assertThrows(PcapFormatException.class, () -> PcapReader.parse("hello world, not pcap".getBytes()))
            .getMessage().contains("magic"));
        assertThrows(PcapFormatException.class, () -> PcapReader.parse(new byte[2]));
        final byte[] f = frame(new byte[] {1}, false, false, 17);
        final byte[] bad = classic(ByteOrder.LITTLE_ENDIAN, false, 1, new long[] {0}, f);
        ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putInt(24 + 8, 0x7fffffff); // captured length
        assertTrue(assertThrows(PcapFormatException.class, () -> PcapReader.parse(bad)).getMessage().contains("offset 24"));
        final byte[] badUsec = classic(ByteOrder.LITTLE_ENDIAN, false, 1, new long[] {0}, f);
        ByteBuffer.wrap(badUsec).order(ByteOrder.LITTLE_ENDIAN).putInt(24 + 4, 2_000_000);
        assertThrows(PcapFormatException.class, () -> PcapReader.parse(badUsec));
    }

    /** pcapng: SHB, IDB with options, EPBs, an SPB, and an unknown block to skip. */
    static byte[] pcapng(final ByteOrder order, final Integer tsresol, final Long tsoffset, final long[] ts, final byte[]... frames) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteBuffer shb = ByteBuffer.allocate(28).order(order);
        shb.putInt(0x0a0d0d0a).putInt(28).putInt(0x1a2b3c4d).putShort((short) 1).putShort((short) 0).putLong(-1).putInt(28);
        out.writeBytes(shb.array());
        final ByteBuffer opts = ByteBuffer.allocate(64).order(order);
        if (tsresol != null) {
            opts.putShort((short) 9).putShort((short) 1).put((byte) (int) tsresol).put(new byte[3]);
        }
        if (tsoffset != null) {
            opts.putShort((short) 14).putShort((short) 8).putLong(tsoffset);
        }
        if (opts.position() > 0) {
            opts.putShort((short) 0).putShort((short) 0);
        }
        final int idbLen = 20 + opts.position();
        final ByteBuffer idb = ByteBuffer.allocate(idbLen).order(order);
        idb.putInt(1).putInt(idbLen).putShort((short) 1).putShort((short) 0).putInt(65535).put(opts.array(), 0, opts.position()).putInt(idbLen);
        out.writeBytes(idb.array());
        // A custom block the reader must skip.
        final ByteBuffer nrb = ByteBuffer.allocate(16).order(order);
        nrb.putInt(0x00000BAD).putInt(16).putInt(0).putInt(16);
        out.writeBytes(nrb.array());
        for (int i = 0; i < frames.length; i++) {
            final int padded = (frames[i].length + 3) & ~3;
            final int len = 32 + padded;
            final ByteBuffer epb = ByteBuffer.allocate(len).order(order);
            epb.putInt(6).putInt(len).putInt(0).putInt((int) (ts[i] >>> 32)).putInt((int) ts[i]).putInt(frames[i].length)
                .putInt(frames[i].length).put(frames[i]).put(new byte[padded - frames[i].length]).putInt(len);
            out.writeBytes(epb.array());
        }
        return out.toByteArray();
    }

    @Test
    void pcapngDefaultMicrosecondsBothByteOrders() throws Exception {
        final byte[] f = frame(new byte[] {4, 5, 6, 7, 8}, false, false, 17);
        for (final ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            final Capture c = PcapReader.parse(pcapng(order, null, null, new long[] {1_000_000L, 1_500_000L}, f, f));
            assertEquals(2, c.size(), order.toString());
            assertEquals(1_000_000_000L, c.timestampNanos(0));
            assertEquals(1_500_000_000L, c.timestampNanos(1));
            assertEquals(5, c.payloadLength(1));
            assertEquals(8, c.data()[c.payloadOffset(1) + 4]);
        }
    }

    @Test
    void pcapngTsresolAndTsoffset() throws Exception {
        final byte[] f = frame(new byte[] {1}, false, false, 17);
        // 10^-9
        assertEquals(123_456_789L, PcapReader.parse(pcapng(ByteOrder.LITTLE_ENDIAN, 9, null, new long[] {123_456_789L}, f)).timestampNanos(0));
        // 2^-10 units: 1536 units = 1.5 s
        assertEquals(1_500_000_000L, PcapReader.parse(pcapng(ByteOrder.BIG_ENDIAN, 0x80 | 10, null, new long[] {1536}, f)).timestampNanos(0));
        // 10^-3 plus an offset of 100 s
        assertEquals(100_002_000_000L, PcapReader.parse(pcapng(ByteOrder.LITTLE_ENDIAN, 3, 100L, new long[] {2}, f)).timestampNanos(0));
    }

    @Test
    void pcapngCorruptBlockLengthIsRejected() {
        final byte[] f = frame(new byte[] {1}, false, false, 17);
        final byte[] b = pcapng(ByteOrder.LITTLE_ENDIAN, 9, null, new long[] {1}, f);
        b[b.length - 4] ^= 0x10; // trailing length of the EPB
        assertTrue(assertThrows(PcapFormatException.class, () -> PcapReader.parse(b)).getMessage().contains("trailing length"));
    }

    @Test
    void writerRoundTripsEveryFormatAndByteOrder(@TempDir final Path dir) throws Exception {
        for (final PcapWriter.Format fmt : PcapWriter.Format.values()) {
            for (final ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
                final Path file = dir.resolve(fmt + "-" + order + ".pcap");
                try (PcapWriter w = PcapWriter.open(file, fmt, order)) {
                    for (int i = 0; i < 100; i++) {
                        final byte[] p = new byte[i + 1];
                        p[i] = (byte) i;
                        w.writeUdp(1_700_000_000_000_000_000L + i * 1_001_001L, SRC, 40000 + i, DST, 30001, p, 0, p.length);
                    }
                }
                final Capture c = PcapReader.read(file);
                assertEquals(100, c.size(), fmt + " " + order);
                for (int i = 0; i < 100; i++) {
                    assertEquals(i + 1, c.payloadLength(i));
                    assertEquals((byte) i, c.data()[c.payloadOffset(i) + i]);
                    assertEquals(40000 + i, c.srcPort(i));
                    final long expected = 1_700_000_000_000_000_000L + i * 1_001_001L;
                    assertEquals(fmt == PcapWriter.Format.PCAP_MICROS ? expected / 1000 * 1000 : expected, c.timestampNanos(i));
                }
            }
        }
        // tcpdump reads what we write, when it is installed
        final Path tcpdump = Files.isExecutable(Path.of("/usr/bin/tcpdump")) ? Path.of("/usr/bin/tcpdump") : Path.of("/usr/sbin/tcpdump");
        if (Files.isExecutable(tcpdump)) {
            final Path file = dir.resolve("PCAP_NANOS-" + ByteOrder.LITTLE_ENDIAN + ".pcap");
            final Process p = new ProcessBuilder(tcpdump.toString(), "-nn", "-r", file.toString()).redirectErrorStream(true).start();
            final String out = new String(p.getInputStream().readAllBytes());
            assertEquals(0, p.waitFor(), out);
            assertTrue(out.contains("10.0.0.1.40000 > 239.1.1.1.30001: UDP, length 1"), out);
        }
    }
}
