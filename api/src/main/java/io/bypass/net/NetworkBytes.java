package io.bypass.net;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.UnsafeApi;

/**
 * Network-order (big-endian) reads and writes of header fields with no bounds check of
 * their own: the caller checks the whole header's range once, with {@link #checkRange},
 * instead of Agrona checking every field. On a latency server's turnaround the per-field
 * checks of the Ethernet, IPv4 and UDP headers cost tens of nanoseconds
 * (see {@code TurnaroundBenchmark}).
 *
 * <p>Every index passed here must lie in a range already checked against the buffer's
 * capacity: an index outside it reads or writes memory the buffer does not own.
 *
 * <pre>{@code
 * NetworkBytes.checkRange(buffer, ipOffset, Ipv4Header.MIN_HEADER_LENGTH);
 * int totalLength = NetworkBytes.getUnsignedShort(buffer, ipOffset + Ipv4Header.TOTAL_LENGTH_OFFSET);
 * }</pre>
 */
public final class NetworkBytes {
    private NetworkBytes() {
    }

    /**
     * Checks that {@code length} bytes from {@code index} lie inside the buffer, whatever
     * Agrona's bounds-check setting: the unchecked accesses after it rely on it.
     *
     * @param buffer the buffer
     * @param index  where the range starts
     * @param length bytes in the range
     * @throws IndexOutOfBoundsException if any byte of the range is outside the buffer
     */
    public static void checkRange(final DirectBuffer buffer, final int index, final int length) {
        if (index < 0 || length < 0 || index > buffer.capacity() - length) {
            throw outOfBounds(index, length, buffer.capacity());
        }
    }

    private static IndexOutOfBoundsException outOfBounds(final int index, final int length, final int capacity) {
        return new IndexOutOfBoundsException("range " + index + "+" + length + " outside a buffer of " + capacity + " bytes");
    }

    private static long address(final DirectBuffer buffer, final int index) {
        return buffer.addressOffset() + index;
    }

    /**
     * @param buffer the buffer
     * @param index  a checked index
     * @return the byte, 0..255
     */
    public static int getUnsignedByte(final DirectBuffer buffer, final int index) {
        return UnsafeApi.getByte(buffer.byteArray(), address(buffer, index)) & 0xFF;
    }

    /**
     * @param buffer the buffer
     * @param index  a checked index
     * @return the big-endian 16-bit field, 0..65535
     */
    public static int getUnsignedShort(final DirectBuffer buffer, final int index) {
        return Short.reverseBytes(UnsafeApi.getShort(buffer.byteArray(), address(buffer, index))) & 0xFFFF;
    }

    /**
     * @param buffer the buffer
     * @param index  a checked index
     * @return the big-endian 32-bit field
     */
    public static int getInt(final DirectBuffer buffer, final int index) {
        return Integer.reverseBytes(UnsafeApi.getInt(buffer.byteArray(), address(buffer, index)));
    }

    /**
     * @param buffer the buffer
     * @param index  a checked index
     * @return the big-endian 64-bit field
     */
    public static long getLong(final DirectBuffer buffer, final int index) {
        return Long.reverseBytes(UnsafeApi.getLong(buffer.byteArray(), address(buffer, index)));
    }

    /**
     * @param buffer the buffer
     * @param index  a checked index where a six-byte MAC starts
     * @return the MAC in the low 48 bits, as {@link Mac#get} reads it
     */
    public static long getMac(final DirectBuffer buffer, final int index) {
        return ((long) getUnsignedShort(buffer, index) << 32) | (getInt(buffer, index + 2) & 0xFFFF_FFFFL);
    }

    /**
     * @param buffer the buffer
     * @param index  a checked index
     * @param value  the byte, in the low 8 bits
     */
    public static void putByte(final MutableDirectBuffer buffer, final int index, final int value) {
        UnsafeApi.putByte(buffer.byteArray(), address(buffer, index), (byte) value);
    }

    /**
     * @param buffer the buffer
     * @param index  a checked index
     * @param value  the 16-bit field, in the low 16 bits; stored big-endian
     */
    public static void putShort(final MutableDirectBuffer buffer, final int index, final int value) {
        UnsafeApi.putShort(buffer.byteArray(), address(buffer, index), Short.reverseBytes((short) value));
    }

    /**
     * @param buffer the buffer
     * @param index  a checked index
     * @param value  the 32-bit field; stored big-endian
     */
    public static void putInt(final MutableDirectBuffer buffer, final int index, final int value) {
        UnsafeApi.putInt(buffer.byteArray(), address(buffer, index), Integer.reverseBytes(value));
    }

    /**
     * @param buffer the buffer
     * @param index  a checked index
     * @param value  the 64-bit field; stored big-endian
     */
    public static void putLong(final MutableDirectBuffer buffer, final int index, final long value) {
        UnsafeApi.putLong(buffer.byteArray(), address(buffer, index), Long.reverseBytes(value));
    }

    /**
     * @param buffer the buffer
     * @param index  a checked index where six bytes start
     * @param mac    the MAC in the low 48 bits, stored in network order as {@link Mac#put} does
     */
    public static void putMac(final MutableDirectBuffer buffer, final int index, final long mac) {
        putShort(buffer, index, (int) (mac >>> 32));
        putInt(buffer, index + 2, (int) mac);
    }
}
