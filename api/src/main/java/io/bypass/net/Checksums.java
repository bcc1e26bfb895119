package io.bypass.net;

import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * The Internet checksum (RFC 1071) for IPv4 headers, UDP (with the RFC 768 pseudo-header)
 * and IGMP. Sums eight bytes per step with {@code getLong}, allocates nothing.
 *
 * <p>{@link #sum} returns an unfolded partial sum so pieces (pseudo-header, header,
 * payload) can be added before one {@link #fold}. Pieces other than the last must have
 * an even length.
 *
 * <pre>{@code
 * int checksum = Checksums.ipv4Header(buffer, ipOffset, 20);   // 0 when valid
 * }</pre>
 */
public final class Checksums {
    /** The IPv4 protocol number of UDP, as it enters the pseudo-header. */
    private static final int PROTOCOL_UDP = 17;
    /** The IPv4 protocol number of TCP, as it enters the pseudo-header. */
    private static final int PROTOCOL_TCP = 6;

    private Checksums() {
    }

    /**
     * Adds {@code length} bytes to a partial one's-complement sum, as big-endian 16-bit words.
     *
     * @param buffer  the bytes
     * @param offset  where they start
     * @param length  how many; an odd last byte is padded with zero
     * @param initial a partial sum from an earlier call, or 0
     * @return the new partial sum, not folded
     */
    public static long sum(final DirectBuffer buffer, final int offset, final int length, final long initial) {
        // one range check for the whole range, not one per eight bytes
        NetworkBytes.checkRange(buffer, offset, length);
        long sum = initial;
        int i = offset;
        final int end = offset + length;
        final int longEnd = end - 7;
        while (i < longEnd) {
            final long w = NetworkBytes.getLong(buffer, i);
            // two 32-bit halves: each fold-equivalent to its 16-bit words, no carry lost
            sum += (w >>> 32) + (w & 0xFFFF_FFFFL);
            i += 8;
        }
        if (end - i >= 4) {
            sum += NetworkBytes.getInt(buffer, i) & 0xFFFF_FFFFL;
            i += 4;
        }
        if (end - i >= 2) {
            sum += NetworkBytes.getUnsignedShort(buffer, i);
            i += 2;
        }
        if (end - i == 1) {
            sum += (long) NetworkBytes.getUnsignedByte(buffer, i) << 8;
        }
        return sum;
    }

    /**
     * Folds a partial sum to 16 bits.
     *
     * @param sum a partial sum from {@link #sum}
     * @return the folded one's-complement sum, 0..0xFFFF (not complemented)
     */
    public static int fold(final long sum) {
        long s = sum;
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) s;
    }

    /**
     * The checksum of a byte range: the complement of its folded sum.
     *
     * @param buffer the bytes
     * @param offset where they start
     * @param length how many
     * @return the checksum to store; 0 when verifying a range that already holds a correct one
     */
    public static int checksum(final DirectBuffer buffer, final int offset, final int length) {
        return ~fold(sum(buffer, offset, length, 0)) & 0xFFFF;
    }

    /**
     * The IPv4 header checksum (RFC 791). Over a header whose checksum field is 0 it gives
     * the value to store; over a received header it gives 0 if the header is intact.
     *
     * @param buffer       the frame
     * @param offset       where the IPv4 header starts
     * @param headerLength IHL * 4
     * @return the checksum
     */
    public static int ipv4Header(final DirectBuffer buffer, final int offset, final int headerLength) {
        return checksum(buffer, offset, headerLength);
    }

    /**
     * The partial sum of the UDP pseudo-header (RFC 768): source, destination, protocol 17,
     * UDP length. Store {@code fold(result)} in the checksum field for NICs that finish it
     * (checksum offload).
     *
     * @param sourceAddress      IPv4 source
     * @param destinationAddress IPv4 destination
     * @param udpLength          UDP header plus payload, bytes
     * @return the partial sum, not folded
     */
    public static long udpPseudoHeaderSum(final int sourceAddress, final int destinationAddress, final int udpLength) {
        return (sourceAddress & 0xFFFF_FFFFL) + (destinationAddress & 0xFFFF_FFFFL) + PROTOCOL_UDP + udpLength;
    }

    /**
     * The UDP checksum to transmit, over pseudo-header, header and payload; the checksum
     * field must hold 0 while this runs. A computed 0 is sent as {@code 0xFFFF} because 0
     * means "no checksum" (RFC 768).
     *
     * @param buffer             the frame
     * @param udpOffset          where the UDP header starts
     * @param udpLength          UDP header plus payload, bytes
     * @param sourceAddress      IPv4 source
     * @param destinationAddress IPv4 destination
     * @return the value to store, never 0
     */
    public static int udp(
        final DirectBuffer buffer, final int udpOffset, final int udpLength, final int sourceAddress, final int destinationAddress) {
        final int c = ~fold(sum(buffer, udpOffset, udpLength, udpPseudoHeaderSum(sourceAddress, destinationAddress, udpLength))) & 0xFFFF;
        // 0 goes on the wire as 0xFFFF (RFC 768). Branch-free on purpose: a computed sum of 0
        // comes once in 65536 datagrams, so the JIT compiles the branch as never taken, and the
        // first such datagram would deoptimise the whole inlined send path in mid-stream.
        return c + (((c - 1) >> 31) & 0xFFFF);
    }

    /**
     * Verifies a received UDP datagram's checksum. A stored 0 means the sender computed
     * none, which IPv4 allows: valid.
     *
     * @param buffer             the frame
     * @param udpOffset          where the UDP header starts
     * @param udpLength          the UDP length field
     * @param sourceAddress      IPv4 source
     * @param destinationAddress IPv4 destination
     * @return true if absent or correct
     */
    public static boolean isUdpValid(
        final DirectBuffer buffer, final int udpOffset, final int udpLength, final int sourceAddress, final int destinationAddress) {
        if (buffer.getShort(udpOffset + Udp.CHECKSUM_OFFSET) == 0) {
            return true;
        }
        final long s = sum(buffer, udpOffset, udpLength, udpPseudoHeaderSum(sourceAddress, destinationAddress, udpLength));
        return fold(s) == 0xFFFF;
    }

    /**
     * Whether a UDP checksum field holds only the pseudo-header sum, as a kernel sender
     * leaves it for a NIC to finish ({@code CHECKSUM_PARTIAL}) and as a veth pair delivers
     * it unfinished. Reads two bytes of the header, not the payload.
     *
     * @param buffer             the frame
     * @param udpOffset          where the UDP header starts
     * @param udpLength          the UDP length field
     * @param sourceAddress      IPv4 source
     * @param destinationAddress IPv4 destination
     * @return true if the field equals the folded pseudo-header sum
     */
    public static boolean isUdpPartial(
        final DirectBuffer buffer, final int udpOffset, final int udpLength, final int sourceAddress, final int destinationAddress) {
        final int field = buffer.getShort(udpOffset + 6, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        return field == fold(udpPseudoHeaderSum(sourceAddress, destinationAddress, udpLength));
    }

    /**
     * The IGMP checksum (RFC 2236, RFC 3376): over the whole IGMP message.
     *
     * @param buffer the frame
     * @param offset where the IGMP message starts
     * @param length the message length (IPv4 payload length)
     * @return the checksum to store, or 0 over an intact received message
     */
    public static int igmp(final DirectBuffer buffer, final int offset, final int length) {
        return checksum(buffer, offset, length);
    }

    /**
     * The partial sum of the TCP pseudo-header (RFC 9293 section 3.1): source, destination,
     * protocol 6, TCP length.
     *
     * @param sourceAddress      IPv4 source
     * @param destinationAddress IPv4 destination
     * @param tcpLength          TCP header, options and payload, bytes
     * @return the partial sum, not folded
     */
    public static long tcpPseudoHeaderSum(final int sourceAddress, final int destinationAddress, final int tcpLength) {
        return (sourceAddress & 0xFFFF_FFFFL) + (destinationAddress & 0xFFFF_FFFFL) + PROTOCOL_TCP + tcpLength;
    }

    /**
     * The TCP checksum to transmit, over pseudo-header, header, options and payload; the checksum
     * field must hold 0 while this runs. Over a received segment it returns 0 when the sum is right.
     *
     * @param buffer             the frame
     * @param tcpOffset          where the TCP header starts
     * @param tcpLength          TCP header, options and payload, bytes
     * @param sourceAddress      IPv4 source
     * @param destinationAddress IPv4 destination
     * @return the value to store (0 over an intact received segment)
     */
    public static int tcp(
        final DirectBuffer buffer, final int tcpOffset, final int tcpLength, final int sourceAddress, final int destinationAddress) {
        return ~fold(sum(buffer, tcpOffset, tcpLength, tcpPseudoHeaderSum(sourceAddress, destinationAddress, tcpLength))) & 0xFFFF;
    }

    /**
     * Whether a TCP checksum field holds only the pseudo-header sum, as a kernel sender leaves it
     * for a NIC to finish ({@code CHECKSUM_PARTIAL}) and as a veth pair delivers it unfinished.
     *
     * @param buffer             the frame
     * @param tcpOffset          where the TCP header starts
     * @param tcpLength          TCP header, options and payload, bytes
     * @param sourceAddress      IPv4 source
     * @param destinationAddress IPv4 destination
     * @return true if the field equals the folded pseudo-header sum
     */
    public static boolean isTcpPartial(
        final DirectBuffer buffer, final int tcpOffset, final int tcpLength, final int sourceAddress, final int destinationAddress) {
        final int field = buffer.getShort(tcpOffset + 16, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        return field == fold(tcpPseudoHeaderSum(sourceAddress, destinationAddress, tcpLength));
    }
}
