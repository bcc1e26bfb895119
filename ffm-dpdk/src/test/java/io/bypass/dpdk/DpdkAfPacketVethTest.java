package io.bypass.dpdk;

import io.bypass.Bypass;
import io.bypass.Capability;
import io.bypass.FrameClaim;
import io.bypass.FrameHandler;
import io.bypass.Port;
import io.bypass.testing.Frames;
import io.bypass.testing.RawSocket;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link DpdkVethTest} through DPDK's net_af_packet PMD, plus two queue pairs and the link status. */
class DpdkAfPacketVethTest extends DpdkVethTest {
    @Override
    String devargs(final int index, final String iface) {
        return "net_af_packet" + index + ",iface=" + iface;
    }

    @Override
    String smallRingUri(final int index) {
        // The RX ring is the kernel's PACKET_RX_RING: framecnt frames (rxDesc does not size it).
        return uri(index, "promisc=true").replace("?", ",framecnt=" + SMALL_RING + "?");
    }

    @Test
    void twoQueuePairsBothReceiveAndSendAndTheLinkIsUp() throws Exception {
        final int index = DpdkTestSupport.nextVdevIndex();
        final Port port = topology().executorA().call(() -> Bypass.open("dpdk:net_af_packet" + index + ",iface="
            + topology().ifaceA() + ",qpairs=2?hugepages=false&rxQueues=2&txQueues=2"));
        final RawSocket raw = topology().executorB().call(() -> RawSocket.open(topology().ifaceB()));
        try (raw; port) {
            assertEquals(2, port.rxQueueCount());
            assertEquals(2, port.txQueueCount());
            assertTrue(port.capabilities().contains(Capability.MULTI_QUEUE), port.capabilities().toString());
            assertTrue(((DpdkPort) port).isLinkUp(), "veth end is up");
            // 64 UDP flows: the packet fanout hashes flows over the two queues, so both must see some.
            final int flows = 64;
            for (int i = 0; i < flows; i++) {
                raw.send(Frames.udp().macs(topology().macB(), topology().macA())
                    .addresses(topology().addressB(), topology().addressA()).ports(40_000 + i, 9_000 + i)
                    .payload(new byte[18]).build());
            }
            final long[] perQueue = new long[2];
            final FrameHandler count = (b, o, l, m) -> perQueue[m.queueId()]++;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (perQueue[0] + perQueue[1] < flows && System.nanoTime() < deadline) {
                port.rxQueue(0).poll(count, 64);
                port.rxQueue(1).poll(count, 64);
            }
            assertEquals(flows, perQueue[0] + perQueue[1]);
            assertTrue(perQueue[0] > 0 && perQueue[1] > 0, "both queues received: " + perQueue[0] + " / " + perQueue[1]);
            // Each TX queue sends on its own.
            final FrameClaim claim = new FrameClaim();
            for (int q = 0; q < 2; q++) {
                assertTrue(port.txQueue(q).tryClaim(60, claim));
                claim.buffer().setMemory(0, 60, (byte) q);
                claim.buffer().putShort(12, (short) 0x88B5, java.nio.ByteOrder.BIG_ENDIAN);
                claim.commit();
                assertEquals(1, port.txQueue(q).flush());
                final int marker = q;
                final byte[] got = raw.receive(2000, f -> f.length >= 60 && (f[12] & 0xFF) == 0x88 && (f[13] & 0xFF) == 0xB5
                    && f[20] == marker);
                assertTrue(got != null, "frame sent on TX queue " + q + " reached the peer");
            }
        }
    }
}
