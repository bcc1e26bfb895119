package io.bypass.net;

/**
 * Hand-built test frames as byte arrays, with a textbook reference checksum that shares
 * no code with {@link Checksums}: two bytes at a time, end-around carry.
 */
public final class RefFrames {
    /** Our side's MAC in these tests. */
    public static final long MAC_US = 0x02_00_00_00_00_0AL;
    /** The peer's MAC. */
    public static final long MAC_PEER = 0x02_00_00_00_00_0BL;
    /** Someone else's MAC. */
    public static final long MAC_STRANGER = 0x02_00_00_00_BA_D0L;
    /** Our address, 10.0.0.1. */
    public static final int IP_US = 0x0A00_0001;
    /** The peer's address, 10.0.0.2. */
    public static final int IP_PEER = 0x0A00_0002;
    /** A group, 239.1.1.1. */
    public static final int GROUP = 0xEF01_0101;

    private RefFrames() {
    }

    /**
     * Textbook Internet checksum: sum 16-bit big-endian words, fold, complement.
     *
     * @param b       bytes
     * @param off     start
     * @param len     length
     * @param initial extra sum (pseudo-header)
     * @return the checksum
     */
    public static int checksum(final byte[] b, final int off, final int len, final long initial) {
        long sum = initial;
        for (int i = 0; i < len; i += 2) {
            final int hi = b[off + i] & 0xFF;
            final int lo = i + 1 < len ? b[off + i + 1] & 0xFF : 0;
            sum += (hi << 8) | lo;
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) (~sum & 0xFFFF);
    }

    /**
     * @param src    source address
     * @param dst    destination
     * @param udpLen UDP length
     * @return the pseudo-header's word sum
     */
    public static long pseudo(final int src, final int dst, final int udpLen) {
        return (src >>> 16) + (src & 0xFFFF) + (dst >>> 16) + (dst & 0xFFFF) + 17 + udpLen;
    }

