package io.bypass.efvi.internal;

import io.bypass.FrameMeta;
import io.bypass.net.Checksums;
import io.bypass.net.Ethernet;
import io.bypass.net.Ipv4Header;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * The {@link FrameMeta#checksumVerdict()} of a frame ef_vi reported as
 * {@code RX_DISCARD / EF_EVENT_RX_DISCARD_CSUM_BAD}, the only checksum verdict ef_vi gives:
 * "IP header or TCP/UDP checksum error", without saying which. It is told apart here by the
 * IPv4 header's own sum (at most 60 bytes, on these frames only): wrong, the verdict is
 * {@link FrameMeta#IP_CHECKSUM_BAD}; right (or no IPv4 header to blame: IPv6, or a header the
 * protocol layer drops as unsound before any sum), it is {@link FrameMeta#L4_CHECKSUM_BAD}.
 * A frame ef_vi delivers as a plain RX event gets no verdict ({@link FrameMeta#CHECKSUM_UNKNOWN}):
 * ef_vi never says a sum was checked and right, so those are summed in software.
 */
public final class NicChecksumVerdict {
    private NicChecksumVerdict() {
    }

    /**
     * @param frame  the frame's buffer
     * @param offset where its Ethernet header starts
     * @param length its length
     * @return {@link FrameMeta#IP_CHECKSUM_BAD} or {@link FrameMeta#L4_CHECKSUM_BAD}
     */
    public static int ofCsumBad(final DirectBuffer frame, final int offset, final int length) {
        if (length < Ethernet.HEADER_LENGTH) {
            return FrameMeta.L4_CHECKSUM_BAD;
        }
        int etherType = frame.getShort(offset + Ethernet.ETHERTYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        int l3 = Ethernet.HEADER_LENGTH;
        if (etherType == Ethernet.ETHERTYPE_VLAN || etherType == Ethernet.ETHERTYPE_QINQ) {
            if (length < Ethernet.VLAN_HEADER_LENGTH) {
                return FrameMeta.L4_CHECKSUM_BAD;
            }
            etherType = frame.getShort(offset + Ethernet.INNER_ETHERTYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            l3 = Ethernet.VLAN_HEADER_LENGTH;
        }
        if (etherType != Ethernet.ETHERTYPE_IPV4 || length - l3 < Ipv4Header.MIN_HEADER_LENGTH) {
            return FrameMeta.L4_CHECKSUM_BAD;
        }
        final int versionIhl = frame.getByte(offset + l3) & 0xFF;
        final int headerLength = (versionIhl & 0x0F) << 2;
        if ((versionIhl >>> 4) != 4 || headerLength < Ipv4Header.MIN_HEADER_LENGTH || headerLength > length - l3) {
            return FrameMeta.L4_CHECKSUM_BAD;
        }
        return Checksums.ipv4Header(frame, offset + l3, headerLength) != 0 ? FrameMeta.IP_CHECKSUM_BAD : FrameMeta.L4_CHECKSUM_BAD;
    }
}
