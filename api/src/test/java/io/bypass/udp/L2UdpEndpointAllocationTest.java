package io.bypass.udp;

import io.bypass.Counter;
import io.bypass.net.Ipv4;
import io.bypass.testing.Allocations;
import io.bypass.testing.MemoryPort;
import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hot path allocates nothing: a steady-state send/flush/poll loop of unicast and
 * multicast datagrams between two endpoints over in-memory ports, measured with
 * {@link com.sun.management.ThreadMXBean#getCurrentThreadAllocatedBytes()} after warm-up.
 */
class L2UdpEndpointAllocationTest {
    private static final int DATAGRAMS = 200_000;
    private static final int BATCH = 16;

    /** A handler object, not a capturing lambda, as the API asks of applications. */
    private static final class Receiver implements DatagramHandler {
        long count;
        long sum;

        @Override
        public void onDatagram(final DirectBuffer buffer, final int offset, final int length, final DatagramMeta meta) {
            count++;
            sum += buffer.getLong(offset) + meta.destinationPort();
        }
    }

    @Test
    void steadyStateSendAndPollAllocateNothing() {
        assertTrue(Allocations.isSupported(), "this JVM must count per-thread allocation");
        final MemoryPort.Pair pair = MemoryPort.pair(
            new MemoryPort.Config().mac("02:00:00:00:00:0a").ipv4("10.0.0.1", 24).uri("memory:a").ring(256, 2048),
            new MemoryPort.Config().mac("02:00:00:00:00:0b").ipv4("10.0.0.2", 24).uri("memory:b").ring(256, 2048));
        try (L2UdpEndpoint a = new L2UdpEndpoint(pair.a(), pair.a().uri(), true);
             L2UdpEndpoint b = new L2UdpEndpoint(pair.b(), pair.b().uri(), true)) {
            b.bind(9000);
            b.join(Ipv4.parse("239.1.1.1"), 30001);
            final UdpDestination unicast = UdpDestination.of("10.0.0.2", 9000);
            final UdpDestination multicast = UdpDestination.of("239.1.1.1", 30001);
            final Receiver receiver = new Receiver();
            final DatagramClaim claim = new DatagramClaim();

            // resolve b's MAC by ARP first: that part may allocate (table insert)
            assertEquals(UdpEndpoint.NEIGHBOUR_PENDING, a.tryClaim(unicast, 8, claim));
            b.poll(receiver, 16);
            a.poll(receiver, 16);

            final long[] sent = new long[1];
            final Runnable loop = () -> {
                for (int i = 0; i < DATAGRAMS; i++) {
                    final UdpDestination destination = (i & 1) == 0 ? unicast : multicast;
                    if (a.tryClaim(destination, 64, claim) == UdpEndpoint.OK) {
                        claim.buffer().putLong(claim.offset(), i);
                        claim.commit();
                        sent[0]++;
                    }
                    if ((i % BATCH) == BATCH - 1) {
                        a.flush();
                        b.poll(receiver, 64);
                        a.poll(receiver, 64);
                    }
                }
                a.flush();
                while (b.poll(receiver, 64) > 0) {
                    a.poll(receiver, 64);
                }
            };
            final long allocated = Allocations.measure(loop, 3);
            assertEquals(0, allocated, "bytes allocated by " + DATAGRAMS + " datagrams in steady state");
            assertEquals(4L * DATAGRAMS, sent[0], "every claim succeeded");
            assertEquals(sent[0], receiver.count, "every datagram delivered");
            assertEquals(receiver.count, b.counters().get(Counter.RX_PACKETS));
            assertEquals(0, b.counters().totalDrops());
        }
    }
}
