package io.bypass.net;

import io.bypass.testing.MemoryPort;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.bypass.testing.Frames.getInt;
import static io.bypass.testing.Frames.getMac;
import static io.bypass.testing.Frames.getShort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * What ARP the responder answers and what it learns, fed reference ARP packets directly
 * (as a {@link FrameClassifier} would hand them over) with the replies decoded by the peer.
 */
class ArpResponderTest {
    private static final long SECOND = 1_000_000_000L;
    private static final long MAC_A = 0x02_00_00_00_00_0AL;
    private static final long MAC_B = 0x02_00_00_00_00_0BL;
    private static final int IP_A = Ipv4.parse("10.0.0.1");
    private static final int IP_B = Ipv4.parse("10.0.0.2");
    private static final int IP_C = Ipv4.parse("10.0.0.3");

    private final CachedNanoClock clock = new CachedNanoClock();
    private MemoryPort.Pair pair;
    private NextHopResolver resolver;
    private ArpResponder responder;

    @BeforeEach
    void open() {
        open(0);
    }

    private void open(final int vlan) {
        pair = MemoryPort.pair(
            new MemoryPort.Config().mac("02:00:00:00:00:0a").ipv4("10.0.0.1", 24).uri("memory:a"),
            new MemoryPort.Config().mac("02:00:00:00:00:0b").ipv4("10.0.0.2", 24).uri("memory:b"));
        clock.update(7 * SECOND);
        final Ipv4Link link = new Ipv4Link(pair.a(), vlan, 0);
        resolver = new NextHopResolver(link, clock);
        responder = new ArpResponder(link, resolver);
    }

    @AfterEach
    void close() {
        pair.a().close();
        pair.b().close();
    }

    /** Hands the responder a reference ARP packet, as the classifier would: at offset 14 of its frame. */
    private void receive(final int op, final long senderMac, final int senderAddress, final long targetMac, final int targetAddress) {
        final byte[] frame = RefFrames.arp(Mac.BROADCAST, op, senderMac, senderAddress, targetMac, targetAddress);
        responder.onArp(new UnsafeBuffer(frame), 14, pair.a().txQueue(0));
    }

    @Test
    void answersARequestForOurAddressAndLearnsItsSender() {
        receive(Arp.OP_REQUEST, MAC_B, IP_B, 0, IP_A);
        final List<byte[]> replies = pair.b().drain();
        assertEquals(1, replies.size(), "flushed at once");
        final byte[] r = replies.get(0);
        assertEquals(60, r.length);
        assertEquals(MAC_B, getMac(r, 0), "unicast to the asker");
        assertEquals(MAC_A, getMac(r, 6));
        assertEquals(Ethernet.ETHERTYPE_ARP, getShort(r, 12));
        assertEquals(1, getShort(r, 14), "Ethernet hardware");
        assertEquals(Ethernet.ETHERTYPE_IPV4, getShort(r, 16));
        assertEquals(Arp.OP_REPLY, getShort(r, 20));
        assertEquals(MAC_A, getMac(r, 22));
        assertEquals(IP_A, getInt(r, 28));
        assertEquals(MAC_B, getMac(r, 32));
        assertEquals(IP_B, getInt(r, 38));
        assertEquals(MAC_B, resolver.neighbours().lookup(IP_B), "it is about to talk to us");
        assertEquals(NeighbourTable.REACHABLE, resolver.neighbours().state(IP_B, clock.nanoTime()));
        assertFalse(resolver.neighbours().isFresh(IP_B, clock.nanoTime() + NextHopResolver.REACHABLE_NANOS),
            "learned at the resolver's time, fresh for the reachable time");
    }

    @Test
    void aReplyToUsIsLearnedNotAnswered() {
        resolver.neighbours().trySolicit(IP_B, clock.nanoTime());
        receive(Arp.OP_REPLY, MAC_B, IP_B, MAC_A, IP_A);
        assertEquals(0, pair.b().drain().size());
        assertEquals(MAC_B, resolver.neighbours().lookup(IP_B));
    }

    @Test
    void requestForAnotherAddressIsNotAnsweredAndItsSenderNotAdded() {
        receive(Arp.OP_REQUEST, MAC_B, IP_B, 0, IP_C);
        assertEquals(0, pair.b().drain().size());
        assertEquals(NeighbourTable.NO_MAC, resolver.neighbours().lookup(IP_B));
    }

    @Test
    void gratuitousArpRefreshesAKnownNeighbourOnly() {
        resolver.neighbours().learn(IP_B, MAC_B, clock.nanoTime());
        final long moved = 0x02_00_00_00_00_BBL;
        receive(Arp.OP_REQUEST, moved, IP_B, 0, IP_B);
        receive(Arp.OP_REPLY, 0x02_00_00_00_00_CCL, IP_C, Mac.BROADCAST, IP_C);
        assertEquals(moved, resolver.neighbours().lookup(IP_B), "failover announced: used at once");
        assertEquals(NeighbourTable.NO_MAC, resolver.neighbours().lookup(IP_C), "never asked for: not added");
        assertEquals(0, pair.b().drain().size(), "gratuitous ARP is not answered");
    }

    @Test
    void probesAreAnsweredButNeverLearned() {
        // RFC 5227 probe: sender address 0; answered so the prober sees the address is taken
        receive(Arp.OP_REQUEST, MAC_B, 0, 0, IP_A);
        final byte[] r = pair.b().drain().get(0);
        assertEquals(MAC_B, getMac(r, 0));
        assertEquals(0, getInt(r, 38));
        assertEquals(0, resolver.neighbours().size());
    }

    @Test
    void bogusSendersAreNeverLearned() {
        receive(Arp.OP_REQUEST, 0x01_00_5E_00_00_01L, IP_B, 0, IP_A);
        receive(Arp.OP_REQUEST, Mac.ZERO, IP_C, 0, IP_A);
        receive(Arp.OP_REQUEST, MAC_B, IP_A, 0, IP_A);
        assertEquals(0, resolver.neighbours().size(), "multicast or zero MAC, or claiming our own address");
    }

    @Test
    void repliesCarryTheLinksVlanTag() {
        close();
        open(42);
        receive(Arp.OP_REQUEST, MAC_B, IP_B, 0, IP_A);
        final byte[] r = pair.b().drain().get(0);
        assertEquals(60, r.length);
        assertEquals(Ethernet.ETHERTYPE_VLAN, getShort(r, 12));
        assertEquals(42, getShort(r, 14) & 0x0FFF);
        assertEquals(Ethernet.ETHERTYPE_ARP, getShort(r, 16));
        assertEquals(Arp.OP_REPLY, getShort(r, 18 + 6));
        assertEquals(IP_B, getInt(r, 18 + 24));
    }
}
