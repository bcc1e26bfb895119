package io.bypass.net;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Flyweight over a UDP header (RFC 768). Reads and writes in place, network byte order,
 * no allocation.
 *
 * <pre>{@code
 * udp.wrap(frame, ipPayloadOffset, udpLength).header(sourcePort, destinationPort, udpLength);
 * udp.computeChecksum(sourceAddress, destinationAddress);
 * }</pre>
 */
public final class Udp {
    /** Header length in bytes. */
    public static final int HEADER_LENGTH = 8;
    /** Offset of the source port. */
    public static final int SOURCE_PORT_OFFSET = 0;
    /** Offset of the destination port. */
    public static final int DESTINATION_PORT_OFFSET = 2;
    /** Offset of the length (header plus payload). */
    public static final int LENGTH_OFFSET = 4;
    /** Offset of the checksum. */
    public static final int CHECKSUM_OFFSET = 6;
    /** Bytes of Ethernet, IPv4 (no options) and UDP headers before the payload. */
    public static final int ETHERNET_IPV4_UDP_HEADERS = Ethernet.HEADER_LENGTH + Ipv4Header.MIN_HEADER_LENGTH + HEADER_LENGTH;
    /** Bytes of IPv4 (no options) and UDP headers: MTU minus this is the largest payload. */
    public static final int IPV4_UDP_HEADERS = Ipv4Header.MIN_HEADER_LENGTH + HEADER_LENGTH;

    private DirectBuffer buffer;
    private MutableDirectBuffer mutableBuffer;
    private int offset;
    private int length;

    /** Creates a flyweight wrapping nothing. */
    public Udp() {
    }

    /**
     * Wraps a datagram for reading.
     *
     * @param buffer the buffer
     * @param offset where the UDP header starts
     * @param length bytes available (the IPv4 payload length)
     * @return this
     */
    public Udp wrap(final DirectBuffer buffer, final int offset, final int length) {
        this.buffer = buffer;
        this.mutableBuffer = null;
        this.offset = offset;
        this.length = length;
        return this;
    }

    /**
     * Wraps a datagram for reading and writing.
     *
     * @param buffer the buffer
     * @param offset where the UDP header starts
     * @param length bytes available
     * @return this
     */
    public Udp wrap(final MutableDirectBuffer buffer, final int offset, final int length) {
        this.buffer = buffer;
        this.mutableBuffer = buffer;
        this.offset = offset;
        this.length = length;
        return this;
    }

    /** @return where the header starts */
    public int offset() {
        return offset;
    }

    /** @return bytes available from {@link #offset()} */
    public int length() {
        return length;
    }

    /** @return source port */
    public int sourcePort() {
        return buffer.getShort(offset + SOURCE_PORT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return destination port */
    public int destinationPort() {
        return buffer.getShort(offset + DESTINATION_PORT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return the length field: header plus payload */
    public int udpLength() {
        return buffer.getShort(offset + LENGTH_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return the stored checksum; 0 means none */
    public int checksum() {
        return buffer.getShort(offset + CHECKSUM_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return where the payload starts */
    public int payloadOffset() {
        return offset + HEADER_LENGTH;
    }

    /** @return payload bytes according to the length field */
    public int payloadLength() {
        return udpLength() - HEADER_LENGTH;
    }

    /**
     * @param sourceAddress      IPv4 source of the enclosing packet
     * @param destinationAddress IPv4 destination
     * @return true if the checksum is absent (0) or correct
     */
    public boolean isChecksumValid(final int sourceAddress, final int destinationAddress) {
        return Checksums.isUdpValid(buffer, offset, udpLength(), sourceAddress, destinationAddress);
    }

    /**
     * @param port source port
     * @return this
     */
    public Udp sourcePort(final int port) {
        mutableBuffer.putShort(offset + SOURCE_PORT_OFFSET, (short) port, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /**
     * @param port destination port
     * @return this
     */
    public Udp destinationPort(final int port) {
        mutableBuffer.putShort(offset + DESTINATION_PORT_OFFSET, (short) port, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /**
     * @param udpLength header plus payload
     * @return this
     */
    public Udp udpLength(final int udpLength) {
        mutableBuffer.putShort(offset + LENGTH_OFFSET, (short) udpLength, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /**
     * @param checksum value to store
     * @return this
     */
    public Udp checksum(final int checksum) {
        mutableBuffer.putShort(offset + CHECKSUM_OFFSET, (short) checksum, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /**
     * Writes the whole header with a zero checksum.
     *
     * @param sourcePort      source port
     * @param destinationPort destination port
     * @param udpLength       header plus payload
     * @return this
     */
    public Udp header(final int sourcePort, final int destinationPort, final int udpLength) {
        return sourcePort(sourcePort).destinationPort(destinationPort).udpLength(udpLength).checksum(0);
    }

    /**
     * Computes the checksum over the pseudo-header, header and {@link #udpLength()} bytes
     * and stores it ({@code 0xFFFF} for a computed 0).
     *
     * @param sourceAddress      IPv4 source
     * @param destinationAddress IPv4 destination
     * @return this
     */
    public Udp computeChecksum(final int sourceAddress, final int destinationAddress) {
        checksum(0);
        return checksum(Checksums.udp(buffer, offset, udpLength(), sourceAddress, destinationAddress));
    }
}
