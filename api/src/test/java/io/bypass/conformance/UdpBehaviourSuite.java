package io.bypass.conformance;

import io.bypass.Bypass;
import io.bypass.BypassException;
import io.bypass.Counter;
import io.bypass.net.Ipv4;
import io.bypass.spi.UdpRules;
import io.bypass.udp.DatagramClaim;
import io.bypass.udp.UdpDestination;
import io.bypass.udp.UdpEndpoint;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One behaviour for the same call on every backend (issue 13, item 4), next to
 * {@link UdpConformanceSuite}: which exception a bad argument gets, that joining twice is a
 * no-op, what {@code TX_BYTES} counts, and the one message a closed endpoint gives. Each
 * rule lives in {@link UdpRules}; this suite checks every backend keeps it.
 *
 * <p>A backend runs it with a subclass naming its URI, as for the conformance suite:
 *
 * <pre>{@code
 * class NioUdpBehaviourTest extends UdpBehaviourSuite {
 *     protected String uriFor(String iface) { return "nio:" + iface; }
 * }
 * }</pre>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
public abstract class UdpBehaviourSuite extends SiteSuite {
    private static final int GROUP_BASE = Ipv4.parse("239.78.0.0");

    /** For subclasses. */
    protected UdpBehaviourSuite() {
        super(GROUP_BASE);
    }

    private UdpEndpoint openDut() throws Exception {
        final UdpEndpoint ep = Bypass.openUdp(uriFor(site().dutIface()));
        closeAfterTest(ep);
        return ep;
    }

