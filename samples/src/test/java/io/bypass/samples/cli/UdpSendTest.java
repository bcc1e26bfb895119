package io.bypass.samples.cli;

import io.bypass.Capability;
import io.bypass.Counters;
import io.bypass.PortUri;
import io.bypass.udp.DatagramClaim;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.DatagramMeta;
import io.bypass.udp.UdpDestination;
import io.bypass.udp.UdpEndpoint;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

class UdpSendTest {
    /**
     * While the neighbour resolves, {@link Udp#send} polls so the ARP reply gets in; the
     * datagrams those polls deliver (requests arriving meanwhile) must reach the caller's
     * handler, not vanish.
     */
    @Test
    void datagramsArrivingWhileTheNeighbourResolvesReachTheCallersHandler() {
        final ResolvingEndpoint udp = new ResolvingEndpoint(3, 40);
        final List<Integer> seen = new ArrayList<>();
        final int rc = Udp.send(udp, UdpDestination.of(0x0A000002, 9), new UnsafeBuffer(new byte[8]), 0, 8,
            new BusySpinIdleStrategy(), TimeUnit.SECONDS.toNanos(1), (buffer, offset, length, meta) -> seen.add(buffer.getInt(offset)));
        assertEquals(UdpEndpoint.OK, rc);
        assertEquals(1, udp.sent);
        // each of the 3 polls delivers up to PENDING_POLL_LIMIT of the 40 waiting requests, in order
        final int expected = Math.min(40, 3 * Udp.PENDING_POLL_LIMIT);
        assertEquals(expected, seen.size());
        for (int i = 0; i < expected; i++) {
            assertEquals(i, seen.get(i));
        }
    }

    /** An endpoint whose neighbour resolves after {@code pendingSends} sends, with requests queued to poll. */
    private static final class ResolvingEndpoint implements UdpEndpoint {
        private int pendingSends;
        private int next;
        private final int queued;
        private final UnsafeBuffer datagram = new UnsafeBuffer(new byte[4]);
        private final DatagramMeta meta = new DatagramMeta();
        int sent;

        ResolvingEndpoint(final int pendingSends, final int queued) {
            this.pendingSends = pendingSends;
            this.queued = queued;
        }

        @Override
        public int send(final UdpDestination destination, final DirectBuffer buffer, final int offset, final int length) {
            if (pendingSends > 0) {
                pendingSends--;
                return NEIGHBOUR_PENDING;
            }
            sent++;
            return OK;
        }

        @Override
        public int poll(final DatagramHandler handler, final int limit) {
            int n = 0;
            while (n < limit && next < queued) {
                datagram.putInt(0, next++);
                handler.onDatagram(datagram, 0, 4, meta);
                n++;
            }
            return n;
        }

        @Override
        public String backend() {
            return "test";
        }

        @Override
        public PortUri uri() {
            return PortUri.parse("nio:");
        }

        @Override
        public Set<Capability> capabilities() {
            return Set.of();
        }

        @Override
        public void bind(final int port) {
        }

        @Override
        public void join(final int group, final int port) {
        }

        @Override
        public void leave(final int group, final int port) {
        }

        @Override
        public int tryClaim(final UdpDestination destination, final int length, final DatagramClaim claim) {
            return NEIGHBOUR_PENDING;
        }

        @Override
        public int warmUp(final DatagramHandler handler, final DirectBuffer payload, final int offset, final int length,
                          final int datagrams) {
            return 0;
        }

        @Override
        public int warmUpDutyCycle(final io.bypass.udp.DutyCycle dutyCycle, final DirectBuffer payload, final int offset, final int length,
                          final int datagrams) {
            return 0;
        }

        @Override
        public int flush() {
            return 0;
        }

        @Override
        public int maxPayloadLength() {
            return 1472;
        }

        @Override
        public int localAddress() {
            return 0x0A000001;
        }

        @Override
        public int localPort() {
            return 9;
        }

        @Override
        public Counters counters() {
            return new Counters();
        }

        @Override
        public boolean isClosed() {
            return false;
        }

        @Override
        public void close() {
        }
    }
}
