package io.bypass.testing;

/**
 * Builds Ethernet/IPv4/UDP test frames, valid or broken in one chosen way, with a
 * deliberately naive reference implementation (byte arrays, a textbook ones'-complement
 * sum) that shares no code with {@code io.bypass.net}, so it can check it.
 *
 * <pre>{@code
 * Frames.Udp spec = Frames.udp()
 *     .macs(topology.macB(), topology.macA())
 *     .addresses(topology.addressB(), topology.addressA())
 *     .ports(40000, 9000)
 *     .payload("hello".getBytes());
 * raw.send(spec.build());
 * raw.send(Frames.Malformation.BAD_UDP_CHECKSUM.apply(spec));
 * }</pre>
 */
public final class Frames {
    /** Ethernet header length. */
    public static final int ETH_HEADER = 14;
    /** IPv4 header length without options. */
    public static final int IP_HEADER = 20;
    /** UDP header length. */
    public static final int UDP_HEADER = 8;
    /** Offset of the IPv4 header in a frame without VLAN tag. */
    public static final int IP_OFFSET = ETH_HEADER;
    /** Offset of the UDP header in a frame without IP options. */
    public static final int UDP_OFFSET = ETH_HEADER + IP_HEADER;
    /** Offset of the UDP payload. */
    public static final int PAYLOAD_OFFSET = UDP_OFFSET + UDP_HEADER;
    /** A locally administered unicast MAC that no test interface has. */
    public static final long STRANGER_MAC = 0x02_00_00_BA_D0_01L;

    private Frames() {
    }

    /**
     * @return a new UDP frame spec with defaults (TTL 64, UDP checksum on, empty payload)
     */
    public static Udp udp() {
        return new Udp();
    }

    /**
     * The ways a frame is broken by {@link #apply(Udp)}. Each breaks exactly one thing;
     * every other field stays consistent (checksums recomputed), so a receiver that drops
     * it can only be dropping it for that reason.
     */
    public enum Malformation {
        /** Cut 10 bytes into the IPv4 header (24 bytes in all). */
        TRUNCATED,
        /**
         * Cut 4 bytes into the UDP header (the ports are there, not the length and checksum);
         * IPv4 total length 24 to match and header checksum recomputed.
         */
        TRUNCATED_UDP,
        /** IHL 4 (16 bytes), below the minimum of 5; header checksum recomputed. */
        BAD_IHL,
        /** IHL 15 (60 bytes) with only 40 bytes of IPv4 in the frame (cut there if longer). */
        IHL_BEYOND_FRAME,
        /** IPv4 total length 100 bytes beyond the frame; header checksum recomputed. */
        BAD_TOTAL_LENGTH,
        /** UDP length 8 bytes beyond the IPv4 payload; UDP checksum 0 (absent) so only the length is wrong. */
        BAD_UDP_LENGTH,
        /** IPv4 header checksum off by one bit. */
        BAD_IP_CHECKSUM,
        /** UDP checksum off by one bit (and not zero, which would mean "none"). */
        BAD_UDP_CHECKSUM,
        /** First fragment: More Fragments flag set, offset 0; header checksum recomputed. */
        FRAGMENT,
        /**
         * Last fragment of a datagram whose first fragment was not sent: MF clear, offset
         * 1480 bytes, so what follows the IPv4 header is data, not a UDP header; header
         * checksum recomputed. Its IPv4 identification is the spec's, so sent after a
         * {@link #FRAGMENT} of the same spec it belongs to that datagram.
         */
        NON_FIRST_FRAGMENT,
        /** Destination MAC {@link #STRANGER_MAC}, not the receiver's. */
        WRONG_MAC,
        /** Destination UDP port one above the spec's, which nobody bound. */
        WRONG_PORT;

