package io.bypass.spi;

import io.bypass.BypassException;
import io.bypass.FlowRule;
import io.bypass.net.Ipv4;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link TcpPortReservations#releaseAfterUnsteering}: the port is released whatever the unsteering did; failures are reported together. */
class TcpPortReservationsTest {
    private static final int LOOPBACK = Ipv4.parse("127.0.0.1");
    private static final int PEER = Ipv4.parse("127.0.0.2");

    private static TcpPortReservations reservations() {
        return new TcpPortReservations("test", "lo", new TcpPortReservations.PortNamespace() {
            @Override
            public void enter() {
                throw new AssertionError("the test's own thread is in the port's namespace");
            }

            @Override
            public void close() {
            }
        });
    }

    /** Binding the port fails while the kernel socket reserving it is held, and succeeds once it is released. */
    private static boolean kernelCanBind(final int port) throws Exception {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (final java.net.BindException e) {
            return false;
        }
    }

    @Test
    void releasesThePortAndThrowsNothingWhenUnsteeringSucceeded() throws Exception {
        try (TcpPortReservations r = reservations()) {
            final int port = r.reserve(LOOPBACK, 0, "a test flow");
            final FlowRule rule = FlowRule.tcp(LOOPBACK, port, PEER, 9000);
            assertTrue(r.holds(LOOPBACK, port));
            assertFalse(kernelCanBind(port), "the reservation keeps the kernel off port " + port);
            r.releaseAfterUnsteering(rule, "unsteering it", null);
            assertFalse(r.holds(LOOPBACK, port));
            assertTrue(kernelCanBind(port), "released: the kernel may give out port " + port + " again");
        }
    }

    @Test
    void releasesThePortEvenAfterTheUnsteeringFailedAndNamesTheFailedStep() throws Exception {
        try (TcpPortReservations r = reservations()) {
            final int port = r.reserve(LOOPBACK, 0, "a test flow");
            final FlowRule rule = FlowRule.tcp(LOOPBACK, port, PEER, 9000);
            final BypassException unsteer = new BypassException("bpf_map_delete_elem failed: Bad file descriptor");
            final BypassException e = assertThrows(BypassException.class, () -> r.releaseAfterUnsteering(rule, "unsteering it", unsteer));
            assertEquals("test: removing tcp 127.0.0.1:" + port + " <- 127.0.0.2:9000 on lo failed part-way (every other step still ran):"
                + " unsteering it: bpf_map_delete_elem failed: Bad file descriptor", e.getMessage());
            assertEquals(unsteer, e.getCause());
            assertFalse(r.holds(LOOPBACK, port));
            assertTrue(kernelCanBind(port));
        }
    }

    @Test
    void aSharedReservationOutlivesOneRulesRemoval() throws Exception {
        try (TcpPortReservations r = reservations()) {
            final int port = r.reserve(LOOPBACK, 0, "the first flow");
            assertEquals(port, r.reserve(LOOPBACK, port, "the second flow"));
            r.releaseAfterUnsteering(FlowRule.tcp(LOOPBACK, port, PEER, 9000), "unsteering it", null);
            assertTrue(r.holds(LOOPBACK, port));
            assertFalse(kernelCanBind(port));
            r.releaseAfterUnsteering(FlowRule.tcp(LOOPBACK, port, PEER, 9001), "unsteering it", null);
            assertTrue(kernelCanBind(port));
        }
    }
}
