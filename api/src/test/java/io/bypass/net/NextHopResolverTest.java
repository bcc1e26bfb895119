package io.bypass.net;

import io.bypass.Capability;
import io.bypass.TxQueue;
import io.bypass.testing.MemoryPort;
import org.agrona.concurrent.CachedNanoClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;

import static io.bypass.testing.Frames.getInt;
import static io.bypass.testing.Frames.getMac;
import static io.bypass.testing.Frames.getShort;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Routing, the neighbour table and solicitation, on their own: the resolver over an
 * in-memory port whose peer decodes the ARP requests it sends, with a clock the test moves.
 */
class NextHopResolverTest {
    private static final long SECOND = 1_000_000_000L;
    private static final long MAC_A = 0x02_00_00_00_00_0AL;
    private static final long MAC_B = 0x02_00_00_00_00_0BL;
    private static final int IP_A = Ipv4.parse("10.0.0.1");
    private static final int IP_B = Ipv4.parse("10.0.0.2");
    private static final int GATEWAY = Ipv4.parse("10.0.0.254");
    private static final int FAR = Ipv4.parse("192.168.1.1");

    private final CachedNanoClock clock = new CachedNanoClock();
    private MemoryPort.Pair pair;

    @AfterEach
    void close() {
        if (pair != null) {
            pair.a().close();
            pair.b().close();
        }
    }

    private NextHopResolver resolver(final MemoryPort.Config us, final int vlan) {
        pair = MemoryPort.pair(us, new MemoryPort.Config().mac("02:00:00:00:00:0b").ipv4("10.0.0.2", 24).uri("memory:b"));
        clock.update(5 * SECOND);
        return new NextHopResolver(new Ipv4Link(pair.a(), vlan, 0), clock);
    }

    private static MemoryPort.Config us() {
        return new MemoryPort.Config().mac("02:00:00:00:00:0a").ipv4("10.0.0.1", 24).uri("memory:a");
    }

    private TxQueue tx() {
        return pair.a().txQueue(0);
    }

    /** Asserts {@code f} is our broadcast ARP request for {@code target}, its ARP body at {@code arp}. */
    private static void assertRequest(final byte[] f, final int arp, final int target) {
        assertEquals(60, f.length, "padded to the Ethernet minimum");
        assertEquals(Mac.BROADCAST, getMac(f, 0), "broadcast: a neighbour whose MAC changed hears it too");
        assertEquals(MAC_A, getMac(f, 6));
        assertEquals(Arp.OP_REQUEST, getShort(f, arp + 6));
        assertEquals(MAC_A, getMac(f, arp + 8), "sender hardware address");
        assertEquals(IP_A, getInt(f, arp + 14), "sender protocol address");
        assertEquals(0, getMac(f, arp + 18), "target hardware address unknown");
        assertEquals(target, getInt(f, arp + 24));
    }

    @Test
    void afterPollReadsTheClockAfterEvery16thPoll() {
        final NextHopResolver resolver = resolver(us(), 0);
        for (int round = 1; round <= 2; round++) {
            clock.advance(SECOND);
            for (int i = 1; i < 16; i++) {
                resolver.afterPoll();
                assertEquals((4 + round) * SECOND, resolver.nowNanos(), "poll " + i + " keeps the time of the last read");
            }
            resolver.afterPoll();
            assertEquals((5 + round) * SECOND, resolver.nowNanos(), "the 16th poll reads the clock");
        }
        clock.advance(SECOND);
        resolver.tick();
        assertEquals(8 * SECOND, resolver.nowNanos(), "a tick reads the clock at once");
    }