        /**
         * @param spec a valid frame's spec (not modified)
         * @return the frame broken in this way
         */
        public byte[] apply(final Udp spec) {
            return switch (this) {
                case TRUNCATED -> java.util.Arrays.copyOf(spec.build(), ETH_HEADER + 10);
                case TRUNCATED_UDP -> {
                    final byte[] f = java.util.Arrays.copyOf(spec.build(), UDP_OFFSET + 4);
                    putShort(f, IP_OFFSET + 2, IP_HEADER + 4);
                    fixIpChecksum(f);
                    yield f;
                }
                case IHL_BEYOND_FRAME -> {
                    final byte[] built = spec.build();
                    final byte[] f = java.util.Arrays.copyOf(built, Math.min(built.length, ETH_HEADER + 40));
                    f[IP_OFFSET] = 0x4F; // the checksum would cover bytes the frame does not have: left as built
                    yield f;
                }
                case BAD_IHL -> {
                    final byte[] f = spec.build();
                    f[IP_OFFSET] = 0x44;
                    fixIpChecksum(f);
                    yield f;
                }
                case BAD_TOTAL_LENGTH -> {
                    final byte[] f = spec.build();
                    putShort(f, IP_OFFSET + 2, f.length - ETH_HEADER + 100);
                    fixIpChecksum(f);
                    yield f;
                }
                case BAD_UDP_LENGTH -> {
                    final byte[] f = spec.copy().udpChecksum(false).build();
                    putShort(f, UDP_OFFSET + 4, f.length - UDP_OFFSET + 8);
                    yield f;
                }
                case BAD_IP_CHECKSUM -> {
                    final byte[] f = spec.build();
                    f[IP_OFFSET + 11] ^= 0x01;
                    yield f;
                }
                case BAD_UDP_CHECKSUM -> {
                    final byte[] f = spec.copy().udpChecksum(true).build();
                    f[UDP_OFFSET + 7] ^= 0x01;
                    if (f[UDP_OFFSET + 6] == 0 && f[UDP_OFFSET + 7] == 0) {
                        f[UDP_OFFSET + 7] = 0x02;
                    }
                    yield f;
                }
                case FRAGMENT -> {
                    final byte[] f = spec.build();
                    f[IP_OFFSET + 6] = 0x20; // MF, offset 0
                    f[IP_OFFSET + 7] = 0;
                    fixIpChecksum(f);
                    yield f;
                }
                case NON_FIRST_FRAGMENT -> {
                    final byte[] f = spec.build();
                    putShort(f, IP_OFFSET + 6, 1480 / 8); // MF clear, offset 1480
                    fixIpChecksum(f);
                    yield f;
                }
                case WRONG_MAC -> spec.copy().dstMac(STRANGER_MAC).build();
                case WRONG_PORT -> spec.copy().ports(spec.srcPort, spec.dstPort == 65535 ? 1 : spec.dstPort + 1).build();
            };
        }
    }

    /**
     * A mutable description of one Ethernet/IPv4/UDP frame.
     */
    public static final class Udp {
        private long dstMac;
        private long srcMac;
        private int srcIp;
        private int dstIp;
        private int srcPort = 40000;
        private int dstPort = 40001;
        private int ttl = 64;
        private int ipId = 1;
        private boolean udpChecksum = true;
        private byte[] payload = new byte[0];

        private Udp() {
        }

        /** @return an independent copy */
        public Udp copy() {
            final Udp c = new Udp();
            c.dstMac = dstMac;
            c.srcMac = srcMac;
            c.srcIp = srcIp;
            c.dstIp = dstIp;
            c.srcPort = srcPort;
            c.dstPort = dstPort;
            c.ttl = ttl;
            c.ipId = ipId;
            c.udpChecksum = udpChecksum;
            c.payload = payload.clone();
            return c;
        }

        /**
         * @param src source MAC, low 48 bits
         * @param dst destination MAC
         * @return this
         */
        public Udp macs(final long src, final long dst) {
            this.srcMac = src;
            this.dstMac = dst;
            return this;
        }

        /**
         * @param dst destination MAC
         * @return this
         */
        public Udp dstMac(final long dst) {
            this.dstMac = dst;
            return this;
        }

        /**
         * @param src source IPv4, big-endian int
         * @param dst destination IPv4 (a group for multicast; then use its multicast MAC)
         * @return this
         */
        public Udp addresses(final int src, final int dst) {
            this.srcIp = src;
            this.dstIp = dst;
            return this;
        }

        /**
         * @param src source port
         * @param dst destination port
         * @return this
         */
        public Udp ports(final int src, final int dst) {
            this.srcPort = src;
            this.dstPort = dst;
            return this;
        }

