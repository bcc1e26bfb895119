package io.bypass.efvi;

import io.bypass.Bypass;
import io.bypass.FlowRule;
import io.bypass.FrameClaim;
import io.bypass.FrameHandler;
import io.bypass.FrameMeta;
import io.bypass.Port;
import io.bypass.RxQueue;
import io.bypass.TxQueue;
import io.bypass.net.Ipv4;
import io.bypass.testing.Allocations;
import io.bypass.testing.Frames;
import io.bypass.testing.Requirements;
import io.bypass.testkit.TestPorts;
import io.bypass.testkit.VethPair;
import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The {@code efvi:} Port's hot path (tryClaim, commit, flush, poll with RX refill and TX
 * completion reaping) allocates nothing in steady state: round trips of raw frames against
 * a kernel UDP reflector in the peer namespace, measured with per-thread allocation counts.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class EfviAllocationTest {
    /** Counts frames; a field, so the hot path captures nothing. */
    private static final class Counting implements FrameHandler {
        long frames;

        @Override
        public void onFrame(final DirectBuffer buffer, final int offset, final int length, final FrameMeta meta) {
            frames++;
        }
    }

    @Test
    void portHotPathAllocatesNothing() throws Exception {
        Requirements.requireNetns();
        Requirements.requireBackendAvailable("efvi");
        try (VethPair topo = VethPair.create()) {
            final int dutPort = TestPorts.random();
            final int peerPort = dutPort + 1;
            final DatagramChannel reflector = topo.executorB().call(() -> {
                final DatagramChannel c = DatagramChannel.open();
                c.bind(new InetSocketAddress(InetAddress.getByAddress(Ipv4.toBytes(topo.addressB())), peerPort));
                return c;
            });
            final Thread echo = Thread.ofPlatform().daemon().start(() -> {
                final ByteBuffer b = ByteBuffer.allocateDirect(2048);
                try {
                    while (reflector.isOpen()) {
                        b.clear();
                        final SocketAddress from = reflector.receive(b);
                        b.flip();
                        reflector.send(b, from);
                    }
                } catch (final Exception closed) {
                    // the test closed the reflector
                }
            });
            try {
                topo.executorA().run(() -> {
                    try (Port port = Bypass.open("efvi:" + topo.ifaceA())) {
                        port.addFlow(0, new FlowRule(0, dutPort));
                        final byte[] frame = Frames.udp().macs(topo.macA(), topo.macB())
                            .addresses(topo.addressA(), topo.addressB()).ports(dutPort, peerPort)
                            .payload(new byte[32]).build();
                        final RxQueue rx = port.rxQueue(0);
                        final TxQueue tx = port.txQueue(0);
                        final FrameClaim claim = new FrameClaim();
                        final Counting handler = new Counting();
                        final String[] failure = new String[1];
                        final Runnable trips = () -> {
                            for (int i = 0; i < 2_000 && failure[0] == null; i++) {
                                if (!tx.tryClaim(frame.length, claim)) {
                                    failure[0] = "TX ring full at trip " + i;
                                    return;
                                }
                                claim.buffer().putBytes(0, frame);
                                claim.commit();
                                tx.flush();
                                final long want = handler.frames + 1;
                                final long deadline = System.nanoTime() + 2_000_000_000L;
                                while (handler.frames < want) {
                                    rx.poll(handler, 8);
                                    if (System.nanoTime() - deadline > 0) {
                                        failure[0] = "no echo at trip " + i;
                                        return;
                                    }
                                }
                            }
                        };
                        final long bytes = Allocations.steadyState(trips, 30, 3);
                        assertNull(failure[0], failure[0]);
                        assertEquals(0, bytes, "fewest bytes allocated in three windows of 2,000 round trips once warm");
                    }
                });
            } finally {
                reflector.close();
                echo.join(5_000);
            }
        }
    }
}
