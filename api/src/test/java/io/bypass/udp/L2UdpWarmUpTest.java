package io.bypass.udp;

import io.bypass.Capability;
import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.FlowRule;
import io.bypass.net.FrameClassifier;
import io.bypass.net.Ipv4;
import io.bypass.net.Ipv4Link;
import io.bypass.net.NeighbourTable;
import io.bypass.net.NextHopResolver;
import io.bypass.testing.MemoryPort;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The synthetic datagram an endpoint's duty-cycle warm-up feeds itself: every checksum kind a
 * live datagram can carry must reach the receive path during the warm-up, or the first live one
 * of a kind sends the compiled polling loop back to the interpreter.
 */
class L2UdpWarmUpTest {
    private static final int PORT = 11111;
    private static final int UDP_CHECKSUM_OFFSET = 14 + 20 + 6;

    private MemoryPort.Pair pair;

    @AfterEach
    void close() {
        pair.a().close();
        pair.b().close();
    }

    @Test
    void everyThirdTurnRepeatsTheCycleOfCompleteNoAndPartialChecksums() {
        pair = MemoryPort.pair(new MemoryPort.Config().mac("02:00:00:00:00:0a").ipv4("10.0.0.1", 24).uri("memory:a"),
            new MemoryPort.Config().mac("02:00:00:00:00:0b").ipv4("10.0.0.2", 24).uri("memory:b"));
        final Ipv4Link link = new Ipv4Link(pair.a(), 0, 0);
        final int local = Ipv4.parse("10.0.0.1");
        final UnsafeBuffer payload = new UnsafeBuffer("sequence 1".getBytes());
        final L2UdpWarmUp warmUp = new L2UdpWarmUp(link, FlowRule.udp(local, PORT), payload, 0, payload.capacity(),
            new NextHopResolver(link, new CachedNanoClock()), 2048);
        final Counters counters = new Counters();
        final FrameClassifier classifier = new FrameClassifier(counters).localMac(link.localMac()).localAddress(local);
        classifier.subscriptions().bind(PORT);
        final Set<Integer> checksums = new HashSet<>();
        // turns 2, 4, 6: a warm-up queue that delivers on every other turn still sees all three kinds
        for (int turn = 1; turn <= 6; turn++) {
            warmUp.refresh();
            if (turn % 2 == 0) {
                final UnsafeBuffer frame = warmUp.frame();
                assertEquals(FrameClassifier.UDP, classifier.classify(frame, 0, frame.capacity()), "turn " + turn);
                checksums.add(frame.getShort(UDP_CHECKSUM_OFFSET) & 0xFFFF);
            }
        }
        assertEquals(3, checksums.size(), "complete, none and partial: " + checksums);
        assertEquals(true, checksums.contains(0), "no checksum");
        assertEquals(1, counters.get(Counter.RX_PARTIAL_CHECKSUM), "one partial among the three");
        assertEquals(0, counters.get(Counter.DROP_BAD_UDP_CHECKSUM));
    }

    /**
     * The duty cycle's replies go to the placeholder sender through the resolver's real lookup, which
     * the warm-up now and then finds without the neighbour (as a new client's first reply does) and
     * with it expired (as every neighbour is after 30 s): both answered without a kernel query or an
     * ARP request, every reply sent, and the placeholder gone from the table afterwards.
     */
    @Test
    void theDutyCycleMeetsTheNeighbourUnknownAndExpiredWithoutAskingAnyone() {
        pair = MemoryPort.pair(new MemoryPort.Config().mac("02:00:00:00:00:0a").ipv4("10.0.0.1", 24).uri("memory:a")
                .capabilities(EnumSet.of(Capability.L2_FRAMES, Capability.KERNEL_NEIGHBOURS)),
            new MemoryPort.Config().mac("02:00:00:00:00:0b").ipv4("10.0.0.2", 24).uri("memory:b"));
        final L2UdpEndpoint ep = new L2UdpEndpoint(pair.a(), pair.a().uri(), true);
        try {
            ep.bind(PORT);
            final int[] unknown = new int[1];
            final int[] expired = new int[1];
            final int[] sent = new int[2]; // [0] OK, [1] refused
            final UnsafeBuffer reply = new UnsafeBuffer(new byte[16]);
            final DatagramHandler answer = (buffer, offset, length, meta) -> {
                final int state = ep.neighbours().state(meta.sourceAddress(), Long.MIN_VALUE);
                if (state == NeighbourTable.NONE) {
                    unknown[0]++;
                }
                if (ep.neighbours().lookup(meta.sourceAddress()) != NeighbourTable.NO_MAC
                    && !ep.neighbours().isFresh(meta.sourceAddress(), System.nanoTime())) {
                    expired[0]++;
                }
                sent[ep.send(UdpDestination.of(meta.sourceAddress(), meta.sourcePort()), reply, 0, reply.capacity())
                    == UdpEndpoint.OK ? 0 : 1]++;
            };
            final UnsafeBuffer payload = new UnsafeBuffer("sequence 1".getBytes());
            final int n = ep.warmUpDutyCycle(() -> {
                final int got = ep.poll(answer, 16);
                ep.flush();
                return got;
            }, payload, 0, payload.capacity(), 64 * L2UdpWarmUp.NEIGHBOUR_CHURN_TURNS); // a turn may deliver a batch
            assertTrue(n >= 64 * L2UdpWarmUp.NEIGHBOUR_CHURN_TURNS, "delivered " + n);
            assertTrue(unknown[0] >= 2, "replies that found the placeholder unknown: " + unknown[0]);
            assertTrue(expired[0] >= 1, "replies that found it expired: " + expired[0]);
            assertEquals(n, sent[0], "every reply sent (refused: " + sent[1] + ")");
            assertEquals(List.of(), pair.a().neighbourQueries(), "the kernel was never asked");
            assertEquals(0, pair.b().drain().size(), "nothing reached the wire");
            final int placeholder = L2UdpWarmUp.placeholderSource(Ipv4.parse("10.0.0.1"), 24);
            assertEquals(NeighbourTable.NONE, ep.neighbours().state(placeholder, 0), "the placeholder is forgotten afterwards");
        } finally {
            ep.close();
        }
    }
}
