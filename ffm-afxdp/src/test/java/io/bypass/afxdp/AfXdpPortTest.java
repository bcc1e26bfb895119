package io.bypass.afxdp;

import io.bypass.Bypass;
import io.bypass.Capability;
import io.bypass.Counter;
import io.bypass.FlowRule;
import io.bypass.FrameClaim;
import io.bypass.FrameHandler;
import io.bypass.Port;
import io.bypass.net.Ipv4;
import io.bypass.testing.Allocations;
import io.bypass.testing.Capture;
import io.bypass.testing.Frames;
import io.bypass.testing.RawSocket;
import io.bypass.testing.Requirements;
import io.bypass.testkit.Cmd;
import io.bypass.testkit.VethPair;
import io.bypass.udp.UdpDestination;
import io.bypass.udp.UdpEndpoint;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * AF_XDP on a veth pair in two namespaces the test creates: the flow steering keeps the
 * rest of the traffic with the kernel, frames sent are valid on the wire, multicast
 * membership reaches the kernel, neighbours resolve, kernel statistics reach the
 * counters, and the hot path allocates nothing.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AfXdpPortTest extends AfXdpVethTest {
    private Port open(final String params) throws Exception {
        return t.executorA().call(() -> Bypass.open("afxdp:" + t.ifaceA() + "?" + params));
    }

    private DatagramChannel peerChannel(final int port) throws Exception {
        return t.executorB().call(() -> {
            final DatagramChannel c = DatagramChannel.open(StandardProtocolFamily.INET);
            c.bind(new InetSocketAddress(t.addressBText(), port));
            c.configureBlocking(false);
            return c;
        });
    }

    private static int pollFor(final Port port, final FrameHandler h, final int want, final long millis) {
        int got = 0;
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (got < want && System.nanoTime() < deadline) {
            got += port.rxQueue(0).poll(h, 64);
        }
        return got;
    }

    private static byte[] receive(final DatagramChannel c, final long millis) throws Exception {
        final ByteBuffer bb = ByteBuffer.allocate(2048);
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < deadline) {
            if (c.receive(bb) != null) {
                final byte[] b = new byte[bb.flip().remaining()];
                bb.get(b);
                return b;
            }
            Thread.sleep(1);
        }
        return null;
    }

    @ParameterizedTest
    @ValueSource(strings = {"xdp=drv&mode=copy", "xdp=skb"})
    void steeredFlowComesToUsAndEverythingElseStaysWithTheKernel(final String params) throws Exception {
        Requirements.requireCommand("ping");
        try (Port port = open(params)) {
            assertTrue(port.capabilities().containsAll(List.of(Capability.L2_FRAMES, Capability.FLOW_STEERING,
                Capability.KERNEL_NEIGHBOURS, Capability.MULTICAST)));
            assertFalse(port.capabilities().contains(Capability.ZERO_COPY_RX), "veth has no zero-copy: must say so");
            assertFalse(((AfXdpPort) port).isZeroCopy());
            assertEquals(t.macA(), port.macAddress());
            assertEquals(t.addressA(), port.ipv4Address());
            assertEquals(VethPair.PREFIX_LENGTH, port.ipv4PrefixLength());
            assertTrue(t.a().ip("link", "show", "dev", t.ifaceA()).contains("xdp"), "program attached while open");

            port.addFlow(0, new FlowRule(t.addressA(), 7001));
            // Kernel sockets in A on the steered port and on another port.
            final DatagramChannel steeredKernel = t.executorA().call(() -> {
                final DatagramChannel c = DatagramChannel.open(StandardProtocolFamily.INET);
                c.bind(new InetSocketAddress(t.addressAText(), 7001));
                c.configureBlocking(false);
                return c;
            });
            final DatagramChannel otherKernel = t.executorA().call(() -> {
                final DatagramChannel c = DatagramChannel.open(StandardProtocolFamily.INET);
                c.bind(new InetSocketAddress(t.addressAText(), 7002));
                c.configureBlocking(false);
                return c;
            });
            try (steeredKernel; otherKernel; DatagramChannel peer = peerChannel(0)) {
                // ARP + ICMP still answered by the kernel of A while the XSK is open.
                final Cmd.Result ping = Cmd.runUnchecked("ip", "netns", "exec", t.b().name(), "ping", "-c", "2", "-W", "2",
                    t.addressAText());
                assertEquals(0, ping.exitCode(), "ping across the veth must still work: " + ping);

                peer.send(ByteBuffer.wrap("to-xsk".getBytes(StandardCharsets.US_ASCII)),
                    new InetSocketAddress(t.addressAText(), 7001));
                peer.send(ByteBuffer.wrap("to-kernel".getBytes(StandardCharsets.US_ASCII)),
                    new InetSocketAddress(t.addressAText(), 7002));
                final byte[][] frame = new byte[1][];
                assertEquals(1, pollFor(port, (b, o, l, m) -> {
                    frame[0] = new byte[l];
                    b.getBytes(o, frame[0]);
                }, 1, 5000));
                assertEquals("to-xsk", new String(frame[0], Frames.PAYLOAD_OFFSET, frame[0].length - Frames.PAYLOAD_OFFSET,
                    StandardCharsets.US_ASCII));
                final byte[] kernelGot = receive(otherKernel, 5000);
                assertArrayEquals("to-kernel".getBytes(StandardCharsets.US_ASCII), kernelGot, "non-steered port reaches the kernel");
                assertNull(receive(steeredKernel, 300), "steered datagram must not also reach the kernel");

                // After removeFlow the kernel gets the port back.
                port.removeFlow(0, new FlowRule(t.addressA(), 7001));
                peer.send(ByteBuffer.wrap("back".getBytes(StandardCharsets.US_ASCII)), new InetSocketAddress(t.addressAText(), 7001));
                assertArrayEquals("back".getBytes(StandardCharsets.US_ASCII), receive(steeredKernel, 5000));
                assertEquals(0, pollFor(port, (b, o, l, m) -> { }, 1, 300));
                assertEquals(1, port.counters().get(Counter.RX_PACKETS));
            }
        }
        assertFalse(t.a().ip("link", "show", "dev", t.ifaceA()).contains("xdp"), "program detached after close");
    }

    @Test
    void addressingComesFromTheKernelOfThePortsNamespace() throws Exception {
        t.a().ip("route", "add", "default", "via", t.addressBText(), "dev", t.ifaceA());
        t.a().ip("link", "set", "dev", t.ifaceA(), "mtu", "1400");
        try (Port port = open("mode=copy")) {
            assertEquals(t.addressB(), port.ipv4Gateway(), "default gateway from /proc/thread-self/net/route");
            assertEquals(1400, port.mtu());
            assertEquals(1400 + 18, port.txQueue(0).maxFrameLength());
            assertEquals(t.macA(), port.macAddress());
        }
    }

    @Test
    void wildcardFlowMatchesAnyDestinationAddress() throws Exception {
        try (Port port = open("xdp=drv&mode=copy"); RawSocket raw = t.executorB().call(() -> RawSocket.open(t.ifaceB()))) {
            port.addFlow(0, new FlowRule(0, 7100));
            final int other = Ipv4.parse("239.9.9.9");
            raw.send(Frames.udp().macs(t.macB(), t.macA()).addresses(t.addressB(), other).ports(5, 7100)
                .payload(new byte[] {1, 2, 3}).build());
            raw.send(Frames.udp().macs(t.macB(), t.macA()).addresses(t.addressB(), t.addressA()).ports(5, 7100)
                .payload(new byte[] {4, 5, 6}).build());
            assertEquals(2, pollFor(port, (b, o, l, m) -> { }, 2, 5000));
        }
    }

    /**
     * The program's per-port fast path (bypass_ports: none, one address, several, wildcard)
     * must steer exactly the flows added, through every transition as flows come and go.
     */
    @Test
    void steeringFollowsFlowsAddedAndRemovedOnOnePort() throws Exception {
        final int g1 = Ipv4.parse("239.7.0.1");
        final int g2 = Ipv4.parse("239.7.0.2");
        final int g3 = Ipv4.parse("239.7.0.3");
        final int udpPort = 7200;
        try (Port port = open("xdp=drv&mode=copy"); RawSocket raw = t.executorB().call(() -> RawSocket.open(t.ifaceB()))) {
            final java.util.function.IntFunction<java.util.Set<Integer>> sendAll = portNumber -> {
                final int[] dests = {g1, g2, g3, t.addressA()};
                for (int i = 0; i < dests.length; i++) {
                    raw.send(Frames.udp().macs(t.macB(), t.macA()).addresses(t.addressB(), dests[i]).ports(5, portNumber)
                        .payload(new byte[] {(byte) i}).build());
                }
                final java.util.Set<Integer> got = new java.util.TreeSet<>();
                final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(400);
                while (System.nanoTime() < deadline) {
                    port.rxQueue(0).poll((b, o, l, m) -> got.add((int) b.getByte(o + Frames.PAYLOAD_OFFSET)), 64);
                }
                return got;
            };
            assertEquals(java.util.Set.of(), sendAll.apply(udpPort), "no flow: everything to the kernel");
            port.addFlow(0, new FlowRule(g1, udpPort));
            assertEquals(java.util.Set.of(0), sendAll.apply(udpPort), "one address");
            port.addFlow(0, new FlowRule(g2, udpPort));
            assertEquals(java.util.Set.of(0, 1), sendAll.apply(udpPort), "two addresses");
            port.addFlow(0, new FlowRule(0, udpPort));
            assertEquals(java.util.Set.of(0, 1, 2, 3), sendAll.apply(udpPort), "wildcard");
            assertEquals(java.util.Set.of(), sendAll.apply(udpPort + 1), "another port is untouched");
            port.removeFlow(0, new FlowRule(0, udpPort));
            assertEquals(java.util.Set.of(0, 1), sendAll.apply(udpPort), "wildcard removed");
            port.removeFlow(0, new FlowRule(g1, udpPort));
            assertEquals(java.util.Set.of(1), sendAll.apply(udpPort), "back to one address");
            port.removeFlow(0, new FlowRule(g2, udpPort));
            assertEquals(java.util.Set.of(), sendAll.apply(udpPort), "all removed");
            port.addFlow(0, new FlowRule(t.addressA(), udpPort));
            assertEquals(java.util.Set.of(3), sendAll.apply(udpPort), "our own address");
        }
    }

    @Test
    void framesAfterAThrowingHandlerStayQueuedForTheNextPoll() throws Exception {
        try (Port port = open("xdp=drv&mode=copy"); RawSocket raw = t.executorB().call(() -> RawSocket.open(t.ifaceB()))) {
            port.addFlow(0, new FlowRule(t.addressA(), 7150));
            for (int i = 1; i <= 3; i++) {
                raw.send(Frames.udp().macs(t.macB(), t.macA()).addresses(t.addressB(), t.addressA()).ports(5, 7150)
                    .payload(new byte[] {(byte) i}).build());
            }
            // Wait until all three are in the RX ring, so one poll would see them together.
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (((io.bypass.afxdp.internal.AfXdpPortImpl) port).rxRingEntries(0) < 3 && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertEquals(3, ((io.bypass.afxdp.internal.AfXdpPortImpl) port).rxRingEntries(0), "three frames waiting");
            final List<Byte> seen = new java.util.ArrayList<>();
            final RuntimeException boom = new IllegalStateException("handler failure");
            final FrameHandler throwsOnSecond = (b, o, l, m) -> {
                final byte tag = b.getByte(o + l - 1);
                seen.add(tag);
                if (tag == 2) {
                    throw boom;
                }
            };
            final RuntimeException thrown = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
                () -> port.rxQueue(0).poll(throwsOnSecond, 64));
            assertTrue(thrown == boom, "the handler's exception comes out of poll");
            assertEquals(List.of((byte) 1, (byte) 2), seen, "poll stops at the throwing handler");
            assertEquals(2, port.counters().get(Counter.RX_PACKETS), "both frames handed out are counted");
            assertEquals(1, pollFor(port, throwsOnSecond, 1, 2000), "the frame after it is delivered by the next poll");
            assertEquals(List.of((byte) 1, (byte) 2, (byte) 3), seen);
            assertEquals(3, port.counters().get(Counter.RX_PACKETS));
        }
    }

    @Test
    void framesSentThroughTheUdpLayerHaveValidChecksumsOnTheWire() throws Exception {
        Capture.require();
        try (UdpEndpoint udp = t.executorA().call(() -> Bypass.openUdp("afxdp:" + t.ifaceA() + "?xdp=drv&mode=copy"));
             Capture cap = Capture.start(t.b().name(), t.ifaceB(), "udp dst port 7200", 1,
                 "ip.checksum.status", "udp.checksum.status", "udp.length", "udp.payload")) {
            udp.bind(7201);
            final UnsafeBuffer payload = new UnsafeBuffer("checksummed".getBytes(StandardCharsets.US_ASCII));
            final UdpDestination dst = UdpDestination.of(t.addressB(), 7200);
            int rc = UdpEndpoint.NEIGHBOUR_PENDING;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (rc == UdpEndpoint.NEIGHBOUR_PENDING && System.nanoTime() < deadline) {
                rc = udp.send(dst, payload, 0, payload.capacity());
                udp.flush();
                udp.poll((b, o, l, m) -> { }, 16);
                if (rc == UdpEndpoint.NEIGHBOUR_PENDING) {
                    Thread.sleep(10);
                }
            }
            assertEquals(UdpEndpoint.OK, rc, "next hop resolved through the kernel's neighbour table");
            final List<String> lines = cap.await();
            assertEquals(1, lines.size(), "captured " + lines);
            // tshark checksum status 1 = Good (0 Bad, 2 Unverified).
            assertEquals("1,1,19," + hex("checksummed"), lines.get(0));
        }
    }

    private static String hex(final String s) {
        final StringBuilder sb = new StringBuilder();
        for (final byte b : s.getBytes(StandardCharsets.US_ASCII)) {
            sb.append(String.format("%02x", b));
        }
        return sb.toString();
    }

    @Test
    void joinMakesTheKernelSendIgmpAndLeaveUndoesIt() throws Exception {
        Capture.require();
        final int group = Ipv4.parse("239.42.0.7");
        try (Port port = open("xdp=drv&mode=copy")) {
            try (Capture cap = Capture.start(t.b().name(), t.ifaceB(), "igmp", 1, "ip.src", "igmp.type", "igmp.maddr")) {
                port.joinMulticast(group);
                final List<String> lines = cap.await();
                assertEquals(1, lines.size(), "IGMP report after join: " + lines);
                // IGMPv3 membership report (0x22) from A naming the group.
                assertTrue(lines.get(0).startsWith(t.addressAText() + ",0x22,") && lines.get(0).contains("239.42.0.7"),
                    lines.get(0));
            }
            final String maddr = t.a().ip("maddr", "show", "dev", t.ifaceA());
            assertTrue(maddr.contains("239.42.0.7"), "kernel membership (NIC filter) after join: " + maddr);
            try (Capture cap = Capture.start(t.b().name(), t.ifaceB(), "igmp", 1, "ip.src", "igmp.type", "igmp.maddr")) {
                port.leaveMulticast(group);
                final List<String> lines = cap.await();
                assertEquals(1, lines.size(), "IGMP report after leave: " + lines);
                assertTrue(lines.get(0).contains("239.42.0.7"), lines.get(0));
            }
            assertFalse(t.a().ip("maddr", "show", "dev", t.ifaceA()).contains("239.42.0.7"), "membership gone after leave");
        }
    }

    @Test
    void resolveNeighbourAsksTheKernelAndGetsThePeersMac() throws Exception {
        try (Port port = open("xdp=drv&mode=copy")) {
            long mac = port.resolveNeighbour(t.addressB());
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (mac < 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
                mac = port.resolveNeighbour(t.addressB());
            }
            assertEquals(t.macB(), mac, "MAC from the kernel after it resolved the address with ARP");
            assertTrue(t.a().ip("neigh", "show", "dev", t.ifaceA()).contains(t.addressBText()));
            // An address nobody answers for stays unresolved rather than inventing a MAC.
            assertEquals(-1, port.resolveNeighbour(t.addressA() + 50));
        }
    }

    @Test
    void kernelStatisticsReachTheCounters() throws Exception {
        // Tiny RX ring and no polling: the kernel counts rx_ring_full, which must show up.
        try (Port port = open("xdp=drv&mode=copy&rxRing=32&fillRing=64&frames=256");
             RawSocket raw = t.executorB().call(() -> RawSocket.open(t.ifaceB()))) {
            port.addFlow(0, new FlowRule(t.addressA(), 7300));
            final byte[] f = Frames.udp().macs(t.macB(), t.macA()).addresses(t.addressB(), t.addressA()).ports(5, 7300)
                .payload(new byte[32]).build();
            for (int i = 0; i < 200; i++) {
                raw.send(f);
            }
            Thread.sleep(200);
            port.counters().refresh();
            final long full = port.counters().get(Counter.DROP_RX_RING_FULL);
            assertTrue(full >= 200 - 32 - 64, "rx_ring_full counted: " + port.counters());
            final int delivered = pollFor(port, (b, o, l, m) -> { }, 200, 500);
            assertEquals(200, delivered + full, "every frame either delivered or counted: " + port.counters());
        }
    }

    @Test
    void failedTxKicksAreCountedAndTheFramesStayQueued() throws Exception {
        try (Port port = open("xdp=drv&mode=copy")) {
            assertEquals(0, port.counters().get(Counter.TX_KICK_FAILED));
            // With the interface down the kernel refuses the sendto kick (ENETDOWN); the
            // kick is bound without errno capture, so the counter is all that reports it.
            Cmd.run("ip", "netns", "exec", t.a().name(), "ip", "link", "set", "dev", t.ifaceA(), "down");
            final FrameClaim claim = new FrameClaim();
            assertTrue(port.txQueue(0).tryClaim(60, claim));
            claim.commit();
            assertEquals(1, port.txQueue(0).flush());
            final long failed = port.counters().get(Counter.TX_KICK_FAILED);
            assertEquals(1, failed, "one flush, one kick, counted once: " + port.counters());
            assertEquals(1, port.counters().get(Counter.TX_PACKETS), "the frame stays queued, not dropped");
            assertEquals(0, port.counters().totalDrops(), "a failed kick is not a drop: " + port.counters());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"xdp=drv&mode=copy", "xdp=skb"})
    void hotPathAllocatesNothing(final String params) throws Exception {
        Requirements.require(Allocations.isSupported(), "JVM does not count per-thread allocation");
        try (Port a = open(params);
             Port b = t.executorB().call(() -> Bypass.open("afxdp:" + t.ifaceB() + "?" + params))) {
            b.addFlow(0, new FlowRule(t.addressB(), 7400));
            final byte[] f = Frames.udp().macs(t.macA(), t.macB()).addresses(t.addressA(), t.addressB()).ports(5, 7400)
                .payload(new byte[64]).build();
            final FrameClaim claim = new FrameClaim();
            final long[] received = new long[1];
            final FrameHandler handler = (buf, o, l, m) -> received[0] += buf.getByte(o + l - 1) + 1;
            final Runnable roundTrips = () -> {
                for (int i = 0; i < 2000; i++) {
                    while (!a.txQueue(0).tryClaim(f.length, claim)) {
                        a.txQueue(0).flush();
                    }
                    claim.buffer().putBytes(0, f);
                    claim.commit();
                    a.txQueue(0).flush();
                    final long before = received[0];
                    final long spin = System.nanoTime() + 1_000_000_000L;
                    while (received[0] == before && System.nanoTime() < spin) {
                        b.rxQueue(0).poll(handler, 64);
                    }
                }
            };
            // Enough warm-up for C2: interpreted and C1 code allocate where C2 scalar-replaces.
            final long bytes = Allocations.measure(roundTrips, 30);
            assertEquals(62_000, received[0], "every frame arrived");
            assertEquals(0, bytes, "allocated on poll/tryClaim/commit/flush");
        }
    }
}
