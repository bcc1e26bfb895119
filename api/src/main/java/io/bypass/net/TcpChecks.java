package io.bypass.net;

import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.FrameMeta;

/** The checks {@link FrameClassifier} makes on a TCP segment to our address: header, options, checksum. */
final class TcpChecks {
    private TcpChecks() {
    }

    /**
     * @param t        the segment, wrapped
     * @param src      IPv4 source
     * @param dst      IPv4 destination
     * @param local    our address (0: none, so no segment is ours)
     * @param verdict  the NIC's checksum verdict, masked to nothing unless the policy is NIC
     * @param policy   the checksum policy
     * @param counters where an accepted partial sum is counted
     * @return null if the segment is good, else the drop counter that names why not
     */
    static Counter check(final Tcp t, final int src, final int dst, final int local, final int verdict, final ChecksumPolicy policy,
                         final Counters.Writer counters) {
        if (t.length() < Tcp.HEADER_LENGTH) {
            return Counter.DROP_TRUNCATED;
        }
        if (dst != local || local == 0) {
            return Counter.DROP_NOT_OURS;
        }
        if (t.parse() != Tcp.OK) {
            return Counter.DROP_BAD_TCP_HEADER;
        }
        if ((verdict & FrameMeta.L4_CHECKSUM_GOOD) != 0) {
            return null;
        }
        if ((verdict & FrameMeta.L4_CHECKSUM_BAD) != 0) {
            return Counter.DROP_BAD_TCP_CHECKSUM;
        }
        // the partial sum first, as for UDP (FrameClassifier)
        if (policy != ChecksumPolicy.VERIFY && Checksums.isTcpPartial(t.buffer(), t.offset(), t.length(), src, dst)) {
            counters.increment(Counter.RX_PARTIAL_CHECKSUM);
        } else if (!t.isChecksumValid(src, dst)) {
            return Counter.DROP_BAD_TCP_CHECKSUM;
        }
        return null;
    }
}
