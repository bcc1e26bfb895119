package io.bypass.udp;

import io.bypass.BypassException;
import io.bypass.BypassUriException;
import io.bypass.Capability;
import io.bypass.Counter;
import io.bypass.FlowRule;
import io.bypass.FrameClaim;
import io.bypass.PortUri;
import io.bypass.net.Arp;
import io.bypass.net.Igmp;
import io.bypass.net.IgmpV3Report;
import io.bypass.net.Ipv4;
import io.bypass.net.Mac;
import io.bypass.net.NeighbourTable;
import io.bypass.net.RefFrames;
import io.bypass.testing.MemoryPort;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;

import static io.bypass.net.RefFrames.get16;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The protocol layer end to end over an in-memory port pair: either two endpoints, or an
 * endpoint facing a raw port whose frames the test decodes with its own reference code.
 */
class L2UdpEndpointTest {
    private static final long MAC_A = 0x02_00_00_00_00_0AL;
    private static final long MAC_B = 0x02_00_00_00_00_0BL;
    private static final int IP_A = Ipv4.parse("10.0.0.1");
    private static final int IP_B = Ipv4.parse("10.0.0.2");
    private static final int GROUP = Ipv4.parse("239.1.1.1");
    private static final int GROUP2 = Ipv4.parse("239.2.2.2");
    private static final int PORT = 9000;
    private static final int GROUP_PORT = 30001;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final List<byte[]> received = new ArrayList<>();
    private final List<int[]> receivedMeta = new ArrayList<>();
    private final DatagramHandler collect = (buffer, offset, length, meta) -> {
        final byte[] bytes = new byte[length];
        buffer.getBytes(offset, bytes);
        received.add(bytes);
        receivedMeta.add(new int[] {meta.sourceAddress(), meta.sourcePort(), meta.destinationAddress(), meta.destinationPort()});
    };
    private final DatagramClaim claim = new DatagramClaim();

    @AfterEach
    void closeAll() throws Exception {
        for (final AutoCloseable c : toClose) {
            c.close();
        }
    }

    private static MemoryPort.Config configA() {
        return new MemoryPort.Config().mac("02:00:00:00:00:0a").ipv4("10.0.0.1", 24).uri("memory:a");
    }

    private static MemoryPort.Config configB() {
        return new MemoryPort.Config().mac("02:00:00:00:00:0b").ipv4("10.0.0.2", 24).uri("memory:b");
    }

    private L2UdpEndpoint endpoint(final MemoryPort port) {
        final L2UdpEndpoint e = new L2UdpEndpoint(port, port.uri(), true);
        toClose.add(e);
        return e;
    }

    private L2UdpEndpoint endpoint(final MemoryPort port, final CachedNanoClock clock) {
        final L2UdpEndpoint e = new L2UdpEndpoint(port, port.uri(), true, clock);
        toClose.add(e);
        return e;
    }

    private MemoryPort.Pair pair(final MemoryPort.Config a, final MemoryPort.Config b) {
        final MemoryPort.Pair pair = MemoryPort.pair(a, b);
        toClose.add(pair.a());
        toClose.add(pair.b());
        return pair;
    }

    /** Copies every frame waiting on a raw port. */
    private static List<byte[]> drain(final MemoryPort port) {
        return port.drain();
    }

    private static void send(final MemoryPort raw, final byte[] frame) {
        final FrameClaim c = new FrameClaim();
        assertTrue(raw.txQueue(0).tryClaim(frame.length, c));
        c.buffer().putBytes(c.offset(), frame);
        c.commit();
        raw.txQueue(0).flush();
    }

    private static long mac(final byte[] f, final int off) {
        long m = 0;
        for (int i = 0; i < 6; i++) {
            m = (m << 8) | (f[off + i] & 0xFF);
        }
        return m;
    }

    private static int int32(final byte[] f, final int off) {
        return (get16(f, off) << 16) | get16(f, off + 2);
    }

    @Test
    void unicastAfterArpBetweenTwoEndpoints() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final L2UdpEndpoint a = endpoint(pair.a());
        final L2UdpEndpoint b = endpoint(pair.b());
        b.bind(PORT);
        assertEquals(List.of(new FlowRule(IP_B, PORT)), pair.b().flows());
        final UdpDestination toB = UdpDestination.of(IP_B, PORT);

        assertEquals(UdpEndpoint.NEIGHBOUR_PENDING, a.tryClaim(toB, 5, claim));
        assertFalse(claim.isClaimed());
        assertEquals(1, a.counters().get(Counter.DROP_NEIGHBOUR_UNRESOLVED));
        assertEquals(0, b.poll(collect, 16), "the ARP request is consumed, not delivered");
        assertEquals(1, b.counters().get(Counter.RX_CONTROL));
        assertEquals(MAC_A, b.neighbours().lookup(IP_A), "learned from the request");
        assertEquals(0, a.poll(collect, 16));
        assertEquals(MAC_B, a.neighbours().lookup(IP_B), "learned from the reply");

        final byte[] payload = "hello".getBytes();
        assertEquals(UdpEndpoint.OK, a.send(toB, new UnsafeBuffer(payload), 0, payload.length));
        assertEquals(1, a.flush());
        assertEquals(1, b.poll(collect, 16));
        assertArrayEquals(payload, received.get(0));
        assertArrayEquals(new int[] {IP_A, a.localPort(), IP_B, PORT}, receivedMeta.get(0));
        assertEquals(1, b.counters().get(Counter.RX_PACKETS));
        assertEquals(5, b.counters().get(Counter.RX_BYTES));
        assertEquals(0, b.counters().totalDrops());