    /**
     * @param b   array
     * @param off where
     * @param v   16-bit value
     */
    public static void put16(final byte[] b, final int off, final int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    /**
     * @param b   array
     * @param off where
     * @param v   32-bit value
     */
    public static void put32(final byte[] b, final int off, final int v) {
        put16(b, off, v >>> 16);
        put16(b, off + 2, v);
    }

    /**
     * @param b   array
     * @param off where
     * @param mac 48-bit value
     */
    public static void putMac(final byte[] b, final int off, final long mac) {
        for (int i = 0; i < 6; i++) {
            b[off + i] = (byte) (mac >>> (40 - 8 * i));
        }
    }

    /**
     * @param b   array
     * @param off where
     * @return 16-bit value
     */
    public static int get16(final byte[] b, final int off) {
        return ((b[off] & 0xFF) << 8) | (b[off + 1] & 0xFF);
    }

    /**
     * Writes an Ethernet header.
     *
     * @param b         array
     * @param dst       destination MAC
     * @param src       source MAC
     * @param vlan      VLAN id or -1 for untagged
     * @param etherType payload type
     * @return length of the header written
     */
    public static int ethernet(final byte[] b, final long dst, final long src, final int vlan, final int etherType) {
        putMac(b, 0, dst);
        putMac(b, 6, src);
        if (vlan >= 0) {
            put16(b, 12, 0x8100);
            put16(b, 14, vlan);
            put16(b, 16, etherType);
            return 18;
        }
        put16(b, 12, etherType);
        return 14;
    }

    /**
     * Writes an IPv4 header with its reference checksum.
     *
     * @param b        array
     * @param off      where the header starts
     * @param ihl      header length in words (options zero-filled, except a Router Alert at IHL 6)
     * @param total    total length
     * @param protocol protocol
     * @param src      source
     * @param dst      destination
     * @param ttl      TTL
     */
    public static void ipv4(final byte[] b, final int off, final int ihl, final int total, final int protocol,
                            final int src, final int dst, final int ttl) {
        b[off] = (byte) (0x40 | ihl);
        b[off + 1] = 0;
        put16(b, off + 2, total);
        put16(b, off + 4, 0x1234);
        put16(b, off + 6, 0x4000);
        b[off + 8] = (byte) ttl;
        b[off + 9] = (byte) protocol;
        put16(b, off + 10, 0);
        put32(b, off + 12, src);
        put32(b, off + 16, dst);
        if (ihl == 6) {
            put32(b, off + 20, 0x9404_0000);
        }
        put16(b, off + 10, checksum(b, off, ihl * 4, 0));
    }

    /**
     * Recomputes the IPv4 header checksum after a test changed the header.
     *
     * @param b   frame
     * @param off IPv4 header offset
     */
    public static void fixIpChecksum(final byte[] b, final int off) {
        final int ihl = b[off] & 0x0F;
        put16(b, off + 10, 0);
        put16(b, off + 10, checksum(b, off, Math.min(ihl * 4, b.length - off), 0));
    }

    /**
     * A complete UDP frame, UDP checksum included.
     *
     * @param dstMac  destination MAC
     * @param vlan    VLAN id or -1
     * @param src     source address
     * @param dst     destination address
     * @param sport   source port
     * @param dport   destination port
     * @param payload payload
     * @return the frame (no padding)
     */
    public static byte[] udp(final long dstMac, final int vlan, final int src, final int dst, final int sport, final int dport,
                             final byte[] payload) {
        final int l2 = vlan >= 0 ? 18 : 14;
        final int udpLen = 8 + payload.length;
        final byte[] b = new byte[l2 + 20 + udpLen];
        ethernet(b, dstMac, MAC_PEER, vlan, 0x0800);
        ipv4(b, l2, 5, 20 + udpLen, 17, src, dst, 64);
        final int u = l2 + 20;
        put16(b, u, sport);
        put16(b, u + 2, dport);
        put16(b, u + 4, udpLen);
        System.arraycopy(payload, 0, b, u + 8, payload.length);
        int c = checksum(b, u, udpLen, pseudo(src, dst, udpLen));
        put16(b, u + 6, c == 0 ? 0xFFFF : c);
        return b;
    }

    /**
     * A unicast UDP frame from the peer to us.
     *
     * @param dport   destination port
     * @param payload payload
     * @return the frame
     */
    public static byte[] udpToUs(final int dport, final byte[] payload) {
        return udp(MAC_US, -1, IP_PEER, IP_US, 40000, dport, payload);
    }

    /**
     * An ARP packet in a minimum-size (padded) frame.
     *
     * @param ethDst Ethernet destination
     * @param op     operation
     * @param sha    sender MAC
     * @param spa    sender address
     * @param tha    target MAC
     * @param tpa    target address
     * @return the frame, 60 bytes
     */
    public static byte[] arp(final long ethDst, final int op, final long sha, final int spa, final long tha, final int tpa) {
        final byte[] b = new byte[60];
        ethernet(b, ethDst, sha, -1, 0x0806);
        put16(b, 14, 1);
        put16(b, 16, 0x0800);
        b[18] = 6;
        b[19] = 4;
        put16(b, 20, op);
        putMac(b, 22, sha);
        put32(b, 28, spa);
        putMac(b, 32, tha);
        put32(b, 38, tpa);
        return b;
    }

    /**
     * An IGMP message in a frame with Router Alert, IGMP checksum filled.
     *
     * @param dst  IPv4 destination (and its multicast MAC)
     * @param igmp the IGMP bytes (checksum field is overwritten)
     * @return the frame
     */
    public static byte[] igmp(final int dst, final byte[] igmp) {
        final byte[] b = new byte[14 + 24 + igmp.length];
        ethernet(b, 0x01005E000000L | (dst & 0x7FFFFF), MAC_PEER, -1, 0x0800);
        ipv4(b, 14, 6, 24 + igmp.length, 2, IP_PEER, dst, 1);
        System.arraycopy(igmp, 0, b, 38, igmp.length);
        put16(b, 40, 0);
        put16(b, 40, checksum(b, 38, igmp.length, 0));
        return b;
    }

    /**
     * IGMP query bytes.
     *
     * @param group   0 for general
     * @param v3      12-byte v3 format
     * @param maxResp max response code
     * @return the message bytes, checksum 0
     */
    public static byte[] igmpQuery(final int group, final boolean v3, final int maxResp) {
        final byte[] q = new byte[v3 ? 12 : 8];
        q[0] = 0x11;
        q[1] = (byte) maxResp;
        put32(q, 4, group);
        if (v3) {
            q[8] = 2;
            q[9] = 125;
        }
        return q;
    }
}
