package io.bypass.efvi;

import io.bypass.Counter;
import io.bypass.conformance.BridgedDutLoss;
import io.bypass.conformance.KernelTcpPeer;
import io.bypass.conformance.TcpConformanceSuite;
import io.bypass.conformance.TcpLossRules;
import io.bypass.net.Ipv4;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.tcp.TcpListener;
import org.junit.jupiter.api.Test;

import java.nio.channels.SocketChannel;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TcpConformanceSuite} on {@code efvi:}, driven by Bypass's software stand-in for libciul
 * (surefire sets {@code bypass.efvi.libciul}): Bypass's own TCP beside the kernel, which keeps the
 * DUT interface's address; each listener and connection steers its flow with an ef_vi TCP filter
 * ({@code ip4_local} for a listener, {@code ip4_full} for a connection) and reserves its port in the
 * kernel. This proves the Java backend, the shim and the ef_vi call sequence for TCP; it says
 * nothing about a Solarflare NIC, which is still to be verified on one.
 *
 * <p>What a filter does to the kernel is the stand-in's MODEL of the NIC: a NIC delivers a filtered
 * flow to the VI only, so the kernel never sees it and never answers it with a RST. The stand-in
 * reads a copy of every frame from an AF_PACKET socket, so while a TCP filter is installed it drops
 * the flow's frames for the kernel with an nftables rule at the interface's netdev ingress hook
 * (packet taps see a frame before that hook), removed with the filter and when the VI is freed.
 *
 * <p>Loss toward us must be real, and the suite's default drops at the netdev ingress hook, after
 * the stand-in has its copy: it would drop nothing of ours. So the port is opened on a veth behind
 * a bridge in the DUT namespace, which drops ({@link BridgedDutLoss}). The site's veth pair has TX
 * offloads off (the suite's default site, as a NIC on the wire): with TSO on, the kernel peer would
 * hand the veth 64 KiB segments no NIC receives, which the stand-in, reading the interface's frames
 * as they come, would see whole and discard as longer than a packet buffer.
 */
class EfviTcpConformanceTest extends TcpConformanceSuite {
    private static final String STANDIN_TABLE = "table netdev bypass_standin_";

    private final BridgedDutLoss loss = new BridgedDutLoss("te2", true);
    private boolean bridged;

    @Override
    protected String uriFor(final String iface) {
        if (site() == null) {
            return "efvi:" + iface;
        }
        if (!bridged) {
            loss.bridge(site());
            bridged = true;
        }
        return "efvi:" + loss.iface();
    }

    /**
     * The stand-in's model of a NIC filter: a listener's and a connection's flows are dropped for the
     * kernel (nftables netdev ingress, one set element each) exactly while their filters exist, the
     * DUT's kernel sends no RST meanwhile (it would answer the peer's SYN-ACK to a port it has only a
     * bound socket on), and nothing is left once the endpoint is closed.
     */
    @Test
    void theStandinKeepsEachTcpFlowFromTheKernelWhileItsFilterExists() throws Exception {
        final KernelTcpPeer peer = peer();
        final int port = freshPort();
        final Future<SocketChannel> accepted = peer.accept(peer.listen(port));
        final TcpEndpoint ep = open();
        final long resetsBefore = StandinKernelView.kernelResetsSent(site());
        final int listenPort = freshPort();
        final TcpListener listener = site().dut().call(() -> ep.listen(listenPort));
        final TcpConnection c = connect(ep, port);
        accepted.get(5, TimeUnit.SECONDS);
        final String dut = Ipv4.toString(site().dutAddress());
        final String rules = StandinKernelView.ruleset(site());
        assertTrue(rules.contains(STANDIN_TABLE), rules);
        assertTrue(has(rules, dut + " . " + listenPort), "the listener's element: " + rules);
        assertTrue(rules.contains(dut + " . " + c.localPort() + " . " + Ipv4.toString(site().peerAddress()) + " . " + port),
            "the connection's element: " + rules);
        assertEquals(resetsBefore, StandinKernelView.kernelResetsSent(site()), "the DUT's kernel sent no RST (Tcp OutRsts)");
        site().dut().run(listener::close);
        final String afterListener = StandinKernelView.ruleset(site());
        assertFalse(has(afterListener, dut + " . " + listenPort), "the listener's element went with it: " + afterListener);
        site().dut().run(ep::close);
        final String after = StandinKernelView.ruleset(site());
        assertFalse(after.contains(STANDIN_TABLE), "nothing of the stand-in left after close: " + after);
    }

    private static boolean has(final String ruleset, final String element) {
        return java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(element) + "(?![0-9]|\\s\\.)").matcher(ruleset).find();
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
