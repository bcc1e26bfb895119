package io.bypass.net;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Flyweight over an IGMP message: the IGMPv2 messages (RFC 2236: membership query,
 * v2 report, leave group) and the IGMPv3 membership query (RFC 3376 section 4.1), which
 * share the first 8 bytes. IGMPv3 reports have their own layout: {@link IgmpV3Report}.
 * Reads and writes in place, no allocation.
 *
 * <pre>{@code
 * igmp.wrap(frame, ipPayloadOffset, Igmp.V2_LENGTH)
 *     .header(Igmp.TYPE_V2_MEMBERSHIP_REPORT, 0, group)
 *     .computeChecksum();
 * }</pre>
 */
public final class Igmp {
    /** Length of an IGMPv1/v2 message and of a v1/v2 query. */
    public static final int V2_LENGTH = 8;
    /** Length of an IGMPv3 query without sources; a query this long or longer is v3. */
    public static final int V3_QUERY_MIN_LENGTH = 12;
    /** Membership query, any version. */
    public static final int TYPE_MEMBERSHIP_QUERY = 0x11;
    /** IGMPv1 membership report. */
    public static final int TYPE_V1_MEMBERSHIP_REPORT = 0x12;
    /** IGMPv2 membership report. */
    public static final int TYPE_V2_MEMBERSHIP_REPORT = 0x16;
    /** IGMPv2 leave group. */
    public static final int TYPE_V2_LEAVE_GROUP = 0x17;
    /** IGMPv3 membership report. */
    public static final int TYPE_V3_MEMBERSHIP_REPORT = 0x22;
    /** 224.0.0.1, all systems: general queries go here. */
    public static final int ALL_SYSTEMS = 0xE000_0001;
    /** 224.0.0.2, all routers: IGMPv2 leave messages go here. */
    public static final int ALL_ROUTERS = 0xE000_0002;
    /** 224.0.0.22, all IGMPv3-capable routers: IGMPv3 reports go here. */
    public static final int V3_ROUTERS = 0xE000_0016;

    /** Offset of the type. */
    public static final int TYPE_OFFSET = 0;
    /** Offset of the max response time (v2) or code (v3). */
    public static final int MAX_RESP_OFFSET = 1;
    /** Offset of the checksum. */
    public static final int CHECKSUM_OFFSET = 2;
    /** Offset of the group address. */
    public static final int GROUP_OFFSET = 4;
    /** Offset of the v3 query's Resv/S/QRV byte. */
    public static final int V3_FLAGS_OFFSET = 8;
    /** Offset of the v3 query's QQIC. */
    public static final int V3_QQIC_OFFSET = 9;
    /** Offset of the v3 query's number of sources. */
    public static final int V3_NUMBER_OF_SOURCES_OFFSET = 10;
    /** Offset of the v3 query's first source address. */
    public static final int V3_SOURCES_OFFSET = 12;

    private DirectBuffer buffer;
    private MutableDirectBuffer mutableBuffer;
    private int offset;
    private int length;

    /** Creates a flyweight wrapping nothing. */
    public Igmp() {
    }

    /**
     * Wraps a message for reading.
     *
     * @param buffer the buffer
     * @param offset where the IGMP message starts
     * @param length message length (the IPv4 payload length)
     * @return this
     */
    public Igmp wrap(final DirectBuffer buffer, final int offset, final int length) {
        this.buffer = buffer;
        this.mutableBuffer = null;
        this.offset = offset;
        this.length = length;
        return this;
    }

    /**
     * Wraps a message for reading and writing.
     *
     * @param buffer the buffer
     * @param offset where the IGMP message starts
     * @param length message length
     * @return this
     */
    public Igmp wrap(final MutableDirectBuffer buffer, final int offset, final int length) {
        this.buffer = buffer;
        this.mutableBuffer = buffer;
        this.offset = offset;
        this.length = length;
        return this;
    }

    /** @return the wrapped message length */
    public int length() {
        return length;
    }

    /** @return message type, such as {@link #TYPE_MEMBERSHIP_QUERY} */
    public int type() {
        return buffer.getByte(offset + TYPE_OFFSET) & 0xFF;
    }

    /** @return max response time (v2, tenths of a second) or max response code (v3) */
    public int maxResponseCode() {
        return buffer.getByte(offset + MAX_RESP_OFFSET) & 0xFF;
    }

