package io.bypass.efvi;

import io.bypass.Bypass;
import io.bypass.BypassException;
import io.bypass.Capability;
import io.bypass.Counter;
import io.bypass.FlowRule;
import io.bypass.FrameClaim;
import io.bypass.FrameHandler;
import io.bypass.FrameMeta;
import io.bypass.Port;
import io.bypass.RxQueue;
import io.bypass.TxQueue;
import io.bypass.net.Ipv4;
import io.bypass.testing.Frames;
import io.bypass.testing.RawSocket;
import io.bypass.testing.Requirements;
import io.bypass.testkit.TestPorts;
import io.bypass.testkit.VethPair;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code efvi:} {@link Port} on a veth pair (DUT in namespace A, a raw socket peer in
 * namespace B), driven by the software libciul stand-in: filters, RX discards, software
 * timestamps, TX completions and back-pressure, kernel multicast joins and neighbours, close.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class EfviPortTest {
    private VethPair topo;
    private int nextPort = TestPorts.random();

    @BeforeAll
    void createTopology() {
        Requirements.requireNetns();
        Requirements.requireBackendAvailable("efvi");
        topo = VethPair.create();
    }

    @AfterAll
    void removeTopology() {
        if (topo != null) {
            topo.close();
        }
    }

    /** The stand-in's process-wide statistics (its test hook): no filter, not for us, RX truncated, TX errors. */
    private static long[] standinStats() throws Throwable {
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            final java.lang.foreign.SymbolLookup lib = java.lang.foreign.SymbolLookup.libraryLookup(
                java.nio.file.Path.of(System.getProperty("bypass.efvi.libciul")), a);
            final java.lang.invoke.MethodHandle stats = java.lang.foreign.Linker.nativeLinker().downcallHandle(
                lib.find("bypass_ciul_standin_stats").orElseThrow(),
                java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT, java.lang.foreign.ValueLayout.ADDRESS));
            final java.lang.foreign.MemorySegment out = a.allocate(4 * Long.BYTES, 8);
            final int rc = (int) stats.invokeExact(out);
            assertEquals(0, rc);
            return out.toArray(java.lang.foreign.ValueLayout.JAVA_LONG);
        }
    }

    private Port open(final String params) throws Exception {
        return topo.executorA().call(() -> Bypass.open("efvi:" + topo.ifaceA() + params));
    }

    private Frames.Udp toDut(final int port) {
        return Frames.udp().macs(topo.macB(), topo.macA()).addresses(topo.addressB(), topo.addressA()).ports(40_000, port);
    }

    /** Collects copies of received frames and their metadata. */
    private static final class Collector implements FrameHandler {
        final List<byte[]> frames = new ArrayList<>();
        final List<long[]> meta = new ArrayList<>();

        @Override
        public void onFrame(final org.agrona.DirectBuffer buffer, final int offset, final int length, final FrameMeta m) {
            final byte[] f = new byte[length];
            buffer.getBytes(offset, f);
            frames.add(f);
            meta.add(new long[] {m.queueId(), m.timestampNanos(), m.isHardwareTimestamp() ? 1 : 0});
        }
    }

    private static void pollFor(final RxQueue rx, final Collector c, final int want, final long millis) {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (c.frames.size() < want && System.nanoTime() - deadline < 0) {
            rx.poll(c, 16);
        }
    }

    @Test
    void describesTheInterfaceAndItsCapabilities() throws Exception {
        try (Port port = open("")) {
            assertEquals("efvi", port.backend());
            assertEquals(EnumSet.of(Capability.L2_FRAMES, Capability.ZERO_COPY_RX, Capability.ZERO_COPY_TX, Capability.MULTICAST,
                Capability.FLOW_STEERING, Capability.KERNEL_NEIGHBOURS), port.capabilities(),
                "the stand-in's timestamps are software, so no HARDWARE_TIMESTAMPS");
            assertEquals(topo.macA(), port.macAddress());
            assertEquals(topo.addressA(), port.ipv4Address());
            assertEquals(VethPair.PREFIX_LENGTH, port.ipv4PrefixLength());
            assertEquals(1500, port.mtu());
            assertEquals(1, port.rxQueueCount());
            assertEquals(1, port.txQueueCount());
            assertThrows(IllegalArgumentException.class, () -> port.rxQueue(1));
        }
    }

    @Test
    void receivesOnlyFilteredFlowsWithSoftwareTimestamps() throws Exception {
        topo.executorA().run(() -> {
            try (Port port = Bypass.open("efvi:" + topo.ifaceA()); RawSocket peer = topo.executorB().call(() -> RawSocket.open(topo.ifaceB()))) {
                final int udp = nextPort++;
                final int other = nextPort++;
                port.addFlow(0, new FlowRule(0, udp)); // 0: the port's own address
                final RxQueue rx = port.rxQueue(0);
                final byte[] good = toDut(udp).payload("filtered".getBytes()).build();
                final long before = System.currentTimeMillis() * 1_000_000L;
                final long[] statsBefore;
                try {
                    statsBefore = standinStats();
                } catch (final Throwable t) {
                    throw new AssertionError(t);
                }
                peer.send(toDut(other).payload("no filter".getBytes()).build());
                peer.send(good);
                final Collector c = new Collector();
                pollFor(rx, c, 1, 5000);
                pollFor(rx, c, 2, 300);
                final long after = System.currentTimeMillis() * 1_000_000L + 1_000_000L;
                assertEquals(1, c.frames.size(), "only the filtered flow arrives");
                try {
                    assertTrue(standinStats()[0] > statsBefore[0], "the unfiltered frame was seen and left to the kernel");
                } catch (final Throwable t) {
                    throw new AssertionError(t);
                }
                assertArrayEquals(good, c.frames.get(0), "the frame arrives byte for byte (RX prefix skipped)");
                final long ts = c.meta.get(0)[1];
                assertNotEquals(FrameMeta.NO_TIMESTAMP, ts, "the stand-in stamps every frame");
                assertTrue(ts >= before - 1_000_000L && ts <= after, "timestamp " + ts + " outside [" + before + ", " + after + "]");
                assertEquals(0, c.meta.get(0)[2], "software timestamp, not a hardware one");
                assertEquals(1, port.counters().get(Counter.RX_PACKETS));
                assertEquals(good.length, port.counters().get(Counter.RX_BYTES));

                // Adding the same flow twice counts a reference; the filter goes with the last removal.
                port.addFlow(0, new FlowRule(topo.addressA(), udp));
                port.removeFlow(0, new FlowRule(topo.addressA(), udp));
                peer.send(good);
                pollFor(rx, c, 2, 5000);
                assertEquals(2, c.frames.size(), "still filtered after one of two removals");
                port.removeFlow(0, new FlowRule(0, udp));
                peer.send(good);
                pollFor(rx, c, 3, 300);
                assertEquals(2, c.frames.size(), "nothing after the filter is removed");
                assertThrows(BypassException.class, () -> port.removeFlow(0, new FlowRule(0, udp)), "removing a flow never added");
                // A TCP listener rule: the port's own address filled in, the port reserved in the kernel until removed.
                final FlowRule tcp = port.addFlow(0, FlowRule.tcpListener(0, udp));
                assertEquals(FlowRule.tcpListener(topo.addressA(), udp), tcp);
                assertThrows(java.net.BindException.class, () -> {
                    try (java.nio.channels.ServerSocketChannel s = java.nio.channels.ServerSocketChannel.open()) {
                        s.bind(new java.net.InetSocketAddress(udp));
                    }
                }, "the kernel refuses our TCP port to its own sockets");
                port.removeFlow(0, tcp);
                try (java.nio.channels.ServerSocketChannel s = java.nio.channels.ServerSocketChannel.open()) {
                    s.bind(new java.net.InetSocketAddress(udp)); // free again
                }
            }
        });
    }

    @Test
    void frameLargerThanABufferIsDiscardedAndCounted() throws Exception {
        topo.a().ip("link", "set", "dev", topo.ifaceA(), "mtu", "4000");
        topo.b().ip("link", "set", "dev", topo.ifaceB(), "mtu", "4000");
        try {
            topo.executorA().run(() -> {
                try (Port port = Bypass.open("efvi:" + topo.ifaceA()); RawSocket peer = topo.executorB().call(() -> RawSocket.open(topo.ifaceB()))) {
                    final int udp = nextPort++;
                    port.addFlow(0, new FlowRule(0, udp));
                    final byte[] big = new byte[3000];
                    Arrays.fill(big, (byte) 7);
                    final byte[] small = toDut(udp).payload("after".getBytes()).build();
                    peer.send(toDut(udp).payload(big).build());
                    peer.send(small);
                    final Collector c = new Collector();
                    pollFor(port.rxQueue(0), c, 1, 5000);
                    assertEquals(1, c.frames.size());
                    assertArrayEquals(small, c.frames.get(0), "the next frame still arrives, in a refilled ring");
                    assertEquals(1, port.counters().get(Counter.DROP_RX_OVERSIZE), "RX_DISCARD/TRUNC counted: " + port.counters());
                }
            });
        } finally {
            topo.a().ip("link", "set", "dev", topo.ifaceA(), "mtu", "1500");
            topo.b().ip("link", "set", "dev", topo.ifaceB(), "mtu", "1500");
        }
    }

    @Test
    void transmitsCompletesAndBackPressures() throws Exception {
        topo.executorA().run(() -> {
            try (Port port = Bypass.open("efvi:" + topo.ifaceA() + "?buffers=8"); RawSocket peer = topo.executorB().call(() -> RawSocket.open(topo.ifaceB()))) {
                final TxQueue tx = port.txQueue(0);
                final FrameClaim claim = new FrameClaim();
                final byte[] frame = Frames.udp().macs(topo.macA(), topo.macB()).addresses(topo.addressA(), topo.addressB())
                    .ports(1234, 4321).payload("from efvi".getBytes()).build();
                // buffers=8: 4 for RX, 4 for TX. Without a flush the fifth claim is refused and counted.
                int claimed = 0;
                final List<FrameClaim> held = new ArrayList<>();
                while (true) {
                    final FrameClaim c = new FrameClaim();
                    if (!tx.tryClaim(frame.length, c)) {
                        break;
                    }
                    held.add(c);
                    claimed++;
                    assertTrue(claimed <= 4, "more TX claims than TX buffers");
                }
                assertEquals(4, claimed);
                assertEquals(1, port.counters().get(Counter.TX_BACK_PRESSURED));
                held.get(3).abort();
                assertTrue(tx.tryClaim(frame.length, claim), "an aborted buffer is free again");
                claim.abort();
                for (int i = 0; i < 3; i++) {
                    held.get(i).buffer().putBytes(0, frame);
                    held.get(i).commit();
                }
                assertEquals(3, tx.flush());
                for (int i = 0; i < 3; i++) {
                    final byte[] got = peer.receive(5000, f -> f.length == frame.length && Arrays.equals(f, frame));
                    assertNotNull(got, "peer received frame " + i);
                }
                // Completions came back through the event queue: all four buffers can be claimed again.
                for (int round = 0; round < 3; round++) {
                    for (int i = 0; i < 4; i++) {
                        assertTrue(tx.tryClaim(frame.length, claim), "round " + round + " claim " + i);
                        claim.buffer().putBytes(0, frame);
                        claim.commit();
                    }
                    assertEquals(4, tx.flush());
                }
                assertEquals(15, port.counters().get(Counter.TX_PACKETS));
                assertEquals(15L * frame.length, port.counters().get(Counter.TX_BYTES));
                assertThrows(IllegalArgumentException.class, () -> tx.tryClaim(tx.maxFrameLength() + 1, claim));
            }
        });
    }

    @Test
    void refusedTransmitIsCountedAndItsBufferComesBack() throws Exception {
        topo.executorA().run(() -> {
            try (Port port = Bypass.open("efvi:" + topo.ifaceA() + "?buffers=4")) {
                final TxQueue tx = port.txQueue(0);
                final FrameClaim claim = new FrameClaim();
                // mtu + 18 leaves room for a VLAN tag; an untagged frame that long exceeds the
                // MTU, so the "NIC" refuses it: a TX_ERROR event, counted, buffer reclaimed.
                assertEquals(1518, tx.maxFrameLength());
                for (int i = 0; i < 6; i++) {
                    assertTrue(tx.tryClaim(1518, claim), "claim " + i + ": refused buffers must come back");
                    claim.buffer().setMemory(0, 1518, (byte) 0);
                    claim.buffer().putLong(0, topo.macB() << 16);
                    claim.commit();
                    tx.flush();
                }
                assertEquals(6, port.counters().get(Counter.DROP_TX_INVALID), "every TX_ERROR counted: " + port.counters());
            }
        });
    }

    @Test
    void multicastJoinIsDoneByTheKernelSoIgmpGoesOut() throws Exception {
        final int group = Ipv4.parse("239.88.0." + (1 + ThreadLocalRandom.current().nextInt(200)));
        topo.executorA().run(() -> {
            try (Port port = Bypass.open("efvi:" + topo.ifaceA())) {
                port.joinMulticast(group);
                assertTrue(topo.a().ip("maddr", "show", "dev", topo.ifaceA()).contains(Ipv4.toString(group)),
                    "the kernel holds the membership");
                port.leaveMulticast(group);
                assertFalse(topo.a().ip("maddr", "show", "dev", topo.ifaceA()).contains(Ipv4.toString(group)),
                    "left in the kernel");
                assertThrows(BypassException.class, () -> port.leaveMulticast(group));
                assertThrows(IllegalArgumentException.class, () -> port.joinMulticast(topo.addressB()));
                port.joinMulticast(group);
            }
            assertFalse(topo.a().ip("maddr", "show", "dev", topo.ifaceA()).contains(Ipv4.toString(group)),
                "close leaves every group");
        });
    }

    @Test
    void neighboursComeFromTheKernel() throws Exception {
        topo.a().ip("neigh", "flush", "dev", topo.ifaceA());
        topo.executorA().run(() -> {
            try (Port port = Bypass.open("efvi:" + topo.ifaceA())) {
                long mac = port.resolveNeighbour(topo.addressB());
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (mac < 0 && System.nanoTime() - deadline < 0) {
                    Thread.sleep(20);
                    mac = port.resolveNeighbour(topo.addressB());
                }
                assertEquals(topo.macB(), mac, "the kernel resolved the peer after our probe");
            }
        });
    }

    @Test
    void udpEndpointAcceptsTheProtocolLayersParameters() throws Exception {
        topo.executorA().run(() -> {
            final int port = nextPort++;
            try (io.bypass.udp.UdpEndpoint udp = Bypass.openUdp("efvi:" + topo.ifaceA() + "?rxRing=1024&port=" + port
                + "&unicastTtl=7&multicastTtl=3&igmp=2")) {
                assertEquals("efvi", udp.backend());
                assertEquals(port, udp.localPort());
            }
            final io.bypass.BypassUriException e = assertThrows(io.bypass.BypassUriException.class,
                () -> Bypass.openUdp("efvi:" + topo.ifaceA() + "?queue=1"));
            assertTrue(e.getMessage().contains("queue"), e.getMessage());
        });
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseThrows() throws Exception {
        topo.executorA().run(() -> {
            final Port port = Bypass.open("efvi:" + topo.ifaceA());
            port.addFlow(0, new FlowRule(0, nextPort++));
            final RxQueue rx = port.rxQueue(0);
            final TxQueue tx = port.txQueue(0);
            final FrameClaim held = new FrameClaim();
            assertTrue(tx.tryClaim(64, held));
            port.close();
            assertTrue(port.isClosed());
            assertDoesNotThrow(port::close);
            final Collector c = new Collector();
            assertThrows(BypassException.class, () -> rx.poll(c, 8));
            assertThrows(BypassException.class, () -> tx.tryClaim(64, new FrameClaim()));
            assertThrows(BypassException.class, tx::flush);
            assertThrows(BypassException.class, held::commit, "a claim from before close must not touch freed memory");
            assertThrows(BypassException.class, () -> port.addFlow(0, new FlowRule(0, 9)));
            assertThrows(BypassException.class, () -> port.joinMulticast(Ipv4.parse("239.1.1.1")));
            assertThrows(BypassException.class, () -> port.rxQueue(0));
        });
    }
}
