package io.bypass.net;

import org.agrona.MutableDirectBuffer;

/**
 * Writes the Ethernet (802.1Q-tagged on a VLAN link), IPv4 and UDP headers of datagrams a
 * link sends, in two steps: {@link #write} at claim time, everything the payload length
 * does not decide; {@link #finish} at commit, the lengths and checksums. The headers' range
 * is checked once per step and the fields are stored unchecked ({@link NetworkBytes}), and
 * the IPv4 header checksum is summed from the values written rather than read back.
 *
 * <pre>{@code
 * long ipSum = headers.write(buffer, offset, frameLength, nextHopMac, link.nextIdentification(), 64, destination, 9000, 9001);
 * // ... payload at offset + headers.length() ...
 * headers.finish(buffer, offset, payloadLength, ipSum, destination, true);
 * }</pre>
 *
 * <p>Holds only the link's constants: one instance serves any number of frames.
 */
public final class Ipv4UdpHeaders {
    private static final int VERSION_IHL_TOS = 0x4500;

    private final long localMac;
    private final int localAddress;
    private final int vlan;
    private final int ipOffset;
    private final int udpOffset;
    private final int length;

    /** @param link the link datagrams are sent on: its MAC, address and VLAN */
    public Ipv4UdpHeaders(final Ipv4Link link) {
        localMac = link.localMac();
        localAddress = link.localAddress();
        vlan = link.vlan();
        ipOffset = link.ipOffset();
        udpOffset = ipOffset + Ipv4Header.MIN_HEADER_LENGTH;
        length = udpOffset + Udp.HEADER_LENGTH;
    }

    /** @return bytes of all three headers: where the payload starts in the frame */
    public int length() {
        return length;
    }

    /**
     * Writes the headers, with zero lengths and checksums, and returns the partial sum of
     * the IPv4 header without its total length, for {@link #finish}.
     *
     * @param buffer             the frame's buffer
     * @param offset             where the frame starts
     * @param frameLength        bytes claimed for the frame, at least {@link #length()}
     * @param destinationMac     the next hop's MAC
     * @param identification     the IPv4 identification
     * @param ttl                the IPv4 time to live
     * @param destinationAddress the IPv4 destination
     * @param sourcePort         the UDP source port
     * @param destinationPort    the UDP destination port
     * @return the partial IPv4 header sum, not folded
     * @throws IndexOutOfBoundsException if the headers do not fit in the buffer from {@code offset}
     */
    public long write(final MutableDirectBuffer buffer, final int offset, final int frameLength, final long destinationMac,
                      final int identification, final int ttl, final int destinationAddress, final int sourcePort,
                      final int destinationPort) {
        NetworkBytes.checkRange(buffer, offset, Math.max(length, frameLength));
        NetworkBytes.putMac(buffer, offset, destinationMac);
        NetworkBytes.putMac(buffer, offset + Ethernet.SOURCE_OFFSET, localMac);
        if (vlan != 0) {
            NetworkBytes.putShort(buffer, offset + Ethernet.ETHERTYPE_OFFSET, Ethernet.ETHERTYPE_VLAN);
            NetworkBytes.putShort(buffer, offset + Ethernet.TCI_OFFSET, vlan & 0x0FFF);
        }
        NetworkBytes.putShort(buffer, offset + ipOffset - 2, Ethernet.ETHERTYPE_IPV4);
        final int ip = offset + ipOffset;
        final int ttlProtocol = (ttl & 0xFF) << 8 | Ipv4Header.PROTOCOL_UDP;
        // version 4, IHL 5, TOS 0, total length 0 | identification, DF | TTL, UDP, checksum 0
        NetworkBytes.putInt(buffer, ip, VERSION_IHL_TOS << 16);
        NetworkBytes.putInt(buffer, ip + Ipv4Header.IDENTIFICATION_OFFSET, (identification & 0xFFFF) << 16 | Ipv4Header.FLAG_DF);
        NetworkBytes.putInt(buffer, ip + Ipv4Header.TTL_OFFSET, ttlProtocol << 16);
        NetworkBytes.putInt(buffer, ip + Ipv4Header.SOURCE_OFFSET, localAddress);
        NetworkBytes.putInt(buffer, ip + Ipv4Header.DESTINATION_OFFSET, destinationAddress);
        final int udp = offset + udpOffset;
        NetworkBytes.putInt(buffer, udp, (sourcePort & 0xFFFF) << 16 | (destinationPort & 0xFFFF));
        NetworkBytes.putInt(buffer, udp + Udp.LENGTH_OFFSET, 0);
        return VERSION_IHL_TOS + (identification & 0xFFFF) + Ipv4Header.FLAG_DF + ttlProtocol
            + (localAddress >>> 16) + (localAddress & 0xFFFF) + (destinationAddress >>> 16) + (destinationAddress & 0xFFFF);
    }

    /**
     * Writes the lengths and checksums once the payload is in place. With
     * {@code checksumOffload} the UDP checksum field gets the folded pseudo-header sum for
     * the NIC to finish; without, the full checksum over the payload.
     *
     * @param buffer             the frame's buffer
     * @param offset             where the frame starts
     * @param payloadLength      UDP payload bytes written
     * @param ipSum              what {@link #write} returned
     * @param destinationAddress the IPv4 destination given to {@link #write}
     * @param checksumOffload    true to leave the UDP checksum to the NIC
     * @return the frame's length, without Ethernet padding
     * @throws IndexOutOfBoundsException if the datagram does not fit in the buffer from {@code offset}
     */
    public int finish(final MutableDirectBuffer buffer, final int offset, final int payloadLength, final long ipSum,
                      final int destinationAddress, final boolean checksumOffload) {
        final int udpLength = Udp.HEADER_LENGTH + payloadLength;
        final int totalLength = Ipv4Header.MIN_HEADER_LENGTH + udpLength;
        NetworkBytes.checkRange(buffer, offset, ipOffset + totalLength);
        final int ip = offset + ipOffset;
        NetworkBytes.putShort(buffer, ip + Ipv4Header.TOTAL_LENGTH_OFFSET, totalLength);
        NetworkBytes.putShort(buffer, ip + Ipv4Header.CHECKSUM_OFFSET, ~Checksums.fold(ipSum + totalLength));
        final int udp = offset + udpOffset;
        NetworkBytes.putShort(buffer, udp + Udp.LENGTH_OFFSET, udpLength);
        final int checksum = checksumOffload
            ? Checksums.fold(Checksums.udpPseudoHeaderSum(localAddress, destinationAddress, udpLength))
            : Checksums.udp(buffer, udp, udpLength, localAddress, destinationAddress);
        NetworkBytes.putShort(buffer, udp + Udp.CHECKSUM_OFFSET, checksum);
        return ipOffset + totalLength;
    }
}
