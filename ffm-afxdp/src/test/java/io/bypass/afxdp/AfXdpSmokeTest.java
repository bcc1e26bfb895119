package io.bypass.afxdp;

import io.bypass.Bypass;
import io.bypass.FlowRule;
import io.bypass.FrameClaim;
import io.bypass.Port;
import io.bypass.testing.Frames;
import io.bypass.testing.Requirements;
import io.bypass.testkit.VethPair;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.net.StandardProtocolFamily;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AfXdpSmokeTest {
    @BeforeAll
    static void host() {
        Requirements.requireNetns();
        Requirements.requireBackendAvailable("afxdp");
    }

    @Test
    void reopenRightAfterClose() throws Exception {
        try (VethPair t = VethPair.create()) {
            for (int i = 0; i < 3; i++) {
                // Each open must succeed although the kernel frees the last socket's queue binding
                // and XDP link asynchronously after close.
                final Port port = t.executorA().call(() -> Bypass.open("afxdp:" + t.ifaceA() + "?xdp=drv&mode=copy"));
                assertFalse(port.isClosed());
                assertTrue(t.a().ip("link", "show", "dev", t.ifaceA()).contains("xdp"), "attached while open");
                port.close();
                assertTrue(port.isClosed());
                assertFalse(t.a().ip("link", "show", "dev", t.ifaceA()).contains("xdp"), "detached by close");
            }
        }
    }

    @Test
    void receivesSteeredFlowAndSends() throws Exception {
        try (VethPair t = VethPair.create()) {
            final Port port = t.executorA().call(() -> Bypass.open("afxdp:" + t.ifaceA() + "?xdp=drv&mode=copy"));
            try {
                System.out.println(port + " caps=" + port.capabilities());
                port.addFlow(0, new FlowRule(t.addressA(), 9000));
                final DatagramChannel ch = t.executorB().call(() -> {
                    DatagramChannel c = DatagramChannel.open(StandardProtocolFamily.INET);
                    c.bind(new InetSocketAddress(t.addressBText(), 9001));
                    return c;
                });
                ch.send(ByteBuffer.wrap("hello".getBytes()), new InetSocketAddress(t.addressAText(), 9000));
                final int[] got = new int[1];
                final long deadline = System.nanoTime() + 5_000_000_000L;
                while (got[0] == 0 && System.nanoTime() < deadline) {
                    port.rxQueue(0).poll((b, o, l, m) -> { got[0] = l; }, 16);
                }
                assertEquals(14 + 20 + 8 + 5, got[0]);
                final byte[] frame = Frames.udp().macs(t.macA(), t.macB()).addresses(t.addressA(), t.addressB())
                    .ports(9000, 9001).payload("world".getBytes()).build();
                final FrameClaim claim = new FrameClaim();
                assertTrue(port.txQueue(0).tryClaim(frame.length, claim));
                claim.buffer().putBytes(0, frame);
                claim.commit();
                assertEquals(1, port.txQueue(0).flush());
                ch.configureBlocking(false);
                final ByteBuffer bb = ByteBuffer.allocate(100);
                final long d2 = System.nanoTime() + 5_000_000_000L;
                while (ch.receive(bb) == null && System.nanoTime() < d2) {
                    Thread.sleep(1);
                }
                assertEquals(5, bb.position());
                System.out.println(port.counters());
            } finally {
                port.close();
            }
            assertFalse(t.a().ip("link", "show", "dev", t.ifaceA()).contains("xdp"));
        }
    }
}