    @Test
    void routesOnLinkToTheDestinationAndOffLinkToTheGateway() {
        final NextHopResolver withGateway = resolver(us().gateway("10.0.0.254"), 0);
        assertEquals(IP_B, withGateway.nextHop(IP_B));
        assertEquals(Ipv4.parse("10.0.0.200"), withGateway.nextHop(Ipv4.parse("10.0.0.200")));
        assertEquals(GATEWAY, withGateway.nextHop(FAR));
        close();
        final NextHopResolver withoutGateway = resolver(us(), 0);
        assertEquals(IP_B, withoutGateway.nextHop(IP_B));
        assertEquals(0, withoutGateway.nextHop(FAR), "no route");
    }

    @Test
    void noRouteSendsNothingAndLearnsNothing() {
        final NextHopResolver r = resolver(us(), 0);
        assertEquals(NeighbourTable.NO_MAC, r.resolve(FAR, tx()));
        assertEquals(List.of(), pair.b().drain());
        assertEquals(0, r.neighbours().size());
    }

    @Test
    void unknownNextHopIsSolicitedOncePerRetryInterval() {
        final NextHopResolver r = resolver(us(), 0);
        assertEquals(NeighbourTable.NO_MAC, r.resolve(IP_B, tx()));
        final List<byte[]> first = pair.b().drain();
        assertEquals(1, first.size(), "the request is flushed at once");
        assertRequest(first.get(0), 14, IP_B);
        assertEquals(NeighbourTable.INCOMPLETE, r.neighbours().state(IP_B, clock.nanoTime()));

        clock.advance(NextHopResolver.ARP_RETRY_NANOS - 1);
        assertEquals(NeighbourTable.NO_MAC, r.resolve(IP_B, tx()));
        assertEquals(0, pair.b().drain().size(), "rate-limited");
        clock.advance(1);
        assertEquals(NeighbourTable.NO_MAC, r.resolve(IP_B, tx()));
        assertEquals(1, pair.b().drain().size(), "retried after the interval, read from the clock without a tick");
    }

    @Test
    void offLinkDestinationsSolicitAndUseTheGateway() {
        final NextHopResolver r = resolver(us().gateway("10.0.0.254"), 0);
        assertEquals(NeighbourTable.NO_MAC, r.resolve(FAR, tx()));
        assertRequest(pair.b().drain().get(0), 14, GATEWAY);
        r.neighbours().learn(GATEWAY, 0x02_00_00_00_00_FEL, clock.nanoTime());
        assertEquals(0x02_00_00_00_00_FEL, r.resolve(FAR, tx()));
        assertEquals(0x02_00_00_00_00_FEL, r.resolve(Ipv4.parse("8.8.8.8"), tx()), "one gateway for every far address");
    }

    @Test
    void freshNeighbourIsUsedWithoutAnyRequest() {
        final NextHopResolver r = resolver(us(), 0);
        r.neighbours().learn(IP_B, MAC_B, clock.nanoTime());
        for (int i = 0; i < 3; i++) {
            assertEquals(MAC_B, r.resolve(IP_B, tx()));
        }
        assertEquals(0, pair.b().drain().size());
    }

    @Test
    void staleNeighbourIsStillUsedAndReprobedOncePerInterval() {
        final NextHopResolver r = resolver(us(), 0);
        r.neighbours().learn(IP_B, MAC_B, clock.nanoTime());
        clock.advance(NextHopResolver.REACHABLE_NANOS + 1);
        assertEquals(MAC_B, r.resolve(IP_B, tx()), "not stale yet: freshness is judged at the last tick");
        assertEquals(0, pair.b().drain().size());

        r.tick();
        assertEquals(NeighbourTable.STALE, r.neighbours().state(IP_B, r.nowNanos()));
        assertEquals(MAC_B, r.resolve(IP_B, tx()), "a stale MAC is still used");
        assertEquals(MAC_B, r.resolve(IP_B, tx()));
        final List<byte[]> probes = pair.b().drain();
        assertEquals(1, probes.size(), "one re-probe per retry interval");
        assertRequest(probes.get(0), 14, IP_B);
    }

