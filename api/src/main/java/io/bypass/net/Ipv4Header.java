package io.bypass.net;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Flyweight over an IPv4 header (RFC 791). Reads and writes in place, network byte
 * order, no allocation. Addresses are big-endian ints as in {@link Ipv4}.
 *
 * <pre>{@code
 * ip.wrap(claimBuffer, 14, 20 + udpLength)
 *   .header(20, 0, 20 + udpLength, id, Ipv4Header.FLAG_DF, 64, Ipv4Header.PROTOCOL_UDP, source, destination)
 *   .computeChecksum();
 * }</pre>
 */
public final class Ipv4Header {
    /** Length of a header without options (IHL 5). */
    public static final int MIN_HEADER_LENGTH = 20;
    /** Longest header (IHL 15). */
    public static final int MAX_HEADER_LENGTH = 60;
    /** Protocol number of IGMP. */
    public static final int PROTOCOL_IGMP = 2;
    /** Protocol number of UDP. */
    public static final int PROTOCOL_UDP = 17;
    /** IPv4 protocol number of TCP. */
    public static final int PROTOCOL_TCP = 6;
    /** Don't Fragment flag in the flags/fragment-offset field. */
    public static final int FLAG_DF = 0x4000;
    /** More Fragments flag in the flags/fragment-offset field. */
    public static final int FLAG_MF = 0x2000;
    /** Fragment offset bits (in 8-byte units) of the flags/fragment-offset field. */
    public static final int FRAGMENT_OFFSET_MASK = 0x1FFF;
    /** The Router Alert option (RFC 2113) as the 32-bit word IGMP messages carry. */
    public static final int OPTION_ROUTER_ALERT = 0x9404_0000;

    /** Offset of version and IHL. */
    public static final int VERSION_IHL_OFFSET = 0;
    /** Offset of the type of service (DSCP and ECN). */
    public static final int TOS_OFFSET = 1;
    /** Offset of the total length. */
    public static final int TOTAL_LENGTH_OFFSET = 2;
    /** Offset of the identification. */
    public static final int IDENTIFICATION_OFFSET = 4;
    /** Offset of the flags and fragment offset. */
    public static final int FRAGMENT_OFFSET = 6;
    /** Offset of the time to live. */
    public static final int TTL_OFFSET = 8;
    /** Offset of the protocol. */
    public static final int PROTOCOL_OFFSET = 9;
    /** Offset of the header checksum. */
    public static final int CHECKSUM_OFFSET = 10;
    /** Offset of the source address. */
    public static final int SOURCE_OFFSET = 12;
    /** Offset of the destination address. */
    public static final int DESTINATION_OFFSET = 16;

    private DirectBuffer buffer;
    private MutableDirectBuffer mutableBuffer;
    private int offset;
    private int length;

    /** Creates a flyweight wrapping nothing. */
    public Ipv4Header() {
    }

    /**
     * Wraps a header for reading.
     *
     * @param buffer the buffer
     * @param offset where the IPv4 header starts
     * @param length bytes available from {@code offset} (the rest of the frame)
     * @return this
     */
    public Ipv4Header wrap(final DirectBuffer buffer, final int offset, final int length) {
        this.buffer = buffer;
        this.mutableBuffer = null;
        this.offset = offset;
        this.length = length;
        return this;
    }

    /**
     * Wraps a header for reading and writing.
     *
     * @param buffer the buffer
     * @param offset where the IPv4 header starts
     * @param length bytes available from {@code offset}
     * @return this
     */
    public Ipv4Header wrap(final MutableDirectBuffer buffer, final int offset, final int length) {
        this.buffer = buffer;
        this.mutableBuffer = buffer;
        this.offset = offset;
        this.length = length;
        return this;
    }

    /** @return where the header starts in the buffer */
    public int offset() {
        return offset;
    }

    /** @return bytes available from {@link #offset()} */
    public int length() {
        return length;
    }

    /** @return the version field, 4 for IPv4 */
    public int version() {
        return (buffer.getByte(offset) & 0xFF) >>> 4;
    }

    /** @return the IHL field: header length in 32-bit words */
    public int ihl() {
        return buffer.getByte(offset) & 0x0F;
    }

    /** @return header length in bytes, IHL * 4 */
    public int headerLength() {
        return ihl() << 2;
    }

    /** @return type of service byte (DSCP and ECN) */
    public int tos() {
        return buffer.getByte(offset + TOS_OFFSET) & 0xFF;
    }

