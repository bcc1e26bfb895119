package io.bypass.nio;

import io.bypass.Bypass;
import io.bypass.BypassException;
import io.bypass.BypassUriException;
import io.bypass.Capability;
import io.bypass.Counter;
import io.bypass.UnsupportedByBackendException;
import io.bypass.net.Ipv4;
import io.bypass.spi.BackendProvider;
import io.bypass.testing.Allocations;
import io.bypass.testing.Requirements;
import io.bypass.testkit.Netns;
import io.bypass.testkit.TestPorts;
import io.bypass.testkit.VethPair;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.UdpEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.EnumSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What is particular to the NIO backend: its URI, its refusals and its counters. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NioUdpEndpointTest {
    private static int port() {
        return TestPorts.random();
    }

    @Test
    void providerIsFoundAvailableAndRanksLowest() {
        final BackendProvider p = Bypass.backend("nio");
        assertNotNull(p, "nio provider not found by ServiceLoader");
        assertTrue(p instanceof NioBackendProvider);
        assertTrue(p.isAvailable());
        assertNull(p.unavailabilityCause());
        assertEquals(100, p.priority());
    }

    @Test
    void anL2PortIsRefusedNamingTheAlternative() {
        final UnsupportedByBackendException e = assertThrows(UnsupportedByBackendException.class, () -> Bypass.open("nio:lo"));
        assertTrue(e.getMessage().contains("UdpEndpoint"), e.getMessage());
        assertTrue(e.getMessage().contains("'nio'"), e.getMessage());
    }

    @Test
    void unknownInterfaceIsNamedAndTheRealOnesListed() {
        final BypassException e = assertThrows(BypassException.class, () -> Bypass.openUdp("nio:nosuch0"));
        assertTrue(e.getMessage().contains("'nosuch0'"), e.getMessage());
        assertTrue(e.getMessage().contains("lo"), "lists the interfaces: " + e.getMessage());
        assertEquals("no interface named 'nosuch0'", Bypass.backend("nio").cannotServe(io.bypass.PortUri.parse("nio:nosuch0")));
    }

    @Test
    void unknownOrBadParametersAreNamed() {
        final BypassUriException unknown = assertThrows(BypassUriException.class, () -> Bypass.openUdp("nio:lo?lopp=true"));
        assertTrue(unknown.getMessage().contains("lopp"), unknown.getMessage());
        final BypassUriException bad = assertThrows(BypassUriException.class, () -> Bypass.openUdp("nio:lo?loop=maybe"));
        assertTrue(bad.getMessage().contains("loop"), bad.getMessage());
        final BypassUriException range = assertThrows(BypassUriException.class, () -> Bypass.openUdp("nio:lo?maxPayload=70000"));
        assertTrue(range.getMessage().contains("maxPayload"), range.getMessage());
    }

    /** Issue 12: ttl meant the multicast TTL here and the unicast TTL on the L2 backends; both have their own key now. */
    @Test
    void ttlKeysMeanWhatTheyMeanOnEveryBackend() throws Exception {
        final BypassUriException ttl = assertThrows(BypassUriException.class, () -> Bypass.openUdp("nio:lo?ttl=4"));
        assertTrue(ttl.getMessage().contains("unicastTtl") && ttl.getMessage().contains("multicastTtl"), ttl.getMessage());
        final BypassUriException mcast = assertThrows(BypassUriException.class, () -> Bypass.openUdp("nio:lo?mcast_ttl=4"));
        assertTrue(mcast.getMessage().contains("now multicastTtl"), mcast.getMessage());
        try (UdpEndpoint ep = Bypass.openUdp("nio:lo?multicastTtl=4"); UdpEndpoint dflt = Bypass.openUdp("nio:lo")) {
            assertEquals(4, ((NioUdpEndpoint) ep).sendSocketMulticastTtl());
            assertEquals(1, ((NioUdpEndpoint) dflt).sendSocketMulticastTtl());
        }
        final int kernel = Integer.parseInt(java.nio.file.Files.readAllLines(
            java.nio.file.Path.of("/proc/sys/net/ipv4/ip_default_ttl")).get(0).trim());
        Bypass.openUdp("nio:lo?unicastTtl=" + kernel).close();
        final int other = kernel == 255 ? 254 : kernel + 1;
        final BypassUriException unicast = assertThrows(BypassUriException.class, () -> Bypass.openUdp("nio:lo?unicastTtl=" + other));
        assertTrue(unicast.getMessage().contains("unicastTtl=" + other + " cannot be set")
            && unicast.getMessage().contains("ip_default_ttl (" + kernel + " here)"), unicast.getMessage());
    }

    @Test
    void describesItself() {
        try (UdpEndpoint ep = Bypass.openUdp("nio:lo?maxPayload=1000")) {
            assertEquals("nio", ep.backend());
            assertEquals(EnumSet.of(Capability.MULTICAST, Capability.KERNEL_NEIGHBOURS), ep.capabilities());
            assertEquals(1000, ep.maxPayloadLength());
            assertEquals(Ipv4.parse("127.0.0.1"), ep.localAddress());
            assertTrue(ep.localPort() > 0, "an ephemeral send port before bind");
        }
        try (UdpEndpoint any = Bypass.openUdp("nio:")) {
            assertEquals(0, any.localAddress(), "no interface: wildcard");
            assertEquals(1472, any.maxPayloadLength());
        }
    }

    @Test
    void misuseIsRefusedClearly() {
        try (UdpEndpoint ep = Bypass.openUdp("nio:lo")) {
            final int p = port();
            ep.bind(p);
            assertThrows(BypassException.class, () -> ep.bind(p), "bound twice");
            // Argument errors are IllegalArgumentException on every backend (UdpBehaviourSuite).
            assertThrows(IllegalArgumentException.class, () -> ep.join(Ipv4.parse("10.1.1.1"), p), "not a group");
            assertThrows(IllegalArgumentException.class, () -> ep.leave(Ipv4.parse("239.1.2.3"), p), "not joined");
            assertThrows(IllegalArgumentException.class, () -> ep.bind(0));
        }
    }

    @Test
    void oversizeDatagramIsCountedNotDeliveredCut() throws Exception {
        try (UdpEndpoint ep = Bypass.openUdp("nio:lo?maxPayload=100");
             DatagramChannel tx = DatagramChannel.open(StandardProtocolFamily.INET)) {
            final int p = port();
            ep.bind(p);
            final InetSocketAddress to = new InetSocketAddress("127.0.0.1", p);
            tx.send(ByteBuffer.allocate(101), to);
            tx.send(ByteBuffer.allocate(100), to);
            final int[] lengths = new int[4];
            final int[] n = {0};
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (n[0] < 1 && System.nanoTime() < deadline) {
                ep.poll((b, o, l, m) -> lengths[n[0]++] = l, 8);
            }
            assertEquals(1, n[0]);
            assertEquals(100, lengths[0], "only the datagram that fits is delivered");
            assertEquals(1, ep.counters().get(Counter.DROP_RX_OVERSIZE));
        }
    }

    @Test
    void aThrowingHandlerLosesNothingUncounted() throws Exception {
        try (UdpEndpoint ep = Bypass.openUdp("nio:lo");
             DatagramChannel tx = DatagramChannel.open(StandardProtocolFamily.INET)) {
            final int p = port();
            ep.bind(p);
            final InetSocketAddress to = new InetSocketAddress("127.0.0.1", p);
            for (int i = 1; i <= 3; i++) {
                tx.send(ByteBuffer.wrap(new byte[] {(byte) i}), to);
            }
            final java.util.List<Byte> seen = new java.util.ArrayList<>();
            final IllegalStateException boom = new IllegalStateException("handler failure");
            final DatagramHandler throwsOnSecond = (b, o, l, m) -> {
                seen.add(b.getByte(o));
                if (b.getByte(o) == 2) {
                    throw boom;
                }
            };
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            RuntimeException thrown = null;
            while (thrown == null && System.nanoTime() < deadline) {
                try {
                    ep.poll(throwsOnSecond, 8);
                } catch (final IllegalStateException e) {
                    thrown = e;
                }
            }
            assertTrue(thrown == boom, "the handler's exception comes out of poll");
            assertEquals(2, ep.counters().get(Counter.RX_PACKETS), "both datagrams handed out are counted: " + ep.counters());
            while (seen.size() < 3 && System.nanoTime() < deadline) {
                ep.poll(throwsOnSecond, 8);
            }
            assertEquals(java.util.List.of((byte) 1, (byte) 2, (byte) 3), seen, "the next poll goes on with the third");
            assertEquals(3, ep.counters().get(Counter.RX_PACKETS));
        }
    }

    @Test
    void kernelSocketDropsAreCountedAsRingFull() throws Exception {
        try (UdpEndpoint ep = Bypass.openUdp("nio:lo?rcvbuf=4096");
             DatagramChannel tx = DatagramChannel.open(StandardProtocolFamily.INET)) {
            final int p = port();
            ep.bind(p);
            final InetSocketAddress to = new InetSocketAddress("127.0.0.1", p);
            final int sent = 500;
            for (int i = 0; i < sent; i++) {
                tx.send(ByteBuffer.allocate(200), to);
            }
            final long[] delivered = {0};
            final DatagramHandler h = (b, o, l, m) -> delivered[0]++;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (System.nanoTime() < deadline) {
                ep.poll(h, 64);
            }
            ep.counters().refresh();
            final long drops = ep.counters().get(Counter.DROP_RX_RING_FULL);
            assertTrue(drops > 0, "a 4 KiB socket buffer cannot hold 500 datagrams; delivered " + delivered[0]);
            assertEquals(sent, delivered[0] + drops, "every datagram delivered or counted");
            ep.close();
            assertEquals(drops, ep.counters().get(Counter.DROP_RX_RING_FULL), "kept after close");
        }
    }

    @Test
    void loopParameterDecidesWhetherOwnMulticastComesBack() throws Exception {
        Requirements.requireNetns();
        try (VethPair t = VethPair.create()) {
            for (final boolean loop : new boolean[] {true, false}) {
                final int got = t.executorA().call(() -> {
                    try (UdpEndpoint ep = Bypass.openUdp("nio:" + t.ifaceA() + "?loop=" + loop)) {
                        final int group = Ipv4.parse("239.8.8.8");
                        final int p = port();
                        ep.join(group, p);
                        final org.agrona.concurrent.UnsafeBuffer b = new org.agrona.concurrent.UnsafeBuffer(new byte[8]);
                        assertEquals(UdpEndpoint.OK, ep.send(io.bypass.udp.UdpDestination.of(group, p), b, 0, 8));
                        final int[] n = {0};
                        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
                        while (System.nanoTime() < deadline) {
                            ep.poll((buf, o, l, m) -> n[0]++, 8);
                        }
                        return n[0];
                    }
                });
                assertEquals(loop ? 1 : 0, got, "loop=" + loop);
            }
        }
    }

    @Test
    void pollOfAnIdleEndpointWithManySocketsAllocatesNothing() throws Exception {
        Requirements.requireNetns();
        try (Netns ns = Netns.createLoopback()) {
            ns.executor().run(() -> {
                try (UdpEndpoint ep = Bypass.openUdp("nio:lo")) {
                    ep.bind(port());
                    for (int i = 1; i <= 4; i++) {
                        ep.join(Ipv4.parse("239.9.9." + i), port());
                    }
                    final DatagramHandler h = (b, o, l, m) -> { };
                    final long bytes = Allocations.measure(() -> {
                        for (int i = 0; i < 100_000; i++) {
                            ep.poll(h, 16);
                        }
                    }, 3);
                    assertEquals(0, bytes, "idle poll over 5 sockets");
                }
            });
        }
    }
}