        /**
         * @param ttl IPv4 TTL
         * @return this
         */
        public Udp ttl(final int ttl) {
            this.ttl = ttl;
            return this;
        }

        /**
         * @param id IPv4 identification
         * @return this
         */
        public Udp ipId(final int id) {
            this.ipId = id;
            return this;
        }

        /**
         * @param on whether to compute the UDP checksum (else 0, "none")
         * @return this
         */
        public Udp udpChecksum(final boolean on) {
            this.udpChecksum = on;
            return this;
        }

        /**
         * @param payload UDP payload (copied)
         * @return this
         */
        public Udp payload(final byte[] payload) {
            this.payload = payload.clone();
            return this;
        }

        /** @return destination port */
        public int dstPort() {
            return dstPort;
        }

        /** @return source port */
        public int srcPort() {
            return srcPort;
        }

        /** @return the payload (a copy) */
        public byte[] payload() {
            return payload.clone();
        }

        /** @return the frame, with correct lengths and checksums */
        public byte[] build() {
            final int udpLen = UDP_HEADER + payload.length;
            final int ipLen = IP_HEADER + udpLen;
            final byte[] f = new byte[ETH_HEADER + ipLen];
            putMac(f, 0, dstMac);
            putMac(f, 6, srcMac);
            putShort(f, 12, 0x0800);
            f[IP_OFFSET] = 0x45;
            f[IP_OFFSET + 1] = 0;
            putShort(f, IP_OFFSET + 2, ipLen);
            putShort(f, IP_OFFSET + 4, ipId);
            putShort(f, IP_OFFSET + 6, 0x4000); // DF
            f[IP_OFFSET + 8] = (byte) ttl;
            f[IP_OFFSET + 9] = 17;
            putInt(f, IP_OFFSET + 12, srcIp);
            putInt(f, IP_OFFSET + 16, dstIp);
            fixIpChecksum(f);
            putShort(f, UDP_OFFSET, srcPort);
            putShort(f, UDP_OFFSET + 2, dstPort);
            putShort(f, UDP_OFFSET + 4, udpLen);
            System.arraycopy(payload, 0, f, PAYLOAD_OFFSET, payload.length);
            if (udpChecksum) {
                int sum = Frames.udpChecksum(f, srcIp, dstIp, UDP_OFFSET, udpLen);
                if (sum == 0) {
                    sum = 0xFFFF; // RFC 768: a computed 0 is sent as all ones
                }
                putShort(f, UDP_OFFSET + 6, sum);
            }
            return f;
        }
    }

    /**
     * Recomputes the IPv4 header checksum of a frame (header length from its IHL, at least 20).
     *
     * @param frame the frame, IPv4 at {@link #IP_OFFSET}
     */
    public static void fixIpChecksum(final byte[] frame) {
        final int ihl = Math.max(5, frame[IP_OFFSET] & 0x0F) * 4;
        frame[IP_OFFSET + 10] = 0;
        frame[IP_OFFSET + 11] = 0;
        putShort(frame, IP_OFFSET + 10, internetChecksum(frame, IP_OFFSET, ihl, 0));
    }