        // and back, now that both sides know each other
        a.bind(PORT + 1);
        assertEquals(UdpEndpoint.OK, b.tryClaim(UdpDestination.of(IP_A, PORT + 1), 3, claim));
        claim.buffer().putBytes(claim.offset(), new byte[] {7, 8, 9});
        claim.commit();
        b.flush();
        assertEquals(1, a.poll(collect, 16));
        assertArrayEquals(new byte[] {7, 8, 9}, received.get(1));
        assertArrayEquals(new int[] {IP_B, PORT, IP_A, PORT + 1}, receivedMeta.get(1));
    }

    @Test
    void arpRequestIsWellFormedAndRateLimited() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final L2UdpEndpoint a = endpoint(pair.a());
        final UdpDestination toB = UdpDestination.of(IP_B, PORT);
        assertEquals(UdpEndpoint.NEIGHBOUR_PENDING, a.tryClaim(toB, 5, claim));
        assertEquals(UdpEndpoint.NEIGHBOUR_PENDING, a.tryClaim(toB, 5, claim));
        final List<byte[]> frames = drain(pair.b());
        assertEquals(1, frames.size(), "one request per retry interval");
        final byte[] f = frames.get(0);
        assertEquals(60, f.length);
        assertEquals(Mac.BROADCAST, mac(f, 0));
        assertEquals(MAC_A, mac(f, 6));
        assertEquals(0x0806, get16(f, 12));
        assertEquals(1, get16(f, 14));
        assertEquals(0x0800, get16(f, 16));
        assertEquals(6, f[18]);
        assertEquals(4, f[19]);
        assertEquals(Arp.OP_REQUEST, get16(f, 20));
        assertEquals(MAC_A, mac(f, 22));
        assertEquals(IP_A, int32(f, 28));
        assertEquals(0, mac(f, 32));
        assertEquals(IP_B, int32(f, 38));
        assertEquals(NeighbourTable.INCOMPLETE, a.neighbours().state(IP_B, System.nanoTime()));
        assertEquals(2, a.counters().get(Counter.DROP_NEIGHBOUR_UNRESOLVED));
    }

    @Test
    void arpRetriesAfterTheIntervalAndReprobesStaleNeighbours() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final CachedNanoClock clock = new CachedNanoClock();
        clock.update(5_000_000_000L);
        final L2UdpEndpoint a = endpoint(pair.a(), clock);
        final UdpDestination toB = UdpDestination.of(IP_B, PORT);
        assertEquals(UdpEndpoint.NEIGHBOUR_PENDING, a.tryClaim(toB, 1, claim));
        clock.advance(999_000_000L);
        assertEquals(UdpEndpoint.NEIGHBOUR_PENDING, a.tryClaim(toB, 1, claim));
        assertEquals(1, drain(pair.b()).size(), "rate-limited within the second");
        clock.advance(1_000_000L);
        assertEquals(UdpEndpoint.NEIGHBOUR_PENDING, a.tryClaim(toB, 1, claim));
        assertEquals(1, drain(pair.b()).size(), "retried after a second");

        send(pair.b(), RefFrames.arp(MAC_A, Arp.OP_REPLY, MAC_B, IP_B, MAC_A, IP_A));
        a.poll(collect, 16);
        assertEquals(UdpEndpoint.OK, a.tryClaim(toB, 1, claim));
        claim.commit();
        a.flush();
        assertEquals(1, drain(pair.b()).size(), "fresh: just the datagram");

        clock.advance(30_000_000_001L);
        pollUntilTheClockIsRead(a);
        assertEquals(NeighbourTable.STALE, a.neighbours().state(IP_B, clock.nanoTime()));
        assertEquals(UdpEndpoint.OK, a.tryClaim(toB, 1, claim), "a stale MAC is still used");
        claim.commit();
        assertEquals(UdpEndpoint.OK, a.tryClaim(toB, 1, claim));
        claim.commit();
        a.flush();
        final List<byte[]> frames = drain(pair.b());
        assertEquals(3, frames.size(), "one re-probe, then both datagrams");
        assertEquals(Mac.BROADCAST, mac(frames.get(0), 0), "re-probe is broadcast: a changed MAC still hears it");
        assertEquals(0x0806, get16(frames.get(0), 12));
        assertEquals(MAC_B, mac(frames.get(1), 0));
        assertEquals(MAC_B, mac(frames.get(2), 0));
    }

    /** The endpoint reads its neighbour clock after every 16th poll (NextHopResolver.afterPoll), idle ones included. */
    private void pollUntilTheClockIsRead(final L2UdpEndpoint endpoint) {
        for (int i = 0; i < 16; i++) {
            endpoint.poll(collect, 16);
        }
    }

    @Test
    void anArpReplyAfterALongSilenceIsStampedWithItsArrival() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final CachedNanoClock clock = new CachedNanoClock();
        clock.update(5_000_000_000L);
        final L2UdpEndpoint a = endpoint(pair.a(), clock);
        final UdpDestination toB = UdpDestination.of(IP_B, PORT);
        assertEquals(UdpEndpoint.NEIGHBOUR_PENDING, a.tryClaim(toB, 1, claim));
        assertEquals(1, drain(pair.b()).size(), "the ARP request");
        // the reply comes after 40 s in which the endpoint was not polled
        clock.advance(40_000_000_000L);
        send(pair.b(), RefFrames.arp(MAC_A, Arp.OP_REPLY, MAC_B, IP_B, MAC_A, IP_A));
        a.poll(collect, 16);
        assertEquals(NeighbourTable.REACHABLE, a.neighbours().state(IP_B, clock.nanoTime()));
        assertEquals(UdpEndpoint.OK, a.tryClaim(toB, 1, claim));
        claim.commit();
        a.flush();
        assertEquals(1, drain(pair.b()).size(), "just the datagram: no re-probe of a neighbour learned now");
    }

    @Test
    void anEndpointBusyOnEveryPollStillSeesNeighboursAge() {
        final MemoryPort.Config ca = configA()
            .capabilities(EnumSet.of(Capability.L2_FRAMES, Capability.KERNEL_NEIGHBOURS))
            .neighbourResolver(ip -> ip == IP_B ? MAC_B : -1);
        final MemoryPort.Pair pair = pair(ca, configB());
        final CachedNanoClock clock = new CachedNanoClock();
        final L2UdpEndpoint a = endpoint(pair.a(), clock);
        a.bind(PORT);
        final UdpDestination toB = UdpDestination.of(IP_B, PORT);
        assertEquals(UdpEndpoint.OK, a.tryClaim(toB, 1, claim));
        claim.commit();
        assertEquals(1, pair.a().neighbourQueries().size());
        clock.advance(31_000_000_000L);
        // 16 polls in a row that each deliver a datagram: the clock is read on the 16th at the latest, as when idle
        for (int i = 0; i < 16; i++) {
            send(pair.b(), RefFrames.udp(MAC_A, -1, IP_B, IP_A, 40000, PORT, new byte[] {(byte) i}));
            assertEquals(1, a.poll(collect, 16));
        }
        assertEquals(UdpEndpoint.OK, a.tryClaim(toB, 1, claim));
        claim.commit();
        assertEquals(2, pair.a().neighbourQueries().size(), "asked again once stale");
    }

    @Test
    void kernelNeighboursAreAskedAgainWhenStale() {
        final long[] answer = {MAC_B};
        final MemoryPort.Config ca = configA()
            .capabilities(EnumSet.of(Capability.L2_FRAMES, Capability.KERNEL_NEIGHBOURS))
            .neighbourResolver(ip -> ip == IP_B ? answer[0] : -1);
        final MemoryPort.Pair pair = pair(ca, configB());
        final CachedNanoClock clock = new CachedNanoClock();
        final L2UdpEndpoint a = endpoint(pair.a(), clock);
        final UdpDestination toB = UdpDestination.of(IP_B, PORT);
        assertEquals(UdpEndpoint.OK, a.tryClaim(toB, 1, claim));
        claim.commit();
        for (int i = 0; i < 10; i++) {
            assertEquals(UdpEndpoint.OK, a.tryClaim(toB, 1, claim));
            claim.commit();
        }
        assertEquals(1, pair.a().neighbourQueries().size(), "cached while fresh");
        answer[0] = 0x02_00_00_00_00_BBL;
        clock.advance(31_000_000_000L);
        pollUntilTheClockIsRead(a);
        assertEquals(UdpEndpoint.OK, a.tryClaim(toB, 1, claim));
        claim.commit();
        assertEquals(2, pair.a().neighbourQueries().size(), "asked again once stale");
        assertEquals(UdpEndpoint.OK, a.tryClaim(toB, 1, claim));
        claim.commit();
        a.flush();
        final List<byte[]> frames = drain(pair.b());
        assertEquals(13, frames.size());
        assertEquals(MAC_B, mac(frames.get(10), 0));
        assertEquals(0x02_00_00_00_00_BBL, mac(frames.get(11), 0), "the kernel's new answer is used at once");
        assertEquals(0x02_00_00_00_00_BBL, mac(frames.get(12), 0));
    }

    @Test
    void datagramHeadersVerifyWithReferenceChecksums() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final L2UdpEndpoint a = endpoint(pair.a());
        send(pair.b(), RefFrames.arp(MAC_A, Arp.OP_REPLY, MAC_B, IP_B, MAC_A, IP_A));
        a.poll(collect, 16);
        assertEquals(MAC_B, a.neighbours().lookup(IP_B));

        for (final int length : new int[] {0, 1, 17, 18, 19, 100, a.maxPayloadLength()}) {
            assertEquals(UdpEndpoint.OK, a.tryClaim(UdpDestination.of(IP_B, PORT), length, claim));
            assertEquals(length, claim.length());
            for (int i = 0; i < length; i++) {
                claim.buffer().putByte(i, (byte) (i * 7));
            }
            claim.commit();
            a.flush();
            final List<byte[]> frames = drain(pair.b());
            assertEquals(1, frames.size());
            final byte[] f = frames.get(0);
            assertEquals(Math.max(60, 42 + length), f.length, "padded to the Ethernet minimum");
            assertEquals(MAC_B, mac(f, 0));
            assertEquals(MAC_A, mac(f, 6));
            assertEquals(0x0800, get16(f, 12));
            assertEquals(0x45, f[14]);
            assertEquals(28 + length, get16(f, 16));
            assertEquals(0x4000, get16(f, 20), "DF, no fragment");
            assertEquals(64, f[22] & 0xFF);
            assertEquals(17, f[23]);
            assertEquals(0, RefFrames.checksum(f, 14, 20, 0), "IPv4 header checksum");
            assertEquals(IP_A, int32(f, 26));
            assertEquals(IP_B, int32(f, 30));
            assertEquals(a.localPort(), get16(f, 34));
            assertEquals(PORT, get16(f, 36));
            assertEquals(8 + length, get16(f, 38));
            assertNotEquals(0, get16(f, 40), "checksum present");
            assertEquals(0, RefFrames.checksum(f, 34, 8 + length, RefFrames.pseudo(IP_A, IP_B, 8 + length)), "UDP checksum");
            for (int i = 0; i < length; i++) {
                assertEquals((byte) (i * 7), f[42 + i]);
            }
            for (int i = 42 + length; i < f.length; i++) {
                assertEquals(0, f[i], "padding is zero");
            }
        }
    }

    @Test
    void checksumOffloadLeavesThePseudoHeaderSum() {
        final MemoryPort.Pair pair = pair(configA().capabilities(EnumSet.of(Capability.L2_FRAMES, Capability.TX_CHECKSUM_OFFLOAD)), configB());
        final L2UdpEndpoint a = endpoint(pair.a());
        final int group = GROUP;
        assertEquals(UdpEndpoint.OK, a.send(UdpDestination.of(group, GROUP_PORT), new UnsafeBuffer(new byte[10]), 0, 10));
        a.flush();
        final byte[] f = drain(pair.b()).get(0);
        final long pseudo = RefFrames.pseudo(IP_A, group, 18);
        long folded = pseudo;
        while ((folded >>> 16) != 0) {
            folded = (folded & 0xFFFF) + (folded >>> 16);
        }
        assertEquals(folded, get16(f, 40));
        assertEquals(0, RefFrames.checksum(f, 14, 20, 0), "IPv4 header checksum is always filled");
    }

    @Test
    void answersArpRequestsForItsAddressOnly() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final L2UdpEndpoint a = endpoint(pair.a());
        send(pair.b(), RefFrames.arp(Mac.BROADCAST, Arp.OP_REQUEST, MAC_B, IP_B, 0, IP_A));
        a.poll(collect, 16);
        final List<byte[]> replies = drain(pair.b());
        assertEquals(1, replies.size());
        final byte[] r = replies.get(0);
        assertEquals(MAC_B, mac(r, 0));
        assertEquals(MAC_A, mac(r, 6));
        assertEquals(0x0806, get16(r, 12));
        assertEquals(Arp.OP_REPLY, get16(r, 20));
        assertEquals(MAC_A, mac(r, 22));
        assertEquals(IP_A, int32(r, 28));
        assertEquals(MAC_B, mac(r, 32));
        assertEquals(IP_B, int32(r, 38));
        assertEquals(MAC_B, a.neighbours().lookup(IP_B));

        send(pair.b(), RefFrames.arp(Mac.BROADCAST, Arp.OP_REQUEST, MAC_B, IP_B, 0, Ipv4.parse("10.0.0.99")));
        a.poll(collect, 16);
        assertEquals(0, drain(pair.b()).size(), "not our address: no reply");
        assertEquals(1, a.counters().get(Counter.DROP_NOT_OURS));
    }

    @Test
    void gratuitousArpUpdatesKnownNeighboursOnly() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final L2UdpEndpoint a = endpoint(pair.a());
        send(pair.b(), RefFrames.arp(MAC_A, Arp.OP_REPLY, MAC_B, IP_B, MAC_A, IP_A));
        a.poll(collect, 16);
        assertEquals(MAC_B, a.neighbours().lookup(IP_B));
        final long newMac = 0x02_00_00_00_00_BBL;
        send(pair.b(), RefFrames.arp(Mac.BROADCAST, Arp.OP_REQUEST, newMac, IP_B, 0, IP_B));
        final int stranger = Ipv4.parse("10.0.0.7");
        send(pair.b(), RefFrames.arp(Mac.BROADCAST, Arp.OP_REPLY, newMac, stranger, Mac.BROADCAST, stranger));
        a.poll(collect, 16);
        assertEquals(newMac, a.neighbours().lookup(IP_B), "failover announced by gratuitous ARP");
        assertEquals(NeighbourTable.NO_MAC, a.neighbours().lookup(stranger), "not added: we never asked");
        assertEquals(0, drain(pair.b()).size(), "gratuitous ARP is not answered");
        assertEquals(3, a.counters().get(Counter.RX_CONTROL));
    }

    @Test
    void staleCommitIsRefused() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final L2UdpEndpoint a = endpoint(pair.a());
        final UdpDestination group = UdpDestination.of(GROUP, 1);
        assertEquals(UdpEndpoint.OK, a.tryClaim(group, 10, claim));
        claim.commit();
        assertThrows(IllegalStateException.class, () -> a.commit(1, 10), "already committed");
        assertEquals(1, a.flush());
    }

    @Test
    void multicastBetweenTwoEndpointsAndNotJoinedDropped() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final L2UdpEndpoint a = endpoint(pair.a());
        final L2UdpEndpoint b = endpoint(pair.b());
        b.join(GROUP, GROUP_PORT);
        assertEquals(List.of(new FlowRule(GROUP, GROUP_PORT)), pair.b().flows());
        assertEquals(Map.of(GROUP, 1), pair.b().multicastGroups());
        a.poll(collect, 16); // consumes b's IGMP report (to 224.0.0.22: not ours)

        final byte[] payload = {1, 2, 3, 4};
        assertEquals(UdpEndpoint.OK, a.send(UdpDestination.of(GROUP, GROUP_PORT), new UnsafeBuffer(payload), 0, 4));
        assertEquals(UdpEndpoint.OK, a.send(UdpDestination.of(GROUP, GROUP_PORT + 1), new UnsafeBuffer(payload), 0, 4));
        assertEquals(UdpEndpoint.OK, a.send(UdpDestination.of(GROUP2, GROUP_PORT), new UnsafeBuffer(payload), 0, 4));
        a.flush();
        assertEquals(1, b.poll(collect, 16));
        assertArrayEquals(payload, received.get(0));
        assertArrayEquals(new int[] {IP_A, a.localPort(), GROUP, GROUP_PORT}, receivedMeta.get(0));
        assertEquals(2, b.counters().get(Counter.DROP_NOT_OURS), "other port and group not joined");

        b.leave(GROUP, GROUP_PORT);
        assertEquals(List.of(), pair.b().flows());
        assertEquals(Map.of(), pair.b().multicastGroups());
        assertEquals(UdpEndpoint.OK, a.send(UdpDestination.of(GROUP, GROUP_PORT), new UnsafeBuffer(payload), 0, 4));
        a.flush();
        assertEquals(0, b.poll(collect, 16));
        assertEquals(3, b.counters().get(Counter.DROP_NOT_OURS), "left: no longer delivered");
    }

    private static void assertIgmpIpHeader(final byte[] f, final int destination) {
        assertEquals(Ipv4.multicastMac(destination), mac(f, 0));
        assertEquals(MAC_B, mac(f, 6));
        assertEquals(0x0800, get16(f, 12));
        assertEquals(0x46, f[14], "IHL 6: Router Alert option");
        assertEquals(0xC0, f[15] & 0xFF);
        assertEquals(1, f[22], "TTL 1");
        assertEquals(2, f[23], "IGMP");
        assertEquals(IP_B, int32(f, 26));
        assertEquals(destination, int32(f, 30));
        assertEquals(0x9404_0000, int32(f, 34));
        assertEquals(0, RefFrames.checksum(f, 14, 24, 0), "IPv4 header checksum");
        final int igmpLength = get16(f, 16) - 24;
        assertEquals(0, RefFrames.checksum(f, 38, igmpLength, 0), "IGMP checksum");
    }

    @Test
    void igmpV3ReportsOnJoinAndLeave() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final L2UdpEndpoint b = endpoint(pair.b());
        b.join(GROUP, GROUP_PORT);
        b.join(GROUP, GROUP_PORT + 1);
        final List<byte[]> joins = drain(pair.a());
        assertEquals(1, joins.size(), "one report per new group");
        final byte[] f = joins.get(0);
        assertIgmpIpHeader(f, Igmp.V3_ROUTERS);
        final IgmpV3Report report = new IgmpV3Report().wrap(new UnsafeBuffer(f), 38, get16(f, 16) - 24);
        assertTrue(report.isWellFormed());
        assertEquals(1, report.numberOfGroupRecords());
        assertEquals(IgmpV3Report.CHANGE_TO_EXCLUDE_MODE, report.recordType(0));
        assertEquals(GROUP, report.recordGroup(0));
        assertEquals(0, report.recordNumberOfSources(0));

        b.leave(GROUP, GROUP_PORT);
        assertEquals(0, drain(pair.a()).size(), "another port still joined");
        b.leave(GROUP, GROUP_PORT + 1);
        final byte[] leave = drain(pair.a()).get(0);
        assertIgmpIpHeader(leave, Igmp.V3_ROUTERS);
        final IgmpV3Report l = new IgmpV3Report().wrap(new UnsafeBuffer(leave), 38, get16(leave, 16) - 24);
        assertEquals(IgmpV3Report.CHANGE_TO_INCLUDE_MODE, l.recordType(0));
        assertEquals(GROUP, l.recordGroup(0));
    }

    @Test
    void igmpV2ReportsOnJoinAndLeave() {
        final MemoryPort.Pair pair = pair(configA(), configB().uri("memory:b?igmp=2"));
        final L2UdpEndpoint b = endpoint(pair.b());
        b.join(GROUP, GROUP_PORT);
        final byte[] f = drain(pair.a()).get(0);
        assertIgmpIpHeader(f, GROUP);
        assertEquals(Igmp.TYPE_V2_MEMBERSHIP_REPORT, f[38] & 0xFF);
        assertEquals(GROUP, int32(f, 42));
        b.leave(GROUP, GROUP_PORT);
        final byte[] leave = drain(pair.a()).get(0);
        assertIgmpIpHeader(leave, Igmp.ALL_ROUTERS);
        assertEquals(Igmp.TYPE_V2_LEAVE_GROUP, leave[38] & 0xFF);
        assertEquals(GROUP, int32(leave, 42));
    }

    @Test
    void answersIgmpQueriesForJoinedGroups() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final L2UdpEndpoint b = endpoint(pair.b());
        b.join(GROUP, GROUP_PORT);
        b.join(GROUP2, GROUP_PORT);
        drain(pair.a());

        // v2 general query: one v2 report per group, to the group
        send(pair.a(), RefFrames.igmp(Igmp.ALL_SYSTEMS, RefFrames.igmpQuery(0, false, 100)));
        b.poll(collect, 16);
        final List<byte[]> v2 = drain(pair.a());
        assertEquals(2, v2.size());
        final List<Integer> reported = new ArrayList<>();
        for (final byte[] f : v2) {
            assertEquals(Igmp.TYPE_V2_MEMBERSHIP_REPORT, f[38] & 0xFF);
            assertIgmpIpHeader(f, int32(f, 42));
            reported.add(int32(f, 42));
        }
        assertTrue(reported.containsAll(List.of(GROUP, GROUP2)));

        // v3 general query: one v3 report with a MODE_IS_EXCLUDE record per group
        send(pair.a(), RefFrames.igmp(Igmp.ALL_SYSTEMS, RefFrames.igmpQuery(0, true, 100)));
        b.poll(collect, 16);
        final byte[] v3 = drain(pair.a()).get(0);
        assertIgmpIpHeader(v3, Igmp.V3_ROUTERS);
        final IgmpV3Report r = new IgmpV3Report().wrap(new UnsafeBuffer(v3), 38, get16(v3, 16) - 24);
        assertEquals(2, r.numberOfGroupRecords());
        assertEquals(IgmpV3Report.MODE_IS_EXCLUDE, r.recordType(0));
        assertEquals(IgmpV3Report.MODE_IS_EXCLUDE, r.recordType(1));
        assertTrue(List.of(r.recordGroup(0), r.recordGroup(1)).containsAll(List.of(GROUP, GROUP2)));

        // group-specific query for a joined group: that group only
        send(pair.a(), RefFrames.igmp(GROUP, RefFrames.igmpQuery(GROUP, false, 100)));
        b.poll(collect, 16);
        final List<byte[]> specific = drain(pair.a());
        assertEquals(1, specific.size());
        assertEquals(GROUP, int32(specific.get(0), 42));

        // a query for a group not joined is not ours; nothing answered
        final int other = Ipv4.parse("239.9.9.9");
        send(pair.a(), RefFrames.igmp(other, RefFrames.igmpQuery(other, false, 100)));
        b.poll(collect, 16);
        assertEquals(0, drain(pair.a()).size());
        assertEquals(1, b.counters().get(Counter.DROP_NOT_OURS));
        assertEquals(3, b.counters().get(Counter.RX_CONTROL));
    }

    @Test
    void generalV3QueryWithManyGroupsSplitsReportsByMtu() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final L2UdpEndpoint b = endpoint(pair.b());
        final int groups = 200;
        for (int i = 0; i < groups; i++) {
            b.join(Ipv4.parse("239.10.0.0") + i, GROUP_PORT);
        }
        assertEquals(groups, drain(pair.a()).size(), "one report per join");
        send(pair.a(), RefFrames.igmp(Igmp.ALL_SYSTEMS, RefFrames.igmpQuery(0, true, 100)));
        b.poll(collect, 16);
        final List<byte[]> reports = drain(pair.a());
        assertEquals(2, reports.size(), "(1500 - 24 - 8) / 8 = 183 records fit one frame");
        final java.util.Set<Integer> reported = new java.util.HashSet<>();
        for (final byte[] f : reports) {
            assertTrue(f.length - 14 <= 1500, "within the MTU");
            assertIgmpIpHeader(f, Igmp.V3_ROUTERS);
            final IgmpV3Report r = new IgmpV3Report().wrap(new UnsafeBuffer(f), 38, get16(f, 16) - 24);
            assertTrue(r.isWellFormed());
            for (int i = 0; i < r.numberOfGroupRecords(); i++) {
                assertEquals(IgmpV3Report.MODE_IS_EXCLUDE, r.recordType(i));
                reported.add(r.recordGroup(i));
            }
        }
        assertEquals(groups, reported.size(), "every joined group reported once");
    }

    @Test
    void kernelNeighboursMeansNoArpNoIgmpAndKernelResolution() {
        final MemoryPort.Config ca = configA()
            .capabilities(EnumSet.of(Capability.L2_FRAMES, Capability.KERNEL_NEIGHBOURS, Capability.FLOW_STEERING))
            .neighbourResolver(ip -> ip == IP_B ? MAC_B : -1);
        final MemoryPort.Pair pair = pair(ca, configB());
        final L2UdpEndpoint a = endpoint(pair.a());
        assertEquals(UdpEndpoint.OK, a.tryClaim(UdpDestination.of(IP_B, PORT), 4, claim), "resolved by the kernel at once");
        claim.commit();
        a.flush();
        assertEquals(List.of(IP_B), pair.a().neighbourQueries());
        final byte[] f = drain(pair.b()).get(0);
        assertEquals(MAC_B, mac(f, 0));
        assertEquals(0x0800, get16(f, 12), "a datagram, no ARP request");

        final int unknown = Ipv4.parse("10.0.0.3");
        assertEquals(UdpEndpoint.NEIGHBOUR_PENDING, a.tryClaim(UdpDestination.of(unknown, PORT), 4, claim));
        assertEquals(0, drain(pair.b()).size(), "no ARP from us: the kernel resolves");

        a.join(GROUP, GROUP_PORT);
        assertEquals(0, drain(pair.b()).size(), "no IGMP from us: the kernel joins");
        assertEquals(Map.of(GROUP, 1), pair.a().multicastGroups());

        send(pair.b(), RefFrames.arp(Mac.BROADCAST, Arp.OP_REQUEST, MAC_B, IP_B, 0, IP_A));
        send(pair.b(), RefFrames.igmp(Igmp.ALL_SYSTEMS, RefFrames.igmpQuery(0, true, 100)));
        a.poll(collect, 16);
        assertEquals(0, drain(pair.b()).size(), "ARP and IGMP left to the kernel");
        assertEquals(2, a.counters().get(Counter.DROP_NOT_OURS));
    }

    @Test
    void routesOffSubnetViaGatewayOrDrops() {
        final MemoryPort.Pair noGateway = pair(configA(), configB());
        final L2UdpEndpoint a = endpoint(noGateway.a());
        assertEquals(UdpEndpoint.NEIGHBOUR_PENDING, a.tryClaim(UdpDestination.of("192.168.1.1", PORT), 4, claim));
        assertEquals(1, a.counters().get(Counter.DROP_NEIGHBOUR_UNRESOLVED));
        assertEquals(0, drain(noGateway.b()).size(), "nowhere to send");

        final MemoryPort.Pair withGateway = pair(configA().gateway("10.0.0.254"), configB());
        final L2UdpEndpoint g = endpoint(withGateway.a());
        assertEquals(UdpEndpoint.NEIGHBOUR_PENDING, g.tryClaim(UdpDestination.of("192.168.1.1", PORT), 4, claim));
        final byte[] request = drain(withGateway.b()).get(0);
        assertEquals(Ipv4.parse("10.0.0.254"), int32(request, 38), "ARP for the gateway");
        send(withGateway.b(), RefFrames.arp(MAC_A, Arp.OP_REPLY, 0x02_00_00_00_00_FEL, Ipv4.parse("10.0.0.254"), MAC_A, IP_A));
        g.poll(collect, 16);
        assertEquals(UdpEndpoint.OK, g.tryClaim(UdpDestination.of("192.168.1.1", PORT), 4, claim));
        claim.commit();
        g.flush();
        final byte[] f = drain(withGateway.b()).get(0);
        assertEquals(0x02_00_00_00_00_FEL, mac(f, 0), "to the gateway's MAC");
        assertEquals(Ipv4.parse("192.168.1.1"), int32(f, 30), "for the far address");
    }

    @Test
    void tooLongAndMaxPayload() {
        final MemoryPort.Pair pair = pair(configA().ring(8, 256), configB());
        final L2UdpEndpoint a = endpoint(pair.a());
        assertEquals(256 - 42, a.maxPayloadLength());
        assertEquals(UdpEndpoint.TOO_LONG, a.tryClaim(UdpDestination.of(GROUP, 1), 256 - 41, claim));
        assertEquals(1, a.counters().get(Counter.DROP_TOO_LONG));
        assertEquals(UdpEndpoint.OK, a.tryClaim(UdpDestination.of(GROUP, 1), 256 - 42, claim));
        claim.abort();
        assertThrows(IllegalArgumentException.class, () -> a.tryClaim(UdpDestination.of(GROUP, 1), -1, claim));

        final MemoryPort.Pair mtu = pair(configA().mtu(1000), configB());
        assertEquals(1000 - 28, endpoint(mtu.a()).maxPayloadLength());
    }

    @Test
    void backPressureWhenTheRingIsFull() {
        final MemoryPort.Pair pair = pair(configA().ring(4, 2048), configB());
        final L2UdpEndpoint a = endpoint(pair.a());
        final L2UdpEndpoint b = endpoint(pair.b());
        b.join(GROUP, GROUP_PORT);
        a.poll(collect, 16);
        final UdpDestination group = UdpDestination.of(GROUP, GROUP_PORT);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[8]);
        for (int i = 0; i < 4; i++) {
            assertEquals(UdpEndpoint.OK, a.send(group, payload, 0, 8));
        }
        assertEquals(UdpEndpoint.BACK_PRESSURED, a.send(group, payload, 0, 8));
        assertEquals(1, a.counters().get(Counter.TX_BACK_PRESSURED));
        assertEquals(4, a.flush());
        assertEquals(UdpEndpoint.BACK_PRESSURED, a.send(group, payload, 0, 8), "still in flight until the peer polls");
        assertEquals(4, b.poll(collect, 16));
        assertEquals(UdpEndpoint.OK, a.send(group, payload, 0, 8));
    }

    @Test
    void pollHonoursLimitAndKeepsOrder() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final L2UdpEndpoint a = endpoint(pair.a());
        final L2UdpEndpoint b = endpoint(pair.b());
        b.join(GROUP, GROUP_PORT);
        a.poll(collect, 16);
        for (int i = 0; i < 10; i++) {
            assertEquals(UdpEndpoint.OK, a.send(UdpDestination.of(GROUP, GROUP_PORT), new UnsafeBuffer(new byte[] {(byte) i}), 0, 1));
        }
        a.flush();
        assertEquals(3, b.poll(collect, 3));
        assertEquals(3, b.counters().get(Counter.RX_PACKETS));
        assertEquals(7, b.poll(collect, 64));
        for (int i = 0; i < 10; i++) {
            assertEquals(i, received.get(i)[0]);
        }
    }

    @Test
    void rxCountsAreDatagramsEvenWhenThePortCountsFrames() {
        final MemoryPort.Pair pair = pair(configA(), configB().countRx(true));
        final L2UdpEndpoint a = endpoint(pair.a());
        final L2UdpEndpoint b = endpoint(pair.b());
        b.join(GROUP, GROUP_PORT);
        a.poll(collect, 16);
        for (int i = 0; i < 5; i++) {
            assertEquals(UdpEndpoint.OK, a.send(UdpDestination.of(GROUP, GROUP_PORT), new UnsafeBuffer(new byte[10 + i]), 0, 10 + i));
        }
        assertEquals(UdpEndpoint.OK, a.send(UdpDestination.of(GROUP2, GROUP_PORT), new UnsafeBuffer(new byte[3]), 0, 3));
        a.flush();
        assertEquals(5, b.poll(collect, 16));
        assertEquals(5, b.counters().get(Counter.RX_PACKETS), "datagrams, not frames");
        assertEquals(10 + 11 + 12 + 13 + 14, b.counters().get(Counter.RX_BYTES), "payload bytes");
        assertEquals(1, b.counters().get(Counter.DROP_NOT_OURS));
        assertEquals(6, pair.b().counters().get(Counter.RX_PACKETS), "the port's own counters keep its frames");
        assertEquals(0, b.poll(collect, 16), "nothing more");
        assertEquals(5, b.counters().get(Counter.RX_PACKETS), "an empty poll adds nothing");
        assertEquals(6, a.counters().get(Counter.TX_PACKETS), "frames the port sent");
    }

    @Test
    void commitShorterAndAbort() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final L2UdpEndpoint a = endpoint(pair.a());
        final L2UdpEndpoint b = endpoint(pair.b());
        b.join(GROUP, GROUP_PORT);
        a.poll(collect, 16);
        final UdpDestination group = UdpDestination.of(GROUP, GROUP_PORT);
        assertEquals(UdpEndpoint.OK, a.tryClaim(group, 100, claim));
        claim.abort();
        assertEquals(UdpEndpoint.OK, a.tryClaim(group, 100, claim));
        assertThrows(IllegalStateException.class, () -> a.tryClaim(group, 1, new DatagramClaim()), "one claim at a time");
        claim.buffer().putInt(0, 42);
        claim.commit(4);
        a.flush();
        assertEquals(1, b.poll(collect, 16));
        assertEquals(4, received.get(0).length);
        assertEquals(42, new UnsafeBuffer(received.get(0)).getInt(0));
    }

    @Test
    void malformedFramesAreCountedNotThrown() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final L2UdpEndpoint a = endpoint(pair.a());
        a.bind(PORT);
        pair.a().inject(new byte[5]);
        final byte[] badSum = RefFrames.udp(MAC_A, -1, IP_B, IP_A, 1, PORT, new byte[8]);
        badSum[45] ^= 1;
        pair.a().inject(badSum);
        final byte[] fragment = RefFrames.udp(MAC_A, -1, IP_B, IP_A, 1, PORT, new byte[8]);
        RefFrames.put16(fragment, 20, 0x2000);
        RefFrames.fixIpChecksum(fragment, 14);
        pair.a().inject(fragment);
        pair.a().inject(RefFrames.udp(MAC_A, -1, IP_B, IP_A, 1, PORT, new byte[8]));
        assertEquals(1, a.poll(collect, 16));
        assertEquals(1, a.counters().get(Counter.DROP_TRUNCATED));
        assertEquals(1, a.counters().get(Counter.DROP_BAD_UDP_CHECKSUM));
        assertEquals(1, a.counters().get(Counter.DROP_IP_FRAGMENT));
        assertEquals(3, a.counters().totalDrops());
    }

    @Test
    void fuzzedFramesNeverThrowAndEachIsCountedOnce() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final L2UdpEndpoint a = endpoint(pair.a());
        a.bind(PORT);
        a.join(GROUP, GROUP_PORT);
        drain(pair.b());
        final byte[][] valid = {
            RefFrames.udp(MAC_A, -1, IP_B, IP_A, 1, PORT, new byte[16]),
            RefFrames.udp(MAC_A, 0, IP_B, IP_A, 1, PORT, new byte[3]),
            RefFrames.udp(Ipv4.multicastMac(GROUP), -1, IP_B, GROUP, 1, GROUP_PORT, new byte[40]),
            RefFrames.arp(Mac.BROADCAST, Arp.OP_REQUEST, MAC_B, IP_B, 0, IP_A),
            RefFrames.arp(MAC_A, Arp.OP_REPLY, MAC_B, IP_B, MAC_A, IP_A),
            RefFrames.arp(Mac.BROADCAST, Arp.OP_REQUEST, MAC_B, IP_B, 0, IP_B),
            RefFrames.igmp(Igmp.ALL_SYSTEMS, RefFrames.igmpQuery(0, false, 100)),
            RefFrames.igmp(Igmp.ALL_SYSTEMS, RefFrames.igmpQuery(0, true, 100)),
            RefFrames.igmp(GROUP, RefFrames.igmpQuery(GROUP, true, 100)),
        };
        final java.util.Random random = new java.util.Random(11);
        final byte[] scratch = new byte[256];
        final DatagramHandler ignore = (buffer, offset, length, meta) -> {
            if (offset < 0 || length < 0 || offset + length > buffer.capacity()) {
                throw new AssertionError("payload outside the frame");
            }
        };
        long fed = 0;
        for (int round = 0; round < 2_000; round++) {
            final int batch = 1 + random.nextInt(32);
            for (int k = 0; k < batch; k++) {
                final int length;
                final int mode = random.nextInt(4);
                if (mode == 0) {
                    random.nextBytes(scratch);
                    length = random.nextInt(200);
                } else {
                    final byte[] v = valid[random.nextInt(valid.length)];
                    java.util.Arrays.fill(scratch, (byte) 0);
                    System.arraycopy(v, 0, scratch, 0, v.length);
                    length = mode == 1 ? random.nextInt(v.length + 1) : v.length;
                    if (mode == 2) {
                        scratch[random.nextInt(v.length)] = (byte) random.nextInt();
                    }
                }
                assertTrue(pair.a().inject(scratch, 0, length));
                fed++;
            }
            a.poll(ignore, 64);
            drain(pair.b()); // replies and reports go out; keep the TX ring free
        }
        long counted = a.counters().get(Counter.RX_PACKETS) + a.counters().get(Counter.RX_CONTROL);
        for (final Counter c : Counter.values()) {
            if (c.isDrop()) {
                counted += a.counters().get(c);
            }
        }
        assertEquals(fed, counted, "every frame delivered, handled or dropped exactly once: " + a.counters());
        assertTrue(a.counters().get(Counter.RX_PACKETS) > 1_000);
        assertTrue(a.counters().get(Counter.RX_CONTROL) > 1_000);
    }

    @Test
    void sourcePortFromUriThenBind() {
        final MemoryPort.Pair pair = pair(configA().uri("memory:a?port=5555&queue=0&unicastTtl=9&multicastTtl=4"), configB());
        final L2UdpEndpoint a = endpoint(pair.a());
        assertEquals(5555, a.localPort());
        assertEquals(IP_A, a.localAddress());
        assertEquals(UdpEndpoint.OK, a.send(UdpDestination.of(GROUP, 1), new UnsafeBuffer(new byte[1]), 0, 1));
        a.flush();
        final byte[] f = drain(pair.b()).get(0);
        assertEquals(5555, get16(f, 34));
        assertEquals(4, f[22], "multicastTtl");
        a.bind(6000);
        assertEquals(6000, a.localPort());

        final MemoryPort.Pair other = pair(configA(), configB());
        final int ephemeral = endpoint(other.a()).localPort();
        assertTrue(ephemeral >= 32768 && ephemeral <= 60999, "ephemeral " + ephemeral);
    }

    @Test
    void rejectsBadArgumentsAndUris() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final L2UdpEndpoint a = endpoint(pair.a());
        final IllegalArgumentException notGroup = assertThrows(IllegalArgumentException.class, () -> a.join(IP_B, 1));
        assertTrue(notGroup.getMessage().contains("10.0.0.2 is not an IPv4 multicast address"), notGroup.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> a.bind(0)).getMessage().contains("outside 1..65535"));
        assertThrows(IllegalArgumentException.class, () -> a.bind(65536));
        assertThrows(IllegalArgumentException.class, () -> a.join(GROUP, 70000));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> a.leave(GROUP, 1)).getMessage().contains("not joined"));

        final MemoryPort.Pair p2 = pair(configA(), configB());
        final BypassUriException badQueue = assertThrows(BypassUriException.class,
            () -> new L2UdpEndpoint(p2.a(), PortUri.parse("memory:a?queue=1"), true));
        assertTrue(badQueue.getMessage().contains("queue"), badQueue.getMessage());
        assertThrows(BypassUriException.class, () -> new L2UdpEndpoint(p2.a(), PortUri.parse("memory:a?igmp=4"), true));
        assertThrows(BypassUriException.class, () -> new L2UdpEndpoint(p2.a(), PortUri.parse("memory:a?port=x"), true));
    }

    @Test
    void closeLeavesUnbindsClosesAndRefusesUse() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final L2UdpEndpoint a = endpoint(pair.a());
        a.bind(PORT);
        a.join(GROUP, GROUP_PORT);
        a.join(GROUP2, GROUP_PORT);
        drain(pair.b());
        a.close();
        assertTrue(a.isClosed());
        assertTrue(pair.a().isClosed(), "closePort=true closes the port");
        assertEquals(List.of(), pair.a().flows());
        assertEquals(Map.of(), pair.a().multicastGroups());
        final List<byte[]> leaves = drain(pair.b());
        assertEquals(2, leaves.size(), "one IGMP leave per group");
        a.close(); // idempotent

        final BypassException polled = assertThrows(BypassException.class, () -> a.poll(collect, 1));
        assertTrue(polled.getMessage().contains("endpoint closed"), polled.getMessage());
        assertThrows(BypassException.class, () -> a.tryClaim(UdpDestination.of(GROUP, 1), 1, claim));
        assertThrows(BypassException.class, () -> a.send(UdpDestination.of(GROUP, 1), new UnsafeBuffer(new byte[1]), 0, 1));
        assertThrows(BypassException.class, a::flush);
        assertThrows(BypassException.class, () -> a.bind(1));
        assertThrows(BypassException.class, () -> a.join(GROUP, 1));
        assertThrows(BypassException.class, () -> a.leave(GROUP, 1));

        final MemoryPort.Pair keep = pair(configA(), configB());
        new L2UdpEndpoint(keep.a(), keep.a().uri(), false).close();
        assertFalse(keep.a().isClosed(), "closePort=false leaves the port open");
    }

    /** A close step that fails (a flow the port no longer has) stops nothing: the rest is freed, each failure reported. */
    @Test
    void closeCarriesOnPastFailedStepsAndReportsEachOne() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final L2UdpEndpoint a = endpoint(pair.a());
        a.bind(PORT);
        final FlowRule bound = pair.a().flows().get(0);
        a.join(GROUP, GROUP_PORT);
        a.join(GROUP2, GROUP_PORT);
        drain(pair.b());
        // Fault injection: the port loses two of the endpoint's flows behind its back.
        pair.a().removeFlow(0, bound);
        pair.a().removeFlow(0, new FlowRule(GROUP, GROUP_PORT));

        final BypassException e = assertThrows(BypassException.class, a::close);
        assertTrue(e.getMessage().startsWith("closing UDP endpoint on memory:a failed part-way (every other step still ran): "
            + "leaving 239.1.1.1:30001: java.lang.IllegalArgumentException: no such flow")
            && e.getMessage().contains("; unbinding port " + PORT + ": java.lang.IllegalArgumentException"), e.getMessage());
        assertTrue(e.getCause() instanceof IllegalArgumentException, "the first failure is the cause");
        assertEquals(1, e.getSuppressed().length, "the second is suppressed");
        assertTrue(a.isClosed());
        assertTrue(pair.a().isClosed(), "the port is closed although two steps failed");
        assertEquals(List.of(), pair.a().flows(), "the other group's flow was removed");
        assertEquals(Map.of(GROUP, 1), pair.a().multicastGroups(), "only the failed group's membership is left");
        assertEquals(1, drain(pair.b()).size(), "the other group's IGMP leave was sent");
        a.close(); // idempotent: a second close reports nothing
    }

    @Test
    void closeWithOutstandingClaimAbortsIt() {
        final MemoryPort.Pair pair = pair(configA(), configB());
        final L2UdpEndpoint a = new L2UdpEndpoint(pair.a(), pair.a().uri(), false);
        assertEquals(UdpEndpoint.OK, a.tryClaim(UdpDestination.of(GROUP, 1), 10, claim));
        a.close();
        assertEquals(0, drain(pair.b()).size());
        assertThrows(IndexOutOfBoundsException.class, () -> claim.buffer().putByte(0, (byte) 1),
            "the stale claim no longer points at frame memory");
        final BypassException late = assertThrows(BypassException.class, claim::commit);
        assertTrue(late.getMessage().contains("endpoint closed"), late.getMessage());
        assertEquals(UdpEndpoint.OK, new L2UdpEndpoint(pair.a(), pair.a().uri(), false).tryClaim(UdpDestination.of(GROUP, 1), 10, new DatagramClaim()),
            "the ring is usable after the abort");
    }
}
