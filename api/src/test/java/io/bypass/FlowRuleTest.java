package io.bypass;

import io.bypass.net.Ipv4;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The three kinds of {@link FlowRule}, what each accepts, and the UDP constructor kept for older callers. */
class FlowRuleTest {
    private static final int US = Ipv4.parse("10.0.0.1");
    private static final int PEER = Ipv4.parse("10.0.0.2");
    private static final int GROUP = Ipv4.parse("239.1.1.1");

    @Test
    void factoriesMakeTheThreeKinds() {
        final FlowRule udp = FlowRule.udp(GROUP, 30001);
        assertEquals(new FlowRule(GROUP, 30001), udp, "the two-argument constructor is UDP");
        assertEquals(FlowRule.Protocol.UDP, udp.protocol());
        assertFalse(udp.isTcp());
        assertEquals("udp 239.1.1.1:30001", udp.toString());

        final FlowRule conn = FlowRule.tcp(US, 40000, PEER, 9000);
        assertTrue(conn.isTcp());
        assertFalse(conn.isTcpListener());
        assertEquals(US, conn.localAddress());
        assertEquals(40000, conn.localPort());
        assertEquals(US, conn.destinationAddress(), "a received segment's destination is the local end");
        assertEquals(PEER, conn.sourceAddress());
        assertEquals(9000, conn.sourcePort());
        assertEquals("tcp 10.0.0.1:40000 <- 10.0.0.2:9000", conn.toString());

        final FlowRule listener = FlowRule.tcpListener(0, 8000);
        assertTrue(listener.isTcpListener());
        assertEquals("tcp listener 0.0.0.0:8000", listener.toString());
        assertEquals(FlowRule.tcpListener(US, 8000), listener.withLocal(US, 8000));
        assertEquals(FlowRule.tcp(US, 41000, PEER, 9000), FlowRule.tcp(0, 0, PEER, 9000).withLocal(US, 41000),
            "what a port returns for an active open with port 0");
    }

    @Test
    void outOfRangeValuesAreRefusedNamingThem() {
        final List<Supplier<FlowRule>> bad = List.of(
            () -> FlowRule.udp(GROUP, 0),
            () -> new FlowRule(0, 65536),
            () -> new FlowRule(FlowRule.Protocol.UDP, 0, 53, PEER, 53),
            () -> new FlowRule(null, US, 1, 0, 0),
            () -> FlowRule.tcpListener(US, 0),
            () -> FlowRule.tcpListener(GROUP, 80),
            () -> FlowRule.tcp(US, 70000, PEER, 9000),
            () -> FlowRule.tcp(US, 0, PEER, 0),
            () -> FlowRule.tcp(US, 0, 0, 9000),
            () -> FlowRule.tcp(US, 0, GROUP, 9000));
        for (final Supplier<FlowRule> b : bad) {
            final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::get);
            assertTrue(e.getMessage().contains("port") || e.getMessage().contains("address") || e.getMessage().contains("protocol")
                || e.getMessage().contains("source"), e.getMessage());
        }
        FlowRule.tcp(US, 0, PEER, 9000); // local port 0: the port chooses
    }
}
