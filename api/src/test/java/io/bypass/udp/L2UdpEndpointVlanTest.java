package io.bypass.udp;

import io.bypass.BypassUriException;
import io.bypass.Counter;
import io.bypass.net.Arp;
import io.bypass.net.Ethernet;
import io.bypass.net.Ipv4;
import io.bypass.net.RefFrames;
import io.bypass.testing.MemoryPort;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.bypass.net.RefFrames.get16;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The URI key {@code vlan} on the shared protocol layer (issue 16, item 5): on {@code vlan=N}
 * every frame sent (datagram, ARP, IGMP) carries an 802.1Q tag with VLAN id N and only
 * frames of VLAN N are received; by default only untagged frames are; a frame of another
 * VLAN is counted as {@link Counter#DROP_WRONG_VLAN}.
 */
class L2UdpEndpointVlanTest {
    private static final int IP_A = Ipv4.parse("10.0.0.1");
    private static final int IP_B = Ipv4.parse("10.0.0.2");
    private static final int GROUP = Ipv4.parse("239.1.1.1");
    private static final int PORT = 9000;
    private static final int GROUP_PORT = 30001;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final List<byte[]> received = new ArrayList<>();
    private final DatagramHandler collect = (buffer, offset, length, meta) -> {
        final byte[] bytes = new byte[length];
        buffer.getBytes(offset, bytes);
        received.add(bytes);
    };

    @AfterEach
    void closeAll() throws Exception {
        for (final AutoCloseable c : toClose) {
            c.close();
        }
    }

    private MemoryPort.Pair pair(final String queryA, final String queryB) {
        final MemoryPort.Pair pair = MemoryPort.pair(
            new MemoryPort.Config().mac("02:00:00:00:00:0a").ipv4("10.0.0.1", 24).uri("memory:a" + queryA),
            new MemoryPort.Config().mac("02:00:00:00:00:0b").ipv4("10.0.0.2", 24).uri("memory:b" + queryB));
        toClose.add(pair.a());
        toClose.add(pair.b());
        return pair;
    }

    private L2UdpEndpoint endpoint(final MemoryPort port) {
        final L2UdpEndpoint e = new L2UdpEndpoint(port, port.uri(), true);
        toClose.add(e);
        return e;
    }

    /** Copies every frame waiting on a raw port. */
    private static List<byte[]> drain(final MemoryPort port) {
        return port.drain();
    }

    private static void assertTagged(final byte[] f, final int vlan, final int innerType, final String what) {
        assertEquals(Ethernet.ETHERTYPE_VLAN, get16(f, 12), what + ": TPID 0x8100");
        assertEquals(vlan, get16(f, 14), what + ": TCI = priority 0, VLAN id " + vlan);
        assertEquals(innerType, get16(f, 16), what + ": inner EtherType");
    }

    private static byte[] only(final List<byte[]> frames, final String what) {
        assertEquals(1, frames.size(), what);
        return frames.get(0);
    }

    @Test
    void onAVlanArpAndDatagramsAreTaggedAndReceived() {
        final MemoryPort.Pair pair = pair("?vlan=7", "?vlan=7");
        final L2UdpEndpoint a = endpoint(pair.a());
        final L2UdpEndpoint b = endpoint(pair.b());
        b.bind(PORT);
        final UdpDestination toB = UdpDestination.of(IP_B, PORT);
        final DatagramClaim claim = new DatagramClaim();
        assertEquals(UdpEndpoint.NEIGHBOUR_PENDING, a.tryClaim(toB, 5, claim));

        final byte[] request = only(drain(pair.b()), "one ARP request");
        assertTagged(request, 7, Ethernet.ETHERTYPE_ARP, "ARP request");
        assertEquals(60, request.length, "the minimum frame, tag included (802.1Q keeps the 64-byte minimum with FCS)");
        assertEquals(Arp.OP_REQUEST, get16(request, 18 + 6));
        pair.b().inject(request);
        assertEquals(0, b.poll(collect, 16));
        assertEquals(1, b.counters().get(Counter.RX_CONTROL), "the tagged request is ours");
        final byte[] reply = only(drain(pair.a()), "one ARP reply");
        assertTagged(reply, 7, Ethernet.ETHERTYPE_ARP, "ARP reply");
        assertEquals(Arp.OP_REPLY, get16(reply, 18 + 6));
        pair.a().inject(reply);
        a.poll(collect, 16);

        final byte[] payload = "hello".getBytes();
        assertEquals(UdpEndpoint.OK, a.send(toB, new UnsafeBuffer(payload), 0, payload.length));
        a.flush();
        final byte[] datagram = only(drain(pair.b()), "one datagram");
        assertTagged(datagram, 7, Ethernet.ETHERTYPE_IPV4, "datagram");
        assertEquals(60, datagram.length, "18 + 20 + 8 + 5 bytes, padded to the minimum frame");
        assertEquals(0x45, datagram[18] & 0xFF, "IPv4 header after the tag");
        assertEquals(28 + payload.length, get16(datagram, 18 + 2), "IPv4 total length");
        assertEquals(0, RefFrames.checksum(datagram, 18, 20, 0), "IPv4 header checksum");
        final int udpLength = get16(datagram, 38 + 4);
        assertEquals(8 + payload.length, udpLength);
        assertEquals(0, RefFrames.checksum(datagram, 38, udpLength, RefFrames.pseudo(IP_A, IP_B, udpLength)), "UDP checksum");
        pair.b().inject(datagram);
        assertEquals(1, b.poll(collect, 16));
        assertArrayEquals(payload, received.get(0));
        assertEquals(0, b.counters().totalDrops());
        assertEquals(a.maxPayloadLength(), b.maxPayloadLength());
    }

    @Test
    void igmpReportsAreTaggedAndWarmUpTakesTheTaggedPath() {
        final MemoryPort.Pair pair = pair("?vlan=4094", "");
        final L2UdpEndpoint a = endpoint(pair.a());
        a.join(GROUP, GROUP_PORT);
        final byte[] report = only(drain(pair.b()), "one IGMP report");
        assertTagged(report, 4094, Ethernet.ETHERTYPE_IPV4, "IGMP report");
        assertEquals(2, report[18 + 9], "IPv4 protocol IGMP after the tag");
        final byte[] payload = new byte[32];
        assertEquals(100, a.warmUp(collect, new UnsafeBuffer(payload), 0, payload.length, 100),
            "the warm-up's frames are tagged, so the classifier takes them");
        assertEquals(0, a.counters().get(Counter.DROP_WRONG_VLAN));
        assertTrue(drain(pair.b()).isEmpty(), "the warm-up sends nothing");
    }

    /** Issue 16 item 5: an untagged port took a frame of any VLAN as if untagged. */
    @Test
    void aPortReceivesOnlyItsOwnVlanAndCountsTheOthers() {
        final MemoryPort.Pair pair = pair("?vlan=7", "");
        final L2UdpEndpoint tagged = endpoint(pair.a());
        final L2UdpEndpoint untagged = endpoint(pair.b());
        tagged.join(GROUP, GROUP_PORT);
        untagged.join(GROUP, GROUP_PORT);
        untagged.poll(collect, 16);   // the tagged endpoint's IGMP report: another VLAN's
        tagged.poll(collect, 16);     // and the untagged one's
        assertEquals(1, untagged.counters().get(Counter.DROP_WRONG_VLAN), "a tagged IGMP report on an untagged port");
        assertEquals(1, tagged.counters().get(Counter.DROP_WRONG_VLAN), "an untagged IGMP report on VLAN 7");
        final UdpDestination to = UdpDestination.of(GROUP, GROUP_PORT);
        final byte[] payload = "tick".getBytes();
        assertEquals(UdpEndpoint.OK, tagged.send(to, new UnsafeBuffer(payload), 0, payload.length));
        tagged.flush();
        assertEquals(0, untagged.poll(collect, 16), "VLAN 7 is not the untagged port's");
        assertEquals(2, untagged.counters().get(Counter.DROP_WRONG_VLAN));
        assertEquals(UdpEndpoint.OK, untagged.send(to, new UnsafeBuffer(payload), 0, payload.length));
        untagged.flush();
        assertEquals(0, tagged.poll(collect, 16), "an untagged frame is not VLAN 7's");
        assertEquals(2, tagged.counters().get(Counter.DROP_WRONG_VLAN));
        // VLAN 8 to a VLAN 7 port; a priority tag (VLAN id 0) to the untagged one is untagged
        pair.a().inject(RefFrames.udp(Ipv4.multicastMac(GROUP), 8, IP_B, GROUP, 1, GROUP_PORT, payload));
        assertEquals(0, tagged.poll(collect, 16));
        assertEquals(3, tagged.counters().get(Counter.DROP_WRONG_VLAN));
        pair.b().inject(RefFrames.udp(Ipv4.multicastMac(GROUP), 0, IP_A, GROUP, 1, GROUP_PORT, payload));
        assertEquals(1, untagged.poll(collect, 16));
        assertEquals(0, tagged.counters().totalDrops() - tagged.counters().get(Counter.DROP_WRONG_VLAN));
        assertEquals(0, untagged.counters().totalDrops() - untagged.counters().get(Counter.DROP_WRONG_VLAN));
    }

    @Test
    void aVlanIdOutsideTheRangeIsAUriError() {
        for (final String bad : new String[] {"?vlan=4095", "?vlan=-1", "?vlan=seven"}) {
            final MemoryPort.Pair pair = pair(bad, "");
            final BypassUriException e = assertThrows(BypassUriException.class,
                () -> new L2UdpEndpoint(pair.a(), pair.a().uri(), false), bad);
            assertTrue(e.getMessage().contains("'vlan'"), e.getMessage());
        }
    }
}