    /** @return the stored checksum */
    public int checksum() {
        return buffer.getShort(offset + CHECKSUM_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return group address; 0 in a general query */
    public int groupAddress() {
        return buffer.getInt(offset + GROUP_OFFSET, ByteOrder.BIG_ENDIAN);
    }

    /** @return true if the checksum over {@link #length()} bytes verifies */
    public boolean isChecksumValid() {
        return Checksums.igmp(buffer, offset, length) == 0;
    }

    /** @return true for a membership query of IGMPv3 format (12 bytes or more, RFC 3376 7.1) */
    public boolean isV3Query() {
        return type() == TYPE_MEMBERSHIP_QUERY && length >= V3_QUERY_MIN_LENGTH;
    }

    /** @return v3 query: the S (suppress router-side processing) flag */
    public boolean suppressRouterProcessing() {
        return (buffer.getByte(offset + V3_FLAGS_OFFSET) & 0x08) != 0;
    }

    /** @return v3 query: querier's robustness variable */
    public int qrv() {
        return buffer.getByte(offset + V3_FLAGS_OFFSET) & 0x07;
    }

    /** @return v3 query: querier's query interval code */
    public int qqic() {
        return buffer.getByte(offset + V3_QQIC_OFFSET) & 0xFF;
    }

    /** @return v3 query: number of source addresses */
    public int numberOfSources() {
        return buffer.getShort(offset + V3_NUMBER_OF_SOURCES_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param index source index, below {@link #numberOfSources()}
     * @return v3 query: that source address
     */
    public int sourceAddress(final int index) {
        return buffer.getInt(offset + V3_SOURCES_OFFSET + (index << 2), ByteOrder.BIG_ENDIAN);
    }

    /**
     * @return true if the message is long enough for its type and, for a v3 query, for
     *         its sources; false if it is malformed
     */
    public boolean isWellFormed() {
        if (length < V2_LENGTH) {
            return false;
        }
        if (type() == TYPE_MEMBERSHIP_QUERY && length > V2_LENGTH) {
            // RFC 3376 7.1: 9..11 bytes is invalid; v3 queries must hold their sources
            return length >= V3_QUERY_MIN_LENGTH && V3_QUERY_MIN_LENGTH + (numberOfSources() << 2) <= length;
        }
        return true;
    }

    /**
     * Writes the common 8 bytes with a zero checksum.
     *
     * @param type            message type
     * @param maxResponseCode max response time or code (0 in reports)
     * @param group           group address
     * @return this
     */
    public Igmp header(final int type, final int maxResponseCode, final int group) {
        mutableBuffer.putByte(offset + TYPE_OFFSET, (byte) type);
        mutableBuffer.putByte(offset + MAX_RESP_OFFSET, (byte) maxResponseCode);
        mutableBuffer.putShort(offset + CHECKSUM_OFFSET, (short) 0);
        mutableBuffer.putInt(offset + GROUP_OFFSET, group, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /**
     * Writes the v3 query fields after the common 8 bytes; {@link #length()} must be at
     * least {@code 12 + 4 * numberOfSources}. Sources follow with {@link #sourceAddress(int, int)}.
     *
     * @param suppress        S flag
     * @param qrv             robustness variable, 0..7
     * @param qqic            query interval code
     * @param numberOfSources sources that follow
     * @return this
     */
    public Igmp v3Query(final boolean suppress, final int qrv, final int qqic, final int numberOfSources) {
        mutableBuffer.putByte(offset + V3_FLAGS_OFFSET, (byte) ((suppress ? 0x08 : 0) | (qrv & 7)));
        mutableBuffer.putByte(offset + V3_QQIC_OFFSET, (byte) qqic);
        mutableBuffer.putShort(offset + V3_NUMBER_OF_SOURCES_OFFSET, (short) numberOfSources, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /**
     * @param index   source index
     * @param address source address to write
     * @return this
     */
    public Igmp sourceAddress(final int index, final int address) {
        mutableBuffer.putInt(offset + V3_SOURCES_OFFSET + (index << 2), address, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /**
     * Computes the checksum over {@link #length()} bytes and stores it.
     *
     * @return this
     */
    public Igmp computeChecksum() {
        mutableBuffer.putShort(offset + CHECKSUM_OFFSET, (short) 0);
        mutableBuffer.putShort(offset + CHECKSUM_OFFSET, (short) Checksums.igmp(buffer, offset, length), ByteOrder.BIG_ENDIAN);
        return this;
    }
}
