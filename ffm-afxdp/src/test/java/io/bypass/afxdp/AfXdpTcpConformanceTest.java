package io.bypass.afxdp;

import io.bypass.Counter;
import io.bypass.conformance.BridgedDutLoss;
import io.bypass.conformance.ConformanceSite;
import io.bypass.conformance.TcpConformanceSuite;
import io.bypass.conformance.TcpLossRules;
import io.bypass.conformance.KernelTcpPeer;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TcpConformanceSuite} on {@code afxdp:} (native XDP on veth, copy mode): Bypass's own TCP
 * beside the kernel, which keeps the DUT interface's address; each listener and connection steers its
 * flow with the XDP program and reserves its port in the kernel. The veth pair is left as
 * {@code ip link add} makes it, so the kernel peer's segments carry partial checksums (accepted and
 * counted, {@link io.bypass.net.ChecksumPolicy}).
 *
 * <p>Loss toward us must be real, and the suite's default drops at the DUT interface's netdev ingress
 * hook, which an XDP program runs before: it would drop nothing of ours. So the port is opened on a
 * veth behind a bridge in the DUT namespace, which drops ({@link BridgedDutLoss}).
 */
class AfXdpTcpConformanceTest extends TcpConformanceSuite {
    private final BridgedDutLoss loss = new BridgedDutLoss("tl2", true);
    private boolean bridged;

    @Override
    protected ConformanceSite.Kind siteKind() {
        return ConformanceSite.Kind.VETH_OFFLOAD_ON;
    }

    @Override
    protected String uriFor(final String iface) {
        if (site() == null) {
            return "afxdp:" + iface + "?xdp=drv&mode=copy";
        }
        if (!bridged) {
            loss.bridge(site());
            bridged = true;
        }
        return "afxdp:" + loss.iface() + "?xdp=drv&mode=copy";
    }

    /**
     * The kernel peer's segments over veth pairs left as {@code ip link add} makes them carry only the
     * pseudo-header sum (CHECKSUM_PARTIAL): accepted under the default policy and counted, none dropped.
     */
    @Test
    void theKernelPeersPartialChecksumsAreAcceptedAndCounted() throws Exception {
        final KernelTcpPeer peer = peer();
        final int port = freshPort();
        final Future<SocketChannel> accepted = peer.accept(peer.listen(port));
        final TcpEndpoint ep = open();
        final TcpConnection c = connect(ep, port);
        final SocketChannel k = accepted.get(5, TimeUnit.SECONDS);
        final byte[] sent = new byte[8_000]; // fits the kernel's send buffer: written before we poll
        new java.util.Random(3).nextBytes(sent);
        k.write(ByteBuffer.wrap(sent));
        assertArrayEquals(sent, site().dut().call(() -> receive(ep, c, sent.length)));
        assertTrue(ep.counters().get(Counter.RX_PARTIAL_CHECKSUM) > 0, ep.counters().toString());
        assertEquals(0, ep.counters().get(Counter.DROP_BAD_TCP_CHECKSUM), ep.counters().toString());
    }

    @Override
    protected long dutRetransmittedSegments(final TcpEndpoint endpoint) {
        return endpoint.counters().get(Counter.TCP_RETRANSMITTED_SEGMENTS);
    }

    @Override
    protected void dutIngressLoss(final int percent) {
        loss.set(site(), percent);
    }

    @Override
    protected TcpLossRules.Drops dutIngressLossDrops() {
        return loss.drops(site());
    }
}