    @Test
    void requestsCarryTheLinksVlanTag() {
        final NextHopResolver r = resolver(us(), 7);
        r.resolve(IP_B, tx());
        final byte[] f = pair.b().drain().get(0);
        assertEquals(Ethernet.ETHERTYPE_VLAN, getShort(f, 12));
        assertEquals(7, getShort(f, 14) & 0x0FFF);
        assertEquals(Ethernet.ETHERTYPE_ARP, getShort(f, 16));
        assertRequest(f, 18, IP_B);
    }

    @Test
    void kernelNeighboursAreAskedNotArpedAndTheAnswerUsedAtOnce() {
        final long[] answer = {-1};
        final NextHopResolver r = resolver(us()
            .capabilities(EnumSet.of(Capability.L2_FRAMES, Capability.KERNEL_NEIGHBOURS))
            .neighbourResolver(ip -> ip == IP_B ? answer[0] : -1), 0);
        assertEquals(NeighbourTable.NO_MAC, r.resolve(IP_B, tx()), "the kernel does not know yet");
        assertEquals(NeighbourTable.NO_MAC, r.resolve(IP_B, tx()));
        assertEquals(List.of(IP_B), pair.a().neighbourQueries(), "asked once per kernel retry interval");
        answer[0] = 0x0001_0000_0000_0000L | MAC_B;   // bits above the 48 are not part of the MAC
        clock.advance(NextHopResolver.KERNEL_RETRY_NANOS);
        assertEquals(MAC_B, r.resolve(IP_B, tx()), "answered: used at once, masked to 48 bits");
        assertEquals(MAC_B, r.resolve(IP_B, tx()));
        assertEquals(2, pair.a().neighbourQueries().size(), "learned: not asked again while fresh");
        assertEquals(0, pair.b().drain().size(), "no ARP from us: the kernel resolves");
    }

    @Test
    void aWarmUpsPlaceholderIsAnsweredWithoutArpOrKernelQueryWhetherUnknownOrExpired() {
        final NextHopResolver r = resolver(us()
            .capabilities(EnumSet.of(Capability.L2_FRAMES, Capability.KERNEL_NEIGHBOURS))
            .neighbourResolver(ip -> -1), 0);
        r.warmUp(IP_B, MAC_B);
        assertEquals(MAC_B, r.resolve(IP_B, tx()), "unknown: answered at once");
        assertEquals(NeighbourTable.REACHABLE, r.neighbours().state(IP_B, r.nowNanos()), "learned as a live answer is");
        r.neighbours().learn(IP_B, MAC_B, r.nowNanos() - NextHopResolver.REACHABLE_NANOS);
        assertEquals(NeighbourTable.STALE, r.neighbours().state(IP_B, r.nowNanos()));
        assertEquals(MAC_B, r.resolve(IP_B, tx()), "expired: confirmed at once");
        assertEquals(NeighbourTable.REACHABLE, r.neighbours().state(IP_B, r.nowNanos()));
        r.neighbours().remove(IP_B);
        assertEquals(MAC_B, r.resolve(IP_B, tx()), "forgotten: answered again");
        assertEquals(List.of(), pair.a().neighbourQueries(), "the kernel was never asked");
        assertEquals(0, pair.b().drain().size(), "nothing on the wire");

        r.endWarmUp();
        r.neighbours().remove(IP_B);
        assertEquals(NeighbourTable.NO_MAC, r.resolve(IP_B, tx()), "after the warm-up, solicited for real");
        assertEquals(List.of(IP_B), pair.a().neighbourQueries());
    }

    @Test
    void aWarmUpsPlaceholderSendsNoArpEither() {
        final NextHopResolver r = resolver(us(), 0);
        r.warmUp(IP_B, MAC_B);
        assertEquals(MAC_B, r.resolve(IP_B, tx()));
        assertEquals(0, pair.b().drain().size(), "no ARP request for the placeholder");
        assertEquals(NeighbourTable.NO_MAC, r.resolve(GATEWAY, tx()), "any other next hop is solicited as ever");
        assertEquals(1, pair.b().drain().size());
    }
}