    @Test
    void joiningAUnicastAddressIsAnIllegalArgumentNamingBind() throws Exception {
        onDut(() -> {
            final UdpEndpoint ep = openDut();
            final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ep.join(site().peerAddress(), freshPort()));
            assertTrue(e.getMessage().contains("is not an IPv4 multicast address") && e.getMessage().contains("bind(port)"),
                e.getMessage());
        });
    }

    @Test
    void portsOutOfRangeAreIllegalArguments() throws Exception {
        onDut(() -> {
            final UdpEndpoint ep = openDut();
            for (final int bad : new int[] {0, -1, 65536}) {
                assertTrue(assertThrows(IllegalArgumentException.class, () -> ep.bind(bad)).getMessage()
                    .contains("outside 1..65535"), "bind " + bad);
                assertThrows(IllegalArgumentException.class, () -> ep.join(freshGroup(), bad), "join " + bad);
                assertThrows(IllegalArgumentException.class, () -> ep.leave(freshGroup(), bad), "leave " + bad);
            }
        });
    }

    @Test
    void joiningTwiceIsANoOpAndLeavingWhatIsNotJoinedIsAnIllegalArgument() throws Exception {
        onDut(() -> {
            final UdpEndpoint ep = openDut();
            final int group = freshGroup();
            final int port = freshPort();
            ep.join(group, port);
            assertDoesNotThrow(() -> ep.join(group, port), "second join");
            ep.leave(group, port);
            final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ep.leave(group, port));
            assertEquals("not joined to " + Ipv4.toString(group) + ":" + port, e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> ep.leave(freshGroup(), port), "never joined");
            assertThrows(IllegalArgumentException.class, () -> ep.leave(site().peerAddress(), port), "unicast");
        });
    }

    @Test
    void aNegativeLengthIsAnIllegalArgumentAndTooLongAStatus() throws Exception {
        onDut(() -> {
            final UdpEndpoint ep = openDut();
            ep.bind(freshPort());
            final UdpDestination to = UdpDestination.of(freshGroup(), freshPort());
            final DatagramClaim claim = new DatagramClaim();
            final long tooLongBefore = ep.counters().get(Counter.DROP_TOO_LONG);
            assertThrows(IllegalArgumentException.class, () -> ep.tryClaim(to, -1, claim), "tryClaim");
            assertThrows(IllegalArgumentException.class, () -> ep.send(to, new UnsafeBuffer(new byte[8]), 0, -1), "send");
            assertEquals(tooLongBefore, ep.counters().get(Counter.DROP_TOO_LONG), "a negative length is no drop");
            final int max = ep.maxPayloadLength();
            assertEquals(UdpEndpoint.TOO_LONG, ep.tryClaim(to, max + 1, claim));
            assertEquals(tooLongBefore + 1, ep.counters().get(Counter.DROP_TOO_LONG));
        });
    }

    /**
     * {@code TX_PACKETS} and {@code TX_BYTES} count Ethernet frames (padded to 60 bytes) on
     * every backend; the peer receives each datagram, so the count is of real sends.
     */
    @Test
    void txBytesCountEthernetFrames() throws Exception {
        final int group = freshGroup();
        final int port = freshPort();
        final DatagramChannel listener = site().peer().call(() -> {
            final DatagramChannel c = DatagramChannel.open(StandardProtocolFamily.INET);
            final InetAddress g = InetAddress.getByAddress(Ipv4.toBytes(group));
            c.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true);
            c.bind(new InetSocketAddress(g, port));
            c.join(g, java.net.NetworkInterface.getByName(site().peerIface()));
            c.configureBlocking(false);
            return c;
        });
        closeAfterTest(listener);
        onDut(() -> {
            final UdpEndpoint ep = openDut();
            ep.bind(freshPort());
            final UdpDestination to = UdpDestination.of(group, port);
            final Map<Integer, Integer> frames = Map.of(1, 60, 18, 60, 19, 61, 100, 142, 1000, 1042);
            ep.flush();
            ep.counters().refresh();
            final long packetsBefore = ep.counters().get(Counter.TX_PACKETS);
            final long bytesBefore = ep.counters().get(Counter.TX_BYTES);
            long expected = 0;
            for (final Map.Entry<Integer, Integer> f : frames.entrySet()) {
                assertEquals(f.getValue(), UdpRules.frameLength(f.getKey()));
                expected += f.getValue();
                int rc;
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while ((rc = ep.send(to, new UnsafeBuffer(new byte[f.getKey()]), 0, f.getKey())) != UdpEndpoint.OK) {
                    assertEquals(UdpEndpoint.BACK_PRESSURED, rc);
                    assertTrue(System.nanoTime() - deadline < 0, "still back-pressured");
                    ep.flush();
                }
                ep.flush();
            }
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (ep.counters().get(Counter.TX_PACKETS) - packetsBefore < frames.size() && System.nanoTime() - deadline < 0) {
                ep.flush();
                ep.counters().refresh();
                Thread.sleep(1);
            }
            assertEquals(frames.size(), ep.counters().get(Counter.TX_PACKETS) - packetsBefore, "TX_PACKETS");
            assertEquals(expected, ep.counters().get(Counter.TX_BYTES) - bytesBefore, "TX_BYTES: frames " + frames);
        });
        final ByteBuffer into = ByteBuffer.allocate(2048);
        int received = 0;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (received < 5 && System.nanoTime() - deadline < 0) {
            into.clear();
            if (site().peer().call(() -> listener.receive(into)) != null) {
                received++;
            } else {
                Thread.sleep(1);
            }
        }
        assertEquals(5, received, "datagrams the peer received");
    }

    @Test
    void everyMethodOfAClosedEndpointGivesTheSameMessage() throws Exception {
        onDut(() -> {
            final UdpEndpoint ep = openDut();
            ep.bind(freshPort());
            final String expected = "endpoint closed: " + ep.uri().text() + " (open a new one)";
            ep.close();
            final UdpDestination to = UdpDestination.of(freshGroup(), freshPort());
            final Map<String, Executable> calls = Map.of(
                "poll", () -> ep.poll((b, o, l, m) -> { }, 8),
                "tryClaim", () -> ep.tryClaim(to, 8, new DatagramClaim()),
                "send", () -> ep.send(to, new UnsafeBuffer(new byte[8]), 0, 8),
                "flush", ep::flush,
                "bind", () -> ep.bind(freshPort()),
                "join", () -> ep.join(freshGroup(), freshPort()),
                "leave", () -> ep.leave(freshGroup(), freshPort()));
            for (final Map.Entry<String, Executable> c : calls.entrySet()) {
                final BypassException e = assertThrows(BypassException.class, c.getValue(), c.getKey());
                assertEquals(expected, e.getMessage(), c.getKey());
            }
            assertDoesNotThrow(ep::close);
        });
    }
}
