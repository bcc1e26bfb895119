package io.bypass.net;

import io.bypass.Counter;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/** The checks {@link FrameClassifier} makes on an IGMP message: length, v3 query sources, checksum, destination. */
final class IgmpChecks {
    private IgmpChecks() {
    }

    /**
     * @param buffer        the frame
     * @param offset        where the IGMP message starts
     * @param length        the IPv4 payload length
     * @param destination   the IPv4 destination
     * @param local         our address (0: none)
     * @param handled       false when the kernel handles IGMP
     * @param subscriptions the groups joined
     * @return null if the message is for us and well formed, else the drop counter that names why not
     */
    static Counter check(final DirectBuffer buffer, final int offset, final int length, final int destination, final int local,
                         final boolean handled, final Subscriptions subscriptions) {
        if (!handled) {
            return Counter.DROP_NOT_OURS;
        }
        if (length < Igmp.V2_LENGTH) {
            return Counter.DROP_TRUNCATED;
        }
        final int type = buffer.getByte(offset) & 0xFF;
        if (type == Igmp.TYPE_MEMBERSHIP_QUERY && length > Igmp.V2_LENGTH) {
            if (length < Igmp.V3_QUERY_MIN_LENGTH) {
                return Counter.DROP_BAD_CONTROL;
            }
            final int sources = buffer.getShort(offset + Igmp.V3_NUMBER_OF_SOURCES_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            if (Igmp.V3_QUERY_MIN_LENGTH + (sources << 2) > length) {
                return Counter.DROP_BAD_CONTROL;
            }
        }
        if (Checksums.igmp(buffer, offset, length) != 0) {
            return Counter.DROP_BAD_CONTROL;
        }
        if (destination != Igmp.ALL_SYSTEMS && !(Ipv4.isMulticast(destination) && subscriptions.isJoined(destination))
            && (destination != local || local == 0)) {
            return Counter.DROP_NOT_OURS;
        }
        return null;
    }
}
