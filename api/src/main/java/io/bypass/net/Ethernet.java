package io.bypass.net;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Flyweight over an Ethernet II header (IEEE 802.3), with at most one 802.1Q VLAN tag.
 * Reads and writes in place, network byte order, no allocation.
 *
 * <pre>{@code
 * Ethernet eth = new Ethernet();
 * eth.wrap(buffer, offset, length);
 * if (eth.etherType() == Ethernet.ETHERTYPE_IPV4) {
 *     ip.wrap(buffer, eth.payloadOffset(), length - eth.headerLength());
 * }
 * }</pre>
 *
 * <p>Reading a header that is not there reads neighbouring bytes or throws; check
 * {@link #length()} against {@link #HEADER_LENGTH} first, or use {@link FrameClassifier}.
 */
public final class Ethernet {
    /** Length of an untagged header: destination, source, EtherType. */
    public static final int HEADER_LENGTH = 14;
    /** Length of a header with one 802.1Q tag. */
    public static final int VLAN_HEADER_LENGTH = 18;
    /** Shortest frame on the wire without FCS; shorter frames are padded. */
    public static final int MIN_FRAME_LENGTH = 60;
    /** Offset of the destination MAC. */
    public static final int DESTINATION_OFFSET = 0;
    /** Offset of the source MAC. */
    public static final int SOURCE_OFFSET = 6;
    /** Offset of the (outer) EtherType or TPID. */
    public static final int ETHERTYPE_OFFSET = 12;
    /** Offset of the tag control information (PCP, DEI, VID) when tagged. */
    public static final int TCI_OFFSET = 14;
    /** Offset of the inner EtherType when tagged. */
    public static final int INNER_ETHERTYPE_OFFSET = 16;

    /** EtherType of IPv4. */
    public static final int ETHERTYPE_IPV4 = 0x0800;
    /** EtherType of ARP. */
    public static final int ETHERTYPE_ARP = 0x0806;
    /** EtherType of IPv6. */
    public static final int ETHERTYPE_IPV6 = 0x86DD;
    /** TPID of an 802.1Q VLAN tag. */
    public static final int ETHERTYPE_VLAN = 0x8100;
    /** TPID of an 802.1ad service tag (QinQ outer tag). */
    public static final int ETHERTYPE_QINQ = 0x88A8;

    private DirectBuffer buffer;
    private MutableDirectBuffer mutableBuffer;
    private int offset;
    private int length;

    /** Creates a flyweight wrapping nothing. */
    public Ethernet() {
    }

    /**
     * Wraps a frame for reading.
     *
     * @param buffer the frame's buffer
     * @param offset where the frame starts
     * @param length frame length in bytes
     * @return this
     */
    public Ethernet wrap(final DirectBuffer buffer, final int offset, final int length) {
        this.buffer = buffer;
        this.mutableBuffer = null;
        this.offset = offset;
        this.length = length;
        return this;
    }

    /**
     * Wraps a frame for reading and writing.
     *
     * @param buffer the frame's buffer
     * @param offset where the frame starts
     * @param length frame length in bytes
     * @return this
     */
    public Ethernet wrap(final MutableDirectBuffer buffer, final int offset, final int length) {
        this.buffer = buffer;
        this.mutableBuffer = buffer;
        this.offset = offset;
        this.length = length;
        return this;
    }

    /** @return the wrapped buffer */
    public DirectBuffer buffer() {
        return buffer;
    }

    /** @return where the frame starts in {@link #buffer()} */
    public int offset() {
        return offset;
    }

    /** @return the wrapped length */
    public int length() {
        return length;
    }

    /** @return destination MAC in the low 48 bits */
    public long destinationMac() {
        return Mac.get(buffer, offset + DESTINATION_OFFSET);
    }

    /** @return source MAC in the low 48 bits */
    public long sourceMac() {
        return Mac.get(buffer, offset + SOURCE_OFFSET);
    }

    /** @return the first EtherType field: the TPID when tagged */
    public int outerEtherType() {
        return buffer.getShort(offset + ETHERTYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return true if the frame carries an 802.1Q tag */
    public boolean hasVlan() {
        return outerEtherType() == ETHERTYPE_VLAN;
    }

    /** @return the tag control information (PCP, DEI, VID), when {@link #hasVlan()} */
    public int tci() {
        return buffer.getShort(offset + TCI_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return the 12-bit VLAN id, or -1 if untagged */
    public int vlanId() {
        return hasVlan() ? tci() & 0x0FFF : -1;
    }

    /** @return the 3-bit priority code point, or 0 if untagged */
    public int priority() {
        return hasVlan() ? tci() >>> 13 : 0;
    }

    /** @return the EtherType of the payload: after the tag if tagged */
    public int etherType() {
        final int outer = outerEtherType();
        return outer == ETHERTYPE_VLAN ? buffer.getShort(offset + INNER_ETHERTYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF : outer;
    }

    /** @return {@link #HEADER_LENGTH} or {@link #VLAN_HEADER_LENGTH} */
    public int headerLength() {
        return hasVlan() ? VLAN_HEADER_LENGTH : HEADER_LENGTH;
    }

    /** @return where the payload (IPv4, ARP) starts in {@link #buffer()} */
    public int payloadOffset() {
        return offset + headerLength();
    }

    /**
     * @param mac destination MAC
     * @return this
     */
    public Ethernet destinationMac(final long mac) {
        Mac.put(mutableBuffer, offset + DESTINATION_OFFSET, mac);
        return this;
    }

    /**
     * @param mac source MAC
     * @return this
     */
    public Ethernet sourceMac(final long mac) {
        Mac.put(mutableBuffer, offset + SOURCE_OFFSET, mac);
        return this;
    }

    /**
     * Writes an untagged EtherType.
     *
     * @param etherType such as {@link #ETHERTYPE_IPV4}
     * @return this
     */
    public Ethernet etherType(final int etherType) {
        mutableBuffer.putShort(offset + ETHERTYPE_OFFSET, (short) etherType, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /**
     * Writes an 802.1Q tag and the inner EtherType; the payload then starts at
     * {@link #VLAN_HEADER_LENGTH}.
     *
     * @param priority  PCP, 0..7
     * @param vlanId    VID, 0..4095
     * @param etherType inner EtherType
     * @return this
     */
    public Ethernet vlan(final int priority, final int vlanId, final int etherType) {
        mutableBuffer.putShort(offset + ETHERTYPE_OFFSET, (short) ETHERTYPE_VLAN, ByteOrder.BIG_ENDIAN);
        mutableBuffer.putShort(offset + TCI_OFFSET, (short) (((priority & 7) << 13) | (vlanId & 0x0FFF)), ByteOrder.BIG_ENDIAN);
        mutableBuffer.putShort(offset + INNER_ETHERTYPE_OFFSET, (short) etherType, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /**
     * Writes a complete untagged header.
     *
     * @param destination destination MAC
     * @param source      source MAC
     * @param etherType   EtherType
     * @return this
     */
    public Ethernet header(final long destination, final long source, final int etherType) {
        return destinationMac(destination).sourceMac(source).etherType(etherType);
    }
}