    /** @return total length: header plus payload, bytes */
    public int totalLength() {
        return buffer.getShort(offset + TOTAL_LENGTH_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return identification */
    public int identification() {
        return buffer.getShort(offset + IDENTIFICATION_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return flags and fragment offset, as one 16-bit field */
    public int flagsAndFragmentOffset() {
        return buffer.getShort(offset + FRAGMENT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return true if More Fragments is set or the fragment offset is not 0 */
    public boolean isFragment() {
        return (flagsAndFragmentOffset() & (FLAG_MF | FRAGMENT_OFFSET_MASK)) != 0;
    }

    /** @return time to live */
    public int ttl() {
        return buffer.getByte(offset + TTL_OFFSET) & 0xFF;
    }

    /** @return protocol, such as {@link #PROTOCOL_UDP} */
    public int protocol() {
        return buffer.getByte(offset + PROTOCOL_OFFSET) & 0xFF;
    }

    /** @return the stored header checksum */
    public int checksum() {
        return buffer.getShort(offset + CHECKSUM_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return source address */
    public int sourceAddress() {
        return buffer.getInt(offset + SOURCE_OFFSET, ByteOrder.BIG_ENDIAN);
    }

    /** @return destination address */
    public int destinationAddress() {
        return buffer.getInt(offset + DESTINATION_OFFSET, ByteOrder.BIG_ENDIAN);
    }

    /** @return where the payload starts in the buffer: offset plus IHL * 4 */
    public int payloadOffset() {
        return offset + headerLength();
    }

    /** @return payload length: total length minus IHL * 4 (negative if the header is malformed) */
    public int payloadLength() {
        return totalLength() - headerLength();
    }

    /**
     * @return true if the header checksum over IHL * 4 bytes verifies
     */
    public boolean isChecksumValid() {
        return Checksums.ipv4Header(buffer, offset, headerLength()) == 0;
    }

    /**
     * Writes version 4 and the IHL.
     *
     * @param headerLength header length in bytes, a multiple of 4 from 20 to 60
     * @return this
     */
    public Ipv4Header versionAndHeaderLength(final int headerLength) {
        mutableBuffer.putByte(offset, (byte) (0x40 | (headerLength >>> 2)));
        return this;
    }

    /**
     * @param tos type of service byte
     * @return this
     */
    public Ipv4Header tos(final int tos) {
        mutableBuffer.putByte(offset + TOS_OFFSET, (byte) tos);
        return this;
    }

    /**
     * @param totalLength header plus payload, bytes
     * @return this
     */
    public Ipv4Header totalLength(final int totalLength) {
        mutableBuffer.putShort(offset + TOTAL_LENGTH_OFFSET, (short) totalLength, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /**
     * @param identification identification
     * @return this
     */
    public Ipv4Header identification(final int identification) {
        mutableBuffer.putShort(offset + IDENTIFICATION_OFFSET, (short) identification, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /**
     * @param value flags and fragment offset, such as {@link #FLAG_DF}
     * @return this
     */
    public Ipv4Header flagsAndFragmentOffset(final int value) {
        mutableBuffer.putShort(offset + FRAGMENT_OFFSET, (short) value, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /**
     * @param ttl time to live
     * @return this
     */
    public Ipv4Header ttl(final int ttl) {
        mutableBuffer.putByte(offset + TTL_OFFSET, (byte) ttl);
        return this;
    }

    /**
     * @param protocol protocol number
     * @return this
     */
    public Ipv4Header protocol(final int protocol) {
        mutableBuffer.putByte(offset + PROTOCOL_OFFSET, (byte) protocol);
        return this;
    }

    /**
     * @param checksum header checksum to store
     * @return this
     */
    public Ipv4Header checksum(final int checksum) {
        mutableBuffer.putShort(offset + CHECKSUM_OFFSET, (short) checksum, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /**
     * @param address source address
     * @return this
     */
    public Ipv4Header sourceAddress(final int address) {
        mutableBuffer.putInt(offset + SOURCE_OFFSET, address, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /**
     * @param address destination address
     * @return this
     */
    public Ipv4Header destinationAddress(final int address) {
        mutableBuffer.putInt(offset + DESTINATION_OFFSET, address, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /**
     * Writes every fixed field and a zero checksum; call {@link #computeChecksum()} once
     * the header (options included) is final.
     *
     * @param headerLength       header bytes, 20 without options
     * @param tos                type of service
     * @param totalLength        header plus payload
     * @param identification     identification
     * @param flagsAndOffset     flags and fragment offset, such as {@link #FLAG_DF}
     * @param ttl                time to live
     * @param protocol           protocol number
     * @param sourceAddress      source
     * @param destinationAddress destination
     * @return this
     */
    public Ipv4Header header(
        final int headerLength,
        final int tos,
        final int totalLength,
        final int identification,
        final int flagsAndOffset,
        final int ttl,
        final int protocol,
        final int sourceAddress,
        final int destinationAddress) {
        versionAndHeaderLength(headerLength).tos(tos).totalLength(totalLength).identification(identification)
            .flagsAndFragmentOffset(flagsAndOffset).ttl(ttl).protocol(protocol).checksum(0)
            .sourceAddress(sourceAddress).destinationAddress(destinationAddress);
        return this;
    }

    /**
     * Computes the header checksum over IHL * 4 bytes and stores it.
     *
     * @return this
     */
    public Ipv4Header computeChecksum() {
        checksum(0);
        checksum(Checksums.ipv4Header(buffer, offset, headerLength()));
        return this;
    }
}
