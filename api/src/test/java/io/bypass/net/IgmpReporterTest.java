package io.bypass.net;

import io.bypass.testing.MemoryPort;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static io.bypass.testing.Frames.getInt;
import static io.bypass.testing.Frames.getMac;
import static io.bypass.testing.Frames.getShort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IGMP reports and query answers on their own: the reporter over an in-memory port, with
 * memberships kept in {@link Subscriptions} and every frame decoded by reference code.
 */
class IgmpReporterTest {
    private static final long MAC_A = 0x02_00_00_00_00_0AL;
    private static final int IP_A = Ipv4.parse("10.0.0.1");
    private static final int GROUP = Ipv4.parse("239.1.1.1");
    private static final int GROUP2 = Ipv4.parse("239.2.2.2");
    private static final int FIRST_ID = 0x1233;

    private final Subscriptions memberships = new Subscriptions();
    private MemoryPort.Pair pair;

    @AfterEach
    void close() {
        pair.a().close();
        pair.b().close();
    }

    private IgmpReporter reporter(final int version, final int frameSize) {
        pair = MemoryPort.pair(
            new MemoryPort.Config().mac("02:00:00:00:00:0a").ipv4("10.0.0.1", 24).uri("memory:a").ring(256, frameSize),
            new MemoryPort.Config().mac("02:00:00:00:00:0b").ipv4("10.0.0.2", 24).uri("memory:b").ring(256, frameSize));
        return new IgmpReporter(new Ipv4Link(pair.a(), 0, FIRST_ID), memberships, version);
    }

    private void query(final IgmpReporter r, final int group, final boolean v3, final int maxResponse) {
        final byte[] frame = RefFrames.igmp(group == 0 ? Igmp.ALL_SYSTEMS : group, RefFrames.igmpQuery(group, v3, maxResponse));
        r.onIgmp(new UnsafeBuffer(frame), 38, frame.length - 38, pair.a().txQueue(0));
    }

    /** Asserts the IPv4 header every IGMP message goes in, and both checksums; returns the IGMP length. */
    private static int assertIgmpFrame(final byte[] f, final int destination) {
        assertEquals(Ipv4.multicastMac(destination), getMac(f, 0));
        assertEquals(MAC_A, getMac(f, 6));
        assertEquals(Ethernet.ETHERTYPE_IPV4, getShort(f, 12));
        assertEquals(0x46, f[14], "IHL 6: the Router Alert option");
        assertEquals(IgmpReporter.TOS_INTERNETWORK_CONTROL, f[15] & 0xFF);
        assertEquals(0, getShort(f, 20), "no DF, no fragment");
        assertEquals(1, f[22], "TTL 1");
        assertEquals(Ipv4Header.PROTOCOL_IGMP, f[23]);
        assertEquals(IP_A, getInt(f, 26));
        assertEquals(destination, getInt(f, 30));
        assertEquals(Ipv4Header.OPTION_ROUTER_ALERT, getInt(f, 34));
        assertEquals(0, RefFrames.checksum(f, 14, 24, 0), "IPv4 header checksum");
        final int igmpLength = getShort(f, 16) - 24;
        assertEquals(0, RefFrames.checksum(f, 38, igmpLength, 0), "IGMP checksum");
        assertEquals(Math.max(60, 38 + igmpLength), f.length, "padded to the Ethernet minimum, no more");
        return igmpLength;
    }

    private static IgmpV3Report v3Report(final byte[] f) {
        final IgmpV3Report report = new IgmpV3Report().wrap(new UnsafeBuffer(f), 38, assertIgmpFrame(f, Igmp.V3_ROUTERS));
        assertTrue(report.isWellFormed());
        assertEquals(Igmp.TYPE_V3_MEMBERSHIP_REPORT, report.type());
        return report;
    }

    @Test
    void v3JoinAndLeaveAreStateChangeRecordsToAllV3Routers() {
        final IgmpReporter r = reporter(3, 2048);
        r.reportJoin(GROUP, pair.a().txQueue(0));
        r.reportLeave(GROUP, pair.a().txQueue(0));
        final List<byte[]> frames = pair.b().drain();
        assertEquals(2, frames.size(), "each flushed");
        final IgmpV3Report join = v3Report(frames.get(0));
        assertEquals(1, join.numberOfGroupRecords());
        assertEquals(IgmpV3Report.CHANGE_TO_EXCLUDE_MODE, join.recordType(0));
        assertEquals(GROUP, join.recordGroup(0));
        assertEquals(0, join.recordNumberOfSources(0), "exclude nothing: every source");
        final IgmpV3Report leave = v3Report(frames.get(1));
        assertEquals(IgmpV3Report.CHANGE_TO_INCLUDE_MODE, leave.recordType(0));
        assertEquals(GROUP, leave.recordGroup(0));
        assertEquals(0, leave.recordNumberOfSources(0), "include nothing: no source");
        assertEquals(FIRST_ID + 1, getShort(frames.get(0), 18), "IPv4 identification from the link's sequence");
        assertEquals(FIRST_ID + 2, getShort(frames.get(1), 18));
    }

