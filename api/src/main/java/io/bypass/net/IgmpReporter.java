package io.bypass.net;

import io.bypass.FrameClaim;
import io.bypass.TxQueue;
import io.bypass.spi.HotPathErrors;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Speaks IGMP for the groups joined in {@link Subscriptions}, so switches that snoop
 * IGMP and multicast routers send us those groups:
 * <ul>
 *   <li>{@link #reportJoin}/{@link #reportLeave}: the unsolicited report when a group is
 *       joined or left: IGMPv3 (RFC 3376) CHANGE_TO_EXCLUDE_MODE / CHANGE_TO_INCLUDE_MODE with
 *       no sources, to 224.0.0.22; or IGMPv2 (RFC 2236) Membership Report to the group /
 *       Leave Group to 224.0.0.2.</li>
 *   <li>{@link #onIgmp}: answers a query. A general query (group 0) gets one
 *       MODE_IS_EXCLUDE record per joined group (v3, split over as many frames as the MTU
 *       needs) or one report per group (v2, or v1 when the query's max response code is 0);
 *       a group-specific query for a joined group gets that group's. Reports from other
 *       members need nothing from a host.</li>
 * </ul>
 * Every message goes in an IPv4 header with the Router Alert option, TTL 1 and internetwork
 * control precedence, as Linux sends them, and its frame is flushed at once.
 *
 * <p>Answers go out at once rather than after a random delay within the max response
 * time: one host per group, no report storm to avoid. Not done: report retransmission
 * (robustness variable), and switching to v2 when a v2 querier is heard. Where the port has
 * {@link io.bypass.Capability#KERNEL_NEIGHBOURS} the kernel speaks IGMP and this class is not used.
 *
 * <pre>{@code
 * if (classifier.subscriptions().join(group, port)) { // the group's first port
 *     igmpReporter.reportJoin(group, tx);
 * }
 * }</pre>
 *
 * <p>Not thread-safe: use from the polling thread. Allocates nothing and keeps no string
 * constant (see {@link io.bypass.spi.HotPathErrors}).
 */
public final class IgmpReporter {
    /** IGMP goes with the Router Alert option (RFC 2236 section 2, RFC 3376 section 4). */
    public static final int IP_HEADER_LENGTH = Ipv4Header.MIN_HEADER_LENGTH + 4;
    /** Internetwork control precedence, as Linux sends IGMP. */
    public static final int TOS_INTERNETWORK_CONTROL = 0xC0;

    private final Ipv4Link link;
    private final Subscriptions memberships;
    private final int version;
    private final int ipOffset;
    private final int igmpOffset;
    private final int mtu;
    private final int localAddress;
    private final FrameClaim claim = new FrameClaim();
    private final Ipv4Header ip = new Ipv4Header();
    private final Igmp igmp = new Igmp();
    private final IgmpV3Report report = new IgmpV3Report();

    /**
     * @param link        our end of the link: source address, MTU, VLAN and IPv4 identification
     * @param memberships where the joined groups are kept (its {@link Subscriptions#join} and {@link Subscriptions#leave})
     * @param version     2 or 3: the IGMP version of {@link #reportJoin} and {@link #reportLeave}
     * @throws IllegalArgumentException if {@code version} is neither 2 nor 3
     */
    public IgmpReporter(final Ipv4Link link, final Subscriptions memberships, final int version) {
        if (version != 2 && version != 3) {
            throw HotPathErrors.igmpVersion(version);
        }
        this.link = link;
        this.memberships = memberships;
        this.version = version;
        ipOffset = link.ipOffset();
        igmpOffset = ipOffset + IP_HEADER_LENGTH;
        mtu = link.mtu();
        localAddress = link.localAddress();
    }

    /**
     * @return the IGMP version of join and leave reports, 2 or 3
     */
    public int version() {
        return version;
    }

    /**
     * Reports that {@code group} was joined (the first port on it), and flushes.
     *
     * @param group the IPv4 group
     * @param tx    the queue to send on
     */
    public void reportJoin(final int group, final TxQueue tx) {
        if (version == 3) {
            sendV3Report(tx, IgmpV3Report.CHANGE_TO_EXCLUDE_MODE, group);
        } else {
            sendV2(tx, Igmp.TYPE_V2_MEMBERSHIP_REPORT, group, group);
        }
        tx.flush();
    }

    /**
     * Reports that {@code group} was left (its last port), and flushes.
     *
     * @param group the IPv4 group
     * @param tx    the queue to send on
     */
    public void reportLeave(final int group, final TxQueue tx) {
        if (version == 3) {
            sendV3Report(tx, IgmpV3Report.CHANGE_TO_INCLUDE_MODE, group);
        } else {
            sendV2(tx, Igmp.TYPE_V2_LEAVE_GROUP, group, Igmp.ALL_ROUTERS);
        }
        tx.flush();
    }

    /**
     * Handles one IGMP message: answers a query for the joined groups, in the version of
     * the query (a v3 query is 12 bytes or more); ignores anything else.
     *
     * @param buffer the frame's buffer
     * @param offset where the IGMP message starts ({@link FrameClassifier#l4Offset()})
     * @param length its length ({@link FrameClassifier#l4Length()})
     * @param tx     the queue answers go out on
     */
    public void onIgmp(final DirectBuffer buffer, final int offset, final int length, final TxQueue tx) {
        final Igmp message = igmp.wrap(buffer, offset, length);
        if (message.type() != Igmp.TYPE_MEMBERSHIP_QUERY) {
            return; // another member's report or leave: hosts need do nothing
        }
        final int group = message.groupAddress();
        final boolean v3 = length >= Igmp.V3_QUERY_MIN_LENGTH;
        final int v2Type = message.maxResponseCode() == 0 ? Igmp.TYPE_V1_MEMBERSHIP_REPORT : Igmp.TYPE_V2_MEMBERSHIP_REPORT;
        final Subscriptions m = memberships;
        if (group == 0) {
            if (m.groupCount() == 0) {
                return;
            }
            if (v3) {
                sendV3Report(tx, IgmpV3Report.MODE_IS_EXCLUDE, 0);
            } else {
                for (int i = 0; i < m.groupCount(); i++) {
                    final int g = m.group(i);
                    sendV2(tx, v2Type, g, g);
                }
            }
        } else if (m.isJoined(group)) {
            if (v3) {
                sendV3Report(tx, IgmpV3Report.MODE_IS_EXCLUDE, group);
            } else {
                sendV2(tx, v2Type, group, group);
            }
        } else {
            return;
        }
        tx.flush();
    }

    private void writeIpHeader(final MutableDirectBuffer b, final int o, final int frameLength, final int igmpLength,
                               final int destination) {
        link.writeEthernet(b, o, frameLength, Ipv4.multicastMac(destination), Ethernet.ETHERTYPE_IPV4);
        ip.wrap(b, o + ipOffset, IP_HEADER_LENGTH + igmpLength)
            .header(IP_HEADER_LENGTH, TOS_INTERNETWORK_CONTROL, IP_HEADER_LENGTH + igmpLength, link.nextIdentification(),
                0, 1, Ipv4Header.PROTOCOL_IGMP, localAddress, destination);
        b.putInt(o + ipOffset + Ipv4Header.MIN_HEADER_LENGTH, Ipv4Header.OPTION_ROUTER_ALERT, ByteOrder.BIG_ENDIAN);
        ip.computeChecksum();
    }

    private boolean sendV2(final TxQueue tx, final int type, final int group, final int destination) {
        final int used = igmpOffset + Igmp.V2_LENGTH;
        final int frameLength = Math.max(Ethernet.MIN_FRAME_LENGTH, used);
        if (!tx.tryClaim(frameLength, claim)) {
            return false;
        }
        final MutableDirectBuffer b = claim.buffer();
        final int o = claim.offset();
        writeIpHeader(b, o, frameLength, Igmp.V2_LENGTH, destination);
        igmp.wrap(b, o + igmpOffset, Igmp.V2_LENGTH).header(type, 0, group).computeChecksum();
        b.setMemory(o + used, frameLength - used, (byte) 0);
        claim.commit(frameLength);
        return true;
    }

    /**
     * Sends IGMPv3 reports: one record for {@code group}, or (group 0) one record per
     * joined group, split over as many frames as the MTU and the TX frame size allow.
     */
    private void sendV3Report(final TxQueue tx, final int recordType, final int group) {
        final int room = Math.min(mtu, tx.maxFrameLength() - ipOffset) - IP_HEADER_LENGTH - IgmpV3Report.HEADER_LENGTH;
        final int perFrame = Math.max(1, room / IgmpV3Report.RECORD_HEADER_LENGTH);
        final int total = group != 0 ? 1 : memberships.groupCount();
        int next = 0;
        while (next < total) {
            final int records = Math.min(perFrame, total - next);
            final int igmpLength = IgmpV3Report.HEADER_LENGTH + records * IgmpV3Report.RECORD_HEADER_LENGTH;
            final int used = igmpOffset + igmpLength;
            final int frameLength = Math.max(Ethernet.MIN_FRAME_LENGTH, used);
            if (!tx.tryClaim(frameLength, claim)) {
                return;
            }
            final MutableDirectBuffer b = claim.buffer();
            final int o = claim.offset();
            writeIpHeader(b, o, frameLength, igmpLength, Igmp.V3_ROUTERS);
            report.wrap(b, o + igmpOffset, igmpLength).header(0);
            for (int i = 0; i < records; i++) {
                report.appendRecord(recordType, group != 0 ? group : memberships.group(next + i));
            }
            report.computeChecksum();
            b.setMemory(o + used, frameLength - used, (byte) 0);
            claim.commit(frameLength);
            next += records;
        }
    }
}
