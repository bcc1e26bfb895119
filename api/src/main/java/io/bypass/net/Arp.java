package io.bypass.net;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Flyweight over an ARP packet (RFC 826) for IPv4 over Ethernet: hardware type 1,
 * protocol type 0x0800, lengths 6 and 4. Reads and writes in place, no allocation.
 *
 * <pre>{@code
 * arp.wrap(frame, Ethernet.HEADER_LENGTH, Arp.LENGTH)
 *    .header(Arp.OP_REQUEST, ourMac, ourIp, Mac.ZERO, nextHop);
 * }</pre>
 */
public final class Arp {
    /** Length of an IPv4-over-Ethernet ARP packet. */
    public static final int LENGTH = 28;
    /** Hardware type of Ethernet. */
    public static final int HTYPE_ETHERNET = 1;
    /** Protocol type of IPv4. */
    public static final int PTYPE_IPV4 = Ethernet.ETHERTYPE_IPV4;
    /** Operation: request. */
    public static final int OP_REQUEST = 1;
    /** Operation: reply. */
    public static final int OP_REPLY = 2;

    /** Offset of the hardware type. */
    public static final int HTYPE_OFFSET = 0;
    /** Offset of the protocol type. */
    public static final int PTYPE_OFFSET = 2;
    /** Offset of the hardware address length. */
    public static final int HLEN_OFFSET = 4;
    /** Offset of the protocol address length. */
    public static final int PLEN_OFFSET = 5;
    /** Offset of the operation. */
    public static final int OPER_OFFSET = 6;
    /** Offset of the sender hardware address. */
    public static final int SHA_OFFSET = 8;
    /** Offset of the sender protocol address. */
    public static final int SPA_OFFSET = 14;
    /** Offset of the target hardware address. */
    public static final int THA_OFFSET = 18;
    /** Offset of the target protocol address. */
    public static final int TPA_OFFSET = 24;

    private DirectBuffer buffer;
    private MutableDirectBuffer mutableBuffer;
    private int offset;
    private int length;

    /** Creates a flyweight wrapping nothing. */
    public Arp() {
    }

    /**
     * Wraps a packet for reading.
     *
     * @param buffer the buffer
     * @param offset where the ARP packet starts
     * @param length bytes available
     * @return this
     */
    public Arp wrap(final DirectBuffer buffer, final int offset, final int length) {
        this.buffer = buffer;
        this.mutableBuffer = null;
        this.offset = offset;
        this.length = length;
        return this;
    }

    /**
     * Wraps a packet for reading and writing.
     *
     * @param buffer the buffer
     * @param offset where the ARP packet starts
     * @param length bytes available
     * @return this
     */
    public Arp wrap(final MutableDirectBuffer buffer, final int offset, final int length) {
        this.buffer = buffer;
        this.mutableBuffer = buffer;
        this.offset = offset;
        this.length = length;
        return this;
    }

    /** @return bytes available */
    public int length() {
        return length;
    }

    /** @return hardware type */
    public int htype() {
        return buffer.getShort(offset + HTYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return protocol type */
    public int ptype() {
        return buffer.getShort(offset + PTYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return hardware address length */
    public int hlen() {
        return buffer.getByte(offset + HLEN_OFFSET) & 0xFF;
    }

    /** @return protocol address length */
    public int plen() {
        return buffer.getByte(offset + PLEN_OFFSET) & 0xFF;
    }

    /** @return operation: {@link #OP_REQUEST} or {@link #OP_REPLY} */
    public int operation() {
        return buffer.getShort(offset + OPER_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return sender hardware address */
    public long senderMac() {
        return Mac.get(buffer, offset + SHA_OFFSET);
    }

    /** @return sender protocol address */
    public int senderAddress() {
        return buffer.getInt(offset + SPA_OFFSET, ByteOrder.BIG_ENDIAN);
    }

    /** @return target hardware address */
    public long targetMac() {
        return Mac.get(buffer, offset + THA_OFFSET);
    }

    /** @return target protocol address */
    public int targetAddress() {
        return buffer.getInt(offset + TPA_OFFSET, ByteOrder.BIG_ENDIAN);
    }

    /**
     * @return true if at least {@link #LENGTH} bytes are wrapped and the header describes
     *         IPv4 over Ethernet with a request or reply operation
     */
    public boolean isValidIpv4OverEthernet() {
        if (length < LENGTH) {
            return false;
        }
        final int op = operation();
        return htype() == HTYPE_ETHERNET && ptype() == PTYPE_IPV4 && hlen() == 6 && plen() == 4
            && (op == OP_REQUEST || op == OP_REPLY);
    }

    /**
     * Writes a whole IPv4-over-Ethernet packet.
     *
     * @param operation     {@link #OP_REQUEST} or {@link #OP_REPLY}
     * @param senderMac     sender hardware address
     * @param senderAddress sender protocol address
     * @param targetMac     target hardware address ({@link Mac#ZERO} in a request)
     * @param targetAddress target protocol address
     * @return this
     */
    public Arp header(
        final int operation, final long senderMac, final int senderAddress, final long targetMac, final int targetAddress) {
        mutableBuffer.putShort(offset + HTYPE_OFFSET, (short) HTYPE_ETHERNET, ByteOrder.BIG_ENDIAN);
        mutableBuffer.putShort(offset + PTYPE_OFFSET, (short) PTYPE_IPV4, ByteOrder.BIG_ENDIAN);
        mutableBuffer.putByte(offset + HLEN_OFFSET, (byte) 6);
        mutableBuffer.putByte(offset + PLEN_OFFSET, (byte) 4);
        mutableBuffer.putShort(offset + OPER_OFFSET, (short) operation, ByteOrder.BIG_ENDIAN);
        Mac.put(mutableBuffer, offset + SHA_OFFSET, senderMac);
        mutableBuffer.putInt(offset + SPA_OFFSET, senderAddress, ByteOrder.BIG_ENDIAN);
        Mac.put(mutableBuffer, offset + THA_OFFSET, targetMac);
        mutableBuffer.putInt(offset + TPA_OFFSET, targetAddress, ByteOrder.BIG_ENDIAN);
        return this;
    }
}