    /**
     * The RFC 1071 checksum, the simplest way: sum 16-bit words, fold carries, invert.
     *
     * @param data    bytes
     * @param offset  start
     * @param length  count
     * @param initial a partial sum to add (pseudo-header)
     * @return the checksum
     */
    public static int internetChecksum(final byte[] data, final int offset, final int length, final long initial) {
        long sum = initial;
        for (int i = 0; i < length; i += 2) {
            final int hi = data[offset + i] & 0xFF;
            final int lo = i + 1 < length ? data[offset + i + 1] & 0xFF : 0;
            sum += (hi << 8) | lo;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (int) (~sum & 0xFFFF);
    }

    /**
     * UDP checksum over the IPv4 pseudo-header and the UDP header and payload (whose
     * checksum field must be zero when computing).
     *
     * @param frame     bytes
     * @param srcIp     source IPv4
     * @param dstIp     destination IPv4
     * @param udpOffset where the UDP header starts
     * @param udpLength UDP length
     * @return the checksum (0 means the computation gave 0; senders write 0xFFFF)
     */
    public static int udpChecksum(final byte[] frame, final int srcIp, final int dstIp, final int udpOffset, final int udpLength) {
        final long pseudo = ((srcIp >>> 16) & 0xFFFF) + (srcIp & 0xFFFF) + ((dstIp >>> 16) & 0xFFFF) + (dstIp & 0xFFFF)
            + 17 + udpLength;
        return internetChecksum(frame, udpOffset, udpLength, pseudo);
    }

    /**
     * @param frame a frame
     * @return true if its IPv4 header checksum verifies
     */
    public static boolean ipChecksumOk(final byte[] frame) {
        final int ihl = (frame[IP_OFFSET] & 0x0F) * 4;
        return internetChecksum(frame, IP_OFFSET, ihl, 0) == 0;
    }

    /**
     * @param frame a frame without IP options
     * @return true if its UDP checksum is absent (0) or verifies
     */
    public static boolean udpChecksumOk(final byte[] frame) {
        if (getShort(frame, UDP_OFFSET + 6) == 0) {
            return true;
        }
        final int udpLen = getShort(frame, UDP_OFFSET + 4);
        return internetChecksum(frame, UDP_OFFSET, udpLen,
            ((getInt(frame, IP_OFFSET + 12) >>> 16) & 0xFFFF) + (getInt(frame, IP_OFFSET + 12) & 0xFFFF)
                + ((getInt(frame, IP_OFFSET + 16) >>> 16) & 0xFFFF) + (getInt(frame, IP_OFFSET + 16) & 0xFFFF) + 17 + udpLen) == 0;
    }

    /**
     * Inserts an 802.1Q tag after the MAC addresses of an untagged frame.
     *
     * @param frame  an untagged frame
     * @param vlanId the VLAN id, 0..4095 (priority 0)
     * @return a new frame, 4 bytes longer
     */
    public static byte[] tagged(final byte[] frame, final int vlanId) {
        final byte[] t = new byte[frame.length + 4];
        System.arraycopy(frame, 0, t, 0, 12);
        putShort(t, 12, 0x8100);
        putShort(t, 14, vlanId & 0x0FFF);
        System.arraycopy(frame, 12, t, 16, frame.length - 12);
        return t;
    }

    /**
     * @param frame a frame
     * @return true if it is IPv4/UDP without VLAN tag
     */
    public static boolean isIpv4Udp(final byte[] frame) {
        return frame.length >= PAYLOAD_OFFSET && getShort(frame, 12) == 0x0800 && (frame[IP_OFFSET + 9] & 0xFF) == 17;
    }

    /**
     * @param b   bytes
     * @param off where
     * @param v   16-bit value, big-endian
     */
    public static void putShort(final byte[] b, final int off, final int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    /**
     * @param b   bytes
     * @param off where
     * @return 16-bit big-endian value
     */
    public static int getShort(final byte[] b, final int off) {
        return ((b[off] & 0xFF) << 8) | (b[off + 1] & 0xFF);
    }

    /**
     * @param b   bytes
     * @param off where
     * @param v   32-bit value, big-endian
     */
    public static void putInt(final byte[] b, final int off, final int v) {
        putShort(b, off, v >>> 16);
        putShort(b, off + 2, v);
    }

    /**
     * @param b   bytes
     * @param off where
     * @return 32-bit big-endian value
     */
    public static int getInt(final byte[] b, final int off) {
        return (getShort(b, off) << 16) | getShort(b, off + 2);
    }

    /**
     * @param b   bytes
     * @param off where
     * @param mac MAC in the low 48 bits
     */
    public static void putMac(final byte[] b, final int off, final long mac) {
        for (int i = 0; i < 6; i++) {
            b[off + i] = (byte) (mac >>> (40 - 8 * i));
        }
    }

    /**
     * @param b   bytes
     * @param off where
     * @return MAC in the low 48 bits
     */
    public static long getMac(final byte[] b, final int off) {
        long mac = 0;
        for (int i = 0; i < 6; i++) {
            mac = (mac << 8) | (b[off + i] & 0xFF);
        }
        return mac;
    }
}
