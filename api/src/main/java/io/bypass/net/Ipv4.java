package io.bypass.net;

/**
 * IPv4 addresses as big-endian ints ({@code 10.0.0.1} is {@code 0x0A000001}), the form
 * every Bypass API uses so the hot path never touches {@link java.net.InetAddress}.
 */
public final class Ipv4 {
    private Ipv4() {
    }

    /**
     * @param dotted such as {@code 239.1.1.1}
     * @return the address as an int
     * @throws IllegalArgumentException if not a dotted quad
     */
    public static int parse(final String dotted) {
        final String[] parts = dotted.trim().split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address: '" + dotted + "'");
        }
        int value = 0;
        for (final String part : parts) {
            final int octet;
            try {
                octet = Integer.parseInt(part);
            } catch (final NumberFormatException e) {
                throw new IllegalArgumentException("not an IPv4 address: '" + dotted + "'");
            }
            if (part.isEmpty() || octet < 0 || octet > 255) {
                throw new IllegalArgumentException("not an IPv4 address: '" + dotted + "'");
            }
            value = (value << 8) | octet;
        }
        return value;
    }

    /**
     * @param address the address
     * @return dotted-quad text
     */
    public static String toString(final int address) {
        return ((address >>> 24) & 0xFF) + "." + ((address >>> 16) & 0xFF) + "." + ((address >>> 8) & 0xFF) + "." + (address & 0xFF);
    }

    /**
     * @param address the address
     * @return four bytes, network order
     */
    public static byte[] toBytes(final int address) {
        return new byte[] {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address};
    }

    /**
     * @param bytes four bytes, network order
     * @return the address
     */
    public static int fromBytes(final byte[] bytes) {
        if (bytes.length != 4) {
            throw new IllegalArgumentException("IPv4 needs 4 bytes, got " + bytes.length);
        }
        return ((bytes[0] & 0xFF) << 24) | ((bytes[1] & 0xFF) << 16) | ((bytes[2] & 0xFF) << 8) | (bytes[3] & 0xFF);
    }

    /**
     * Parses an address as the kernel prints it in {@code /proc/net/route},
     * {@code /proc/net/udp} and the like: the 32-bit word as it lies in memory, in hex,
     * so byte-swapped on little-endian hosts.
     *
     * <pre>{@code
     * Ipv4.fromProcHex("0100007F") // 127.0.0.1 on x86-64 and aarch64
     * }</pre>
     *
     * @param hex up to eight hex digits
     * @return the address
     * @throws NumberFormatException if {@code hex} is not a 32-bit hex number
     */
    public static int fromProcHex(final String hex) {
        final int word = Integer.parseUnsignedInt(hex, 16);
        return java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN ? Integer.reverseBytes(word) : word;
    }

    /**
     * @param address the address
     * @return true for 224.0.0.0/4
     */
    public static boolean isMulticast(final int address) {
        return (address >>> 28) == 0xE;
    }

    /**
     * @param a      one address
     * @param b      another
     * @param prefix prefix length 0..32
     * @return true if both are in the same subnet
     */
    public static boolean sameSubnet(final int a, final int b, final int prefix) {
        if (prefix <= 0) {
            return true;
        }
        final int mask = prefix >= 32 ? -1 : -1 << (32 - prefix);
        return (a & mask) == (b & mask);
    }

    /**
     * The Ethernet MAC for an IPv4 multicast group (01:00:5e and the low 23 bits).
     *
     * @param group the group
     * @return the MAC in the low 48 bits
     */
    public static long multicastMac(final int group) {
        return 0x01005E000000L | (group & 0x7FFFFFL);
    }
}
