package io.bypass.tcp;

import io.bypass.BypassException;
import io.bypass.Capability;
import io.bypass.Counter;
import io.bypass.FlowRule;
import io.bypass.FrameClaim;
import io.bypass.PortUri;
import io.bypass.net.Ethernet;
import io.bypass.net.Ipv4;
import io.bypass.net.Ipv4Header;
import io.bypass.net.Mac;
import io.bypass.net.Tcp;
import io.bypass.testing.MemoryPort;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link L2TcpEndpoint} on a port where the kernel keeps the address ({@link Capability#KERNEL_NEIGHBOURS}):
 * each listener and connection adds its {@link FlowRule} before its first segment (a connection's SYN
 * goes from the local port the port chose) and removes it when it ends, whichever way; a failed add
 * leaves nothing. The port is in memory and records its rules; the peer is crafted segment by segment.
 */
class L2TcpSteeringTest {
    private static final long MAC_US = Mac.parse("02:00:00:00:00:0a");
    private static final long MAC_PEER = Mac.parse("02:00:00:00:00:0b");
    private static final int US = Ipv4.parse("10.0.0.1");
    private static final int PEER = Ipv4.parse("10.0.0.2");
    private static final int L4 = Ethernet.HEADER_LENGTH + Ipv4Header.MIN_HEADER_LENGTH;

    private final CachedNanoClock clock = new CachedNanoClock();
    private MemoryPort port;
    private MemoryPort peer;
    private L2TcpEndpoint ep;

    @BeforeEach
    void setUp() {
        final MemoryPort.Pair pair = MemoryPort.pair(new MemoryPort.Config().mac("02:00:00:00:00:0a").ipv4("10.0.0.1", 24)
            .uri("memory:a").capabilities(EnumSet.of(Capability.L2_FRAMES, Capability.FLOW_STEERING, Capability.KERNEL_NEIGHBOURS))
            .neighbourResolver(ip -> ip == PEER ? MAC_PEER : -1), new MemoryPort.Config().mac("02:00:00:00:00:0b")
            .ipv4("10.0.0.2", 24).uri("memory:b"));
        port = pair.a();
        peer = pair.b();
        ep = new L2TcpEndpoint(port, PortUri.parse("memory:a?rcvbuf=65536"), false, clock);
    }

    @AfterEach
    void tearDown() {
        ep.close();
        port.close();
        peer.close();
    }

    private void send(final byte[] frame) {
        final FrameClaim c = new FrameClaim();
        assertTrue(peer.txQueue(0).tryClaim(frame.length, c));
        c.buffer().putBytes(c.offset(), frame);
        c.commit();
        peer.txQueue(0).flush();
    }

    private static byte[] segment(final int srcPort, final int dstPort, final int seq, final int ack, final int flags) {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[60]);
        new Ethernet().wrap(b, 0, b.capacity()).header(MAC_US, MAC_PEER, Ethernet.ETHERTYPE_IPV4);
        new Ipv4Header().wrap(b, Ethernet.HEADER_LENGTH, 40).header(20, 0, 40, 7, Ipv4Header.FLAG_DF, 64,
            Ipv4Header.PROTOCOL_TCP, PEER, US).computeChecksum();
        new Tcp().wrap(b, L4, Tcp.HEADER_LENGTH).header(srcPort, dstPort, seq, ack, Tcp.HEADER_LENGTH, flags, 65535)
            .computeChecksum(PEER, US);
        return b.byteArray();
    }

    private static Tcp parse(final byte[] frame) {
        final UnsafeBuffer b = new UnsafeBuffer(frame);
        final int ipLength = new Ipv4Header().wrap(b, Ethernet.HEADER_LENGTH, frame.length - Ethernet.HEADER_LENGTH).totalLength();
        final Tcp t = new Tcp().wrap(b, L4, ipLength - 20);
        assertEquals(Tcp.OK, t.parse());
        return t;
    }

    private List<byte[]> replies() {
        ep.poll(16);
        return peer.drain();
    }

    @Test
    void anActiveOpenIsSteeredBeforeItsSynFromThePortChosenAndUnsteeredWhenRefused() {
        final TcpConnection c = ep.connect(PEER, 9000);
        final FlowRule rule = FlowRule.tcp(US, c.localPort(), PEER, 9000);
        assertEquals(List.of(rule), port.flows(), "steered before the SYN went");
        assertEquals(50000, c.localPort(), "the port the port chose (the kernel's bind(0) on afxdp)");
        final List<byte[]> syn = peer.drain();
        assertEquals(1, syn.size());
        assertEquals(50000, parse(syn.get(0)).sourcePort());
        send(segment(9000, c.localPort(), 0, parse(syn.get(0)).sequence() + 1, Tcp.RST | Tcp.ACK));
        replies();
        assertEquals(TcpState.CLOSED, c.state());
        assertEquals("refused", c.closeReason());
        assertEquals(List.of(), port.flows(), "nothing left once refused");
    }

    @Test
    void aFailedAddLeavesNothingAndIsCounted() {
        port.failNextAddFlow(new BypassException("Address already in use"));
        final BypassException e = assertThrows(BypassException.class, () -> ep.connect(PEER, 9000));
        assertTrue(e.getMessage().contains("no ephemeral port free"), e.getMessage());
        assertEquals(1, ep.counters().get(Counter.TCP_CONNECT_FAILED));
        assertEquals(List.of(), port.flows());
        assertEquals(0, peer.drain().size(), "no SYN");
        port.failNextAddFlow(new BypassException("Address already in use"));
        assertThrows(BypassException.class, () -> ep.listen(8000));
        assertEquals(List.of(), port.flows());
        assertNotNull(ep.listen(8000), "the port is free to listen on after the failure");
    }

    @Test
    void anAcceptedConnectionGetsItsOwnRuleOutlivesItsListenerAndLeavesNothingWhenAborted() {
        final TcpListener listener = ep.listen(8000);
        final FlowRule listening = FlowRule.tcpListener(US, 8000);
        assertEquals(List.of(listening), port.flows());
        send(segment(40000, 8000, 5000, 0, Tcp.SYN));
        final List<byte[]> synAck = replies();
        assertEquals(1, synAck.size());
        assertEquals(List.of(listening), port.flows(), "half open: the listener's rule steers it");
        send(segment(40000, 8000, 5001, parse(synAck.get(0)).sequence() + 1, Tcp.ACK));
        replies();
        final TcpConnection c = listener.accept();
        assertNotNull(c);
        final FlowRule own = FlowRule.tcp(US, 8000, PEER, 40000);
        assertEquals(List.of(listening, own), port.flows(), "its own rule once established");
        listener.close();
        assertEquals(List.of(own), port.flows(), "the listener's rule went, the connection's stays");
        c.abort();
        assertEquals(List.of(), port.flows());
    }

    @Test
    void theEndpointsCloseRemovesEveryRuleAndTimeWaitsEndRemovesItsOwn() {
        ep.listen(8000);
        final TcpConnection c = ep.connect(PEER, 9000);
        final int iss = parse(peer.drain().get(0)).sequence();
        send(segment(9000, c.localPort(), 7000, iss + 1, Tcp.SYN | Tcp.ACK));
        replies();
        assertEquals(TcpState.ESTABLISHED, c.state());
        assertEquals(2, port.flows().size());
        // an orderly close: FIN, the peer's ACK and FIN, TIME_WAIT; its rule stays until TIME_WAIT ends
        c.close();
        final List<byte[]> fin = replies();
        assertTrue((parse(fin.get(fin.size() - 1)).flags() & Tcp.FIN) != 0, "our FIN");
        send(segment(9000, c.localPort(), 7001, iss + 2, Tcp.ACK | Tcp.FIN));
        replies();
        assertEquals(TcpState.TIME_WAIT, c.state());
        assertEquals(2, port.flows().size(), "TIME_WAIT keeps its rule (and its port)");
        clock.advance(L2TcpEndpoint.LINGER_NANOS); // more than the 10 ms TIME_WAIT
        replies();
        assertEquals(TcpState.CLOSED, c.state());
        assertEquals(List.of(FlowRule.tcpListener(US, 8000)), port.flows());
        final TcpConnection d = ep.connect(PEER, 9001);
        assertSame(TcpState.SYN_SENT, d.state());
        assertEquals(2, port.flows().size());
        ep.close();
        assertEquals(List.of(), port.flows(), "the endpoint's close removed every rule");
        assertEquals("endpoint closed", d.closeReason());
    }
}
