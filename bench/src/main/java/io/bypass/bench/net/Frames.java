package io.bypass.bench.net;

import io.bypass.net.Ipv4;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The benchmark frame, byte for byte what the C baselines build ({@code bench_common.h}):
 * Ethernet + IPv4 (DF, TTL 64, header checksum) + UDP (checksum 0, i.e. none) + payload,
 * sequence number at payload offset 0 and send timestamp at 8.
 */
public final class Frames {
    /** Ethernet + IPv4 + UDP header bytes. */
    public static final int HEADER_LENGTH = 42;

    private Frames() {
    }

    /**
     * @param srcMac  source MAC, low 48 bits
     * @param dstMac  destination MAC
     * @param srcIp   source IPv4 (big-endian int)
     * @param dstIp   destination IPv4
     * @param sport   UDP source port
     * @param dport   UDP destination port
     * @param payload payload bytes
     * @return the frame, payload zeroed
     */
    public static byte[] template(final long srcMac, final long dstMac, final int srcIp, final int dstIp,
                                  final int sport, final int dport, final int payload) {
        final int len = HEADER_LENGTH + payload;
        final byte[] f = new byte[len];
        for (int i = 0; i < 6; i++) {
            f[i] = (byte) (dstMac >>> (40 - 8 * i));
            f[6 + i] = (byte) (srcMac >>> (40 - 8 * i));
        }
        f[12] = 0x08;
        f[13] = 0x00;
        f[14] = 0x45;
        f[16] = (byte) ((len - 14) >>> 8);
        f[17] = (byte) (len - 14);
        f[20] = 0x40;
        f[22] = 64;
        f[23] = 17;
        putInt(f, 26, srcIp);
        putInt(f, 30, dstIp);
        int sum = 0;
        for (int i = 14; i < 34; i += 2) {
            sum += ((f[i] & 0xFF) << 8) | (f[i + 1] & 0xFF);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        final int c = ~sum & 0xFFFF;
        f[24] = (byte) (c >>> 8);
        f[25] = (byte) c;
        f[34] = (byte) (sport >>> 8);
        f[35] = (byte) sport;
        f[36] = (byte) (dport >>> 8);
        f[37] = (byte) dport;
        f[38] = (byte) ((payload + 8) >>> 8);
        f[39] = (byte) (payload + 8);
        return f;
    }

    private static void putInt(final byte[] f, final int at, final int v) {
        f[at] = (byte) (v >>> 24);
        f[at + 1] = (byte) (v >>> 16);
        f[at + 2] = (byte) (v >>> 8);
        f[at + 3] = (byte) v;
    }

    /**
     * Copies a received frame into a claimed one with MACs, IPs and ports swapped (the
     * echo); the IP checksum is unchanged by the swap.
     *
     * @param src    received frame
     * @param offset its offset
     * @param length its length
     * @param dst    the claimed frame, at offset 0
     */
    public static void copySwapped(final DirectBuffer src, final int offset, final int length, final MutableDirectBuffer dst) {
        dst.putBytes(0, src, offset, length);
        dst.putBytes(0, src, offset + 6, 6);
        dst.putBytes(6, src, offset, 6);
        dst.putInt(26, src.getInt(offset + 30));
        dst.putInt(30, src.getInt(offset + 26));
        dst.putShort(34, src.getShort(offset + 36));
        dst.putShort(36, src.getShort(offset + 34));
    }

    /**
     * @param text {@code aa:bb:cc:dd:ee:ff}
     * @return the MAC in the low 48 bits
     */
    public static long parseMac(final String text) {
        long mac = 0;
        for (final String p : text.split(":")) {
            mac = (mac << 8) | Integer.parseInt(p, 16);
        }
        return mac;
    }

    /**
     * @param text dotted quad
     * @return big-endian int
     */
    public static int parseIp(final String text) {
        return Ipv4.parse(text);
    }
}
