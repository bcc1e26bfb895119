package io.bypass.net;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Ethernet MAC addresses as longs holding the 48 bits in the low bits, first octet most
 * significant ({@code 02:00:00:00:00:01} is {@code 0x020000000001L}), the form every
 * Bypass API uses so the hot path never allocates.
 */
public final class Mac {
    /** The broadcast address {@code ff:ff:ff:ff:ff:ff}. */
    public static final long BROADCAST = 0xFFFF_FFFF_FFFFL;
    /** No address (all zero), as in an ARP request's target hardware address. */
    public static final long ZERO = 0L;
    /** Mask of the 48 address bits. */
    public static final long MASK = 0xFFFF_FFFF_FFFFL;

    private Mac() {
    }

    /**
     * Reads six bytes in network order.
     *
     * @param buffer the buffer
     * @param index  where the address starts
     * @return the address in the low 48 bits
     */
    public static long get(final DirectBuffer buffer, final int index) {
        return ((buffer.getShort(index, ByteOrder.BIG_ENDIAN) & 0xFFFFL) << 32)
            | (buffer.getInt(index + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL);
    }

    /**
     * Writes six bytes in network order.
     *
     * @param buffer the buffer
     * @param index  where the address starts
     * @param mac    the address in the low 48 bits
     */
    public static void put(final MutableDirectBuffer buffer, final int index, final long mac) {
        buffer.putShort(index, (short) (mac >>> 32), ByteOrder.BIG_ENDIAN);
        buffer.putInt(index + 2, (int) mac, ByteOrder.BIG_ENDIAN);
    }

    /**
     * @param mac an address
     * @return true if the group bit (least significant bit of the first octet) is set,
     *         which includes {@link #BROADCAST}
     */
    public static boolean isMulticast(final long mac) {
        return (mac & 0x0100_0000_0000L) != 0;
    }

    /**
     * @param text six hex octets separated by {@code :} or {@code -}, such as {@code 02:00:00:00:00:01}
     * @return the address
     * @throws IllegalArgumentException if not a MAC address
     */
    public static long parse(final String text) {
        final String[] parts = text.trim().split("[:-]", -1);
        if (parts.length != 6) {
            throw new IllegalArgumentException("not a MAC address: '" + text + "' (expected six hex octets like 02:00:00:00:00:01)");
        }
        long value = 0;
        for (final String part : parts) {
            if (part.isEmpty() || part.length() > 2) {
                throw new IllegalArgumentException("not a MAC address: '" + text + "'");
            }
            final int octet;
            try {
                octet = Integer.parseInt(part, 16);
            } catch (final NumberFormatException e) {
                throw new IllegalArgumentException("not a MAC address: '" + text + "'");
            }
            value = (value << 8) | octet;
        }
        return value;
    }

    /**
     * @param mac an address in the low 48 bits
     * @return lower-case colon-separated text, such as {@code 02:00:00:00:00:01}
     */
    public static String toString(final long mac) {
        final StringBuilder sb = new StringBuilder(17);
        for (int shift = 40; shift >= 0; shift -= 8) {
            final int octet = (int) (mac >>> shift) & 0xFF;
            sb.append(Character.forDigit(octet >>> 4, 16)).append(Character.forDigit(octet & 0xF, 16));
            if (shift > 0) {
                sb.append(':');
            }
        }
        return sb.toString();
    }
}
