package io.bypass.afxdp;

import io.bypass.Bypass;
import io.bypass.BypassUriException;
import io.bypass.Capability;
import io.bypass.Counter;
import io.bypass.FlowRule;
import io.bypass.Port;
import io.bypass.net.Ipv4;
import io.bypass.testing.Frames;
import io.bypass.testing.RawSocket;
import io.bypass.testing.Requirements;
import io.bypass.testkit.Netns;
import io.bypass.testkit.VethPair;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * URI options on real veth pairs: several queues sharing one UMEM, busy polling, huge
 * pages, 2 KiB frames.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AfXdpOptionsTest {
    @BeforeAll
    static void host() {
        Requirements.requireNetns();
        Requirements.requireBackendAvailable("afxdp");
    }

    /** Sends {@code count} steered frames from B to A, one flow (source port) each, and polls them all on A. */
    private static int roundTrip(final Port port, final RawSocket raw, final long macA, final long macB, final int a,
                                 final int b, final int count, final int[] perQueue) {
        port.addFlow(0, new FlowRule(a, 7500));
        for (int i = 0; i < count; i++) {
            raw.send(Frames.udp().macs(macB, macA).addresses(b, a).ports(10_000 + i, 7500).payload(new byte[18]).build());
        }
        int got = 0;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (got < count && System.nanoTime() < deadline) {
            for (int q = 0; q < port.rxQueueCount(); q++) {
                final int n = port.rxQueue(q).poll((buf, o, l, m) -> { }, 64);
                perQueue[q] += n;
                got += n;
            }
        }
        return got;
    }

    @Test
    void twoQueuesShareOneUmem() throws Exception {
        // Topology's veth has one queue; this pair has two, so frames spread over both by flow hash.
        final String suffix = Netns.randomSuffix();
        try (Netns a = Netns.create("bypq"); Netns b = Netns.create("bypr")) {
            final String ia = "bqa" + suffix;
            final String ib = "bqb" + suffix;
            a.ip("link", "add", ia, "numtxqueues", "2", "numrxqueues", "2", "type", "veth", "peer", "name", ib,
                "numtxqueues", "2", "numrxqueues", "2", "netns", b.name());
            a.ip("addr", "add", "10.251.7.1/24", "dev", ia);
            b.ip("addr", "add", "10.251.7.2/24", "dev", ib);
            a.ip("link", "set", ia, "up");
            b.ip("link", "set", ib, "up");
            a.awaitUp(ia, 5000);
            b.awaitUp(ib, 5000);
            final long macA = a.macAddress(ia);
            final long macB = b.macAddress(ib);
            try (Port port = a.executor().call(() -> Bypass.open("afxdp:" + ia + "?queues=2&mode=copy&xdp=drv"));
                 RawSocket raw = b.executor().call(() -> RawSocket.open(ib))) {
                assertEquals(2, port.rxQueueCount());
                assertEquals(2, port.txQueueCount());
                assertTrue(port.capabilities().contains(Capability.MULTI_QUEUE));
                // The flow is added for queue 0, but the XSKMAP redirects by the queue a frame arrived on.
                final int[] perQueue = new int[2];
                assertEquals(200, roundTrip(port, raw, macA, macB, Ipv4.parse("10.251.7.1"), Ipv4.parse("10.251.7.2"),
                    200, perQueue));
                assertTrue(perQueue[0] > 0 && perQueue[1] > 0, "both queues received: " + perQueue[0] + "/" + perQueue[1]);
                assertEquals(200, port.counters().get(Counter.RX_PACKETS));
                // Both TX queues send from their own share of the UMEM.
                for (int q = 0; q < 2; q++) {
                    final io.bypass.FrameClaim claim = new io.bypass.FrameClaim();
                    final byte[] f = Frames.udp().macs(macA, macB).addresses(Ipv4.parse("10.251.7.1"), Ipv4.parse("10.251.7.2"))
                        .ports(1, 7600 + q).payload(new byte[4]).build();
                    assertTrue(port.txQueue(q).tryClaim(f.length, claim));
                    claim.buffer().putBytes(0, f);
                    claim.commit();
                    assertEquals(1, port.txQueue(q).flush());
                    final int dport = 7600 + q;
                    final byte[] seen = raw.receive(5000, fr -> fr.length > 37 && ((fr[36] & 0xFF) << 8 | (fr[37] & 0xFF)) == dport);
                    assertTrue(seen != null, "frame from TX queue " + q + " reached the peer");
                }
            }
            // queue is the UDP layer's port queue, as on every backend (it named the NIC queue here once).
            a.executor().call(() -> {
                Bypass.openUdp("afxdp:" + ia + "?queues=2&nicQueue=0&queue=1&mode=copy&xdp=drv").close();
                final BypassUriException e = assertThrows(BypassUriException.class,
                    () -> Bypass.openUdp("afxdp:" + ia + "?queues=2&nicQueue=0&queue=2&mode=copy&xdp=drv"));
                assertTrue(e.getMessage().contains("parameter 'queue' is 2 but the port has 2 RX"), e.getMessage());
                return null;
            });
        }
    }

    @Test
    void busyPollIsSetAndReported() throws Exception {
        try (VethPair t = VethPair.create();
             Port port = t.executorA().call(() -> Bypass.open("afxdp:" + t.ifaceA() + "?mode=copy&busyPoll=20&busyPollBudget=16"));
             RawSocket raw = t.executorB().call(() -> RawSocket.open(t.ifaceB()))) {
            assertTrue(port.capabilities().contains(Capability.BUSY_POLL));
            assertEquals(50, roundTrip(port, raw, t.macA(), t.macB(), t.addressA(), t.addressB(), 50, new int[1]));
        }
    }

    @Test
    void smallFramesAndSmallRings() throws Exception {
        try (VethPair t = VethPair.create();
             Port port = t.executorA().call(() -> Bypass.open("afxdp:" + t.ifaceA()
                 + "?mode=copy&frameSize=2048&frames=128&rxRing=64&txRing=64&fillRing=64&compRing=64&rxBatch=8&txBatch=8"));
             RawSocket raw = t.executorB().call(() -> RawSocket.open(t.ifaceB()))) {
            assertEquals(1500 + 18, port.txQueue(0).maxFrameLength(), "MTU + Ethernet header + VLAN tag, within the 2 KiB frame");
            // More frames than the rings hold, polled in batches of at most 8: every frame recycled correctly.
            int total = 0;
            for (int round = 0; round < 10; round++) {
                total += roundTrip(port, raw, t.macA(), t.macB(), t.addressA(), t.addressB(), 40, new int[1]);
            }
            assertEquals(400, total);
        }
    }

    private static int hugePagesFree() throws java.io.IOException {
        return Integer.parseInt(Files.readAllLines(Path.of("/proc/meminfo")).stream()
            .filter(l -> l.startsWith("HugePages_Free:")).findFirst().orElseThrow().replaceAll("\\D", ""));
    }

    @Test
    void hugePagesBackTheUmem() throws Exception {
        final Path nr = Path.of("/proc/sys/vm/nr_hugepages");
        Requirements.require(Files.isWritable(nr), "needs a writable /proc/sys/vm/nr_hugepages (root, hugetlbfs kernel)");
        final int before = Integer.parseInt(Files.readString(nr).trim());
        // 4000 frames * 4 KiB = 15.6 MiB, rounded up to 8 huge pages of 2 MiB (a size that is
        // not a huge-page multiple, so unmapping must use the rounded length); reserve them
        // for this test only.
        Files.writeString(nr, String.valueOf(before + 8));
        try (VethPair t = VethPair.create()) {
            final int free = hugePagesFree();
            Requirements.require(free >= 8, "could not reserve 8 huge pages (free: " + free + ")");
            try (Port port = t.executorA().call(() -> Bypass.open("afxdp:" + t.ifaceA() + "?mode=copy&hugepages=true&frames=4000"));
                 RawSocket raw = t.executorB().call(() -> RawSocket.open(t.ifaceB()))) {
                final int freeWhileOpen = hugePagesFree();
                assertEquals(free - 8, freeWhileOpen, "the UMEM took 8 huge pages");
                assertEquals(30, roundTrip(port, raw, t.macA(), t.macB(), t.addressA(), t.addressB(), 30, new int[1]));
            }
            // The kernel unpins a closed socket's UMEM from a workqueue (xp_release_deferred):
            // the pages come back shortly after close, not within it.
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (hugePagesFree() != free && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(free, hugePagesFree(), "close gives the huge pages back");
        } finally {
            Files.writeString(nr, String.valueOf(before));
        }
    }
}