    @Test
    void v2JoinGoesToTheGroupAndLeaveToAllRouters() {
        final IgmpReporter r = reporter(2, 2048);
        r.reportJoin(GROUP, pair.a().txQueue(0));
        r.reportLeave(GROUP, pair.a().txQueue(0));
        final List<byte[]> frames = pair.b().drain();
        assertEquals(Igmp.V2_LENGTH, assertIgmpFrame(frames.get(0), GROUP));
        assertEquals(Igmp.TYPE_V2_MEMBERSHIP_REPORT, frames.get(0)[38] & 0xFF);
        assertEquals(GROUP, getInt(frames.get(0), 42));
        assertEquals(Igmp.V2_LENGTH, assertIgmpFrame(frames.get(1), Igmp.ALL_ROUTERS));
        assertEquals(Igmp.TYPE_V2_LEAVE_GROUP, frames.get(1)[38] & 0xFF);
        assertEquals(GROUP, getInt(frames.get(1), 42));
    }

    @Test
    void generalQueriesAreAnsweredForEveryJoinedGroupInTheQuerysVersion() {
        final IgmpReporter r = reporter(3, 2048);
        memberships.join(GROUP, 1);
        memberships.join(GROUP2, 1);

        query(r, 0, true, 100);
        final List<byte[]> v3 = pair.b().drain();
        assertEquals(1, v3.size());
        final IgmpV3Report report = v3Report(v3.get(0));
        assertEquals(2, report.numberOfGroupRecords());
        assertEquals(Set.of(GROUP, GROUP2), Set.of(report.recordGroup(0), report.recordGroup(1)));
        assertEquals(IgmpV3Report.MODE_IS_EXCLUDE, report.recordType(0));
        assertEquals(IgmpV3Report.MODE_IS_EXCLUDE, report.recordType(1));

        query(r, 0, false, 100);
        final List<Integer> v2Groups = new ArrayList<>();
        for (final byte[] f : pair.b().drain()) {
            final int group = getInt(f, 42);
            assertIgmpFrame(f, group);
            assertEquals(Igmp.TYPE_V2_MEMBERSHIP_REPORT, f[38] & 0xFF, "a v2 query gets v2 reports, whatever the join version");
            v2Groups.add(group);
        }
        assertEquals(List.of(GROUP, GROUP2), v2Groups.stream().sorted().toList());

        query(r, 0, false, 0);
        final List<byte[]> v1 = pair.b().drain();
        assertEquals(2, v1.size());
        for (final byte[] f : v1) {
            assertEquals(Igmp.TYPE_V1_MEMBERSHIP_REPORT, f[38] & 0xFF, "max response 0 is a v1 querier: v1 reports");
        }
    }

    @Test
    void groupSpecificQueriesAreAnsweredForThatGroupOnly() {
        final IgmpReporter r = reporter(3, 2048);
        memberships.join(GROUP, 1);
        memberships.join(GROUP2, 1);
        query(r, GROUP2, true, 10);
        final IgmpV3Report report = v3Report(pair.b().drain().get(0));
        assertEquals(1, report.numberOfGroupRecords());
        assertEquals(GROUP2, report.recordGroup(0));
        query(r, GROUP, false, 10);
        final List<byte[]> v2 = pair.b().drain();
        assertEquals(1, v2.size());
        assertEquals(GROUP, getInt(v2.get(0), 42));
    }

    @Test
    void nothingIsSentForGroupsNotJoinedOrForOtherMembersReports() {
        final IgmpReporter r = reporter(3, 2048);
        query(r, 0, true, 100);
        assertEquals(0, pair.b().drain().size(), "a general query with nothing joined");
        memberships.join(GROUP, 1);
        query(r, Ipv4.parse("239.9.9.9"), true, 10);
        assertEquals(0, pair.b().drain().size(), "a query for a group not joined");
        final byte[] report = new byte[8];
        report[0] = (byte) Igmp.TYPE_V2_MEMBERSHIP_REPORT;
        RefFrames.put32(report, 4, GROUP);
        final byte[] frame = RefFrames.igmp(GROUP, report);
        r.onIgmp(new UnsafeBuffer(frame), 38, 8, pair.a().txQueue(0));
        assertEquals(0, pair.b().drain().size(), "another member's report");
    }

    @Test
    void v3AnswersAreSplitToFitTheTxFrame() {
        // 256-byte frames: (256 - 14 - 24 - 8) / 8 = 26 records per report, below the MTU's 183
        final IgmpReporter r = reporter(3, 256);
        final int groups = 30;
        for (int i = 0; i < groups; i++) {
            memberships.join(Ipv4.parse("239.10.0.0") + i, 1);
        }
        query(r, 0, true, 100);
        final List<byte[]> frames = pair.b().drain();
        assertEquals(2, frames.size());
        final Set<Integer> reported = new HashSet<>();
        int records = 0;
        for (final byte[] f : frames) {
            assertTrue(f.length <= 256, "fits the TX frame: " + f.length);
            final IgmpV3Report report = v3Report(f);
            for (int i = 0; i < report.numberOfGroupRecords(); i++) {
                reported.add(report.recordGroup(i));
                records++;
            }
        }
        assertEquals(26, v3Report(frames.get(0)).numberOfGroupRecords());
        assertEquals(groups, records, "each group once");
        assertEquals(groups, reported.size());
    }

    @Test
    void onlyVersionsTwoAndThree() {
        pair = MemoryPort.pair(new MemoryPort.Config().uri("memory:a"), new MemoryPort.Config().uri("memory:b"));
        final Ipv4Link link = new Ipv4Link(pair.a(), 0, 0);
        assertThrows(IllegalArgumentException.class, () -> new IgmpReporter(link, memberships, 1));
        assertThrows(IllegalArgumentException.class, () -> new IgmpReporter(link, memberships, 4));
        assertEquals(2, new IgmpReporter(link, memberships, 2).version());
    }
}
