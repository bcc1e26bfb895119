package io.bypass;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PortUriTest {
    @Test
    void parsesSchemeTargetAndParameters() {
        final PortUri uri = PortUri.parse("afxdp:eth1?queue=3&mode=zerocopy&xdp=drv");
        assertEquals("afxdp", uri.scheme());
        assertEquals("eth1", uri.target());
        assertEquals(3, uri.getInt("queue", 0, 0, 63));
        assertEquals("zerocopy", uri.getChoice("mode", "auto", "copy", "zerocopy", "auto"));
        assertEquals("drv", uri.get("xdp"));
    }

    @Test
    void dpdkDevargsKeepCommasAndColons() {
        final PortUri uri = PortUri.parse("dpdk:net_af_xdp0,iface=veth0,start_queue=0?ip=10.0.0.1/24");
        assertEquals("dpdk", uri.scheme());
        assertEquals("net_af_xdp0,iface=veth0,start_queue=0", uri.target());
        assertEquals("10.0.0.1/24", uri.get("ip"));
        assertEquals("0000:03:00.0", PortUri.parse("dpdk:0000:03:00.0").target());
    }

    @Test
    void emptyTargetAndNoParameters() {
        final PortUri uri = PortUri.parse("nio:");
        assertEquals("nio", uri.scheme());
        assertEquals("", uri.target());
        assertTrue(uri.params().isEmpty());
    }

    @Test
    void percentDecodesValues() {
        assertEquals("a b&c", PortUri.parse("nio:lo?name=a%20b%26c").get("name"));
    }

    @Test
    void defaultsApplyWhenAbsent() {
        final PortUri uri = PortUri.parse("afxdp:eth0");
        assertEquals(7, uri.getInt("queue", 7, 0, 63));
        assertTrue(uri.getBoolean("busy", true));
        assertEquals("auto", uri.getChoice("mode", "auto", "copy", "auto"));
    }

    @Test
    void errorsNameTheBadPart() {
        assertMessage("missing scheme", () -> PortUri.parse("eth0"));
        assertMessage("empty", () -> PortUri.parse(""));
        assertMessage("empty", () -> PortUri.parse(null));
        assertMessage("scheme 'AFXDP'", () -> PortUri.parse("AFXDP:eth0"));
        assertMessage("'queue' must be an integer, got 'x'", () -> PortUri.parse("afxdp:eth0?queue=x").getInt("queue", 0, 0, 63));
        assertMessage("'queue' must be in 0..63, got 64", () -> PortUri.parse("afxdp:eth0?queue=64").getInt("queue", 0, 0, 63));
        assertMessage("'mode' must be one of copy|zerocopy|auto, got 'fast'",
            () -> PortUri.parse("afxdp:eth0?mode=fast").getChoice("mode", "auto", "copy", "zerocopy", "auto"));
        assertMessage("'busy' must be true or false", () -> PortUri.parse("afxdp:eth0?busy=maybe").getBoolean("busy", false));
        assertMessage("parameter 'queue' given twice", () -> PortUri.parse("afxdp:eth0?queue=1&queue=2"));
        assertMessage("must be key=value", () -> PortUri.parse("afxdp:eth0?queue"));
        assertMessage("empty parameter", () -> PortUri.parse("afxdp:eth0?queue=1&"));
        assertMessage("bad percent escape", () -> PortUri.parse("nio:lo?x=%zz"));
        assertMessage("truncated percent escape", () -> PortUri.parse("nio:lo?x=%2"));
    }

    @Test
    void requireOnlyRejectsUnknownKeysAndListsKnownOnes() {
        final PortUri uri = PortUri.parse("afxdp:eth0?queue=1&qeueu=2");
        final BypassUriException e = assertThrows(BypassUriException.class, () -> uri.requireOnly(Set.of("queue", "mode")));
        assertTrue(e.getMessage().contains("unknown parameter 'qeueu'"), e.getMessage());
        assertTrue(e.getMessage().contains("known: mode, queue"), e.getMessage());
        PortUri.parse("afxdp:eth0?queue=1").requireOnly(Set.of("queue"));
    }

    @Test
    void renamedKeysAreRefusedNamingTheirReplacement() {
        final Set<String> known = Set.of("unicastTtl", "multicastTtl");
        final BypassUriException ttl = assertThrows(BypassUriException.class,
            () -> PortUri.parse("auto:eth1?ttl=4").requireOnly(known));
        assertTrue(ttl.getMessage().contains("parameter 'ttl' is no longer accepted") && ttl.getMessage().contains("unicastTtl")
            && ttl.getMessage().contains("multicastTtl"), ttl.getMessage());
        final BypassUriException mcast = assertThrows(BypassUriException.class,
            () -> PortUri.parse("afxdp:eth1?mcast_ttl=4").requireOnly(known));
        assertTrue(mcast.getMessage().contains("'mcast_ttl' is now multicastTtl"), mcast.getMessage());
        PortUri.parse("afxdp:eth1?multicastTtl=4&unicastTtl=9").requireOnly(known);
    }

    @Test
    void withSchemeKeepsTargetAndParameters() {
        final PortUri auto = PortUri.parse("auto:eth1?queue=2");
        final PortUri concrete = auto.withScheme("afxdp");
        assertEquals("afxdp:eth1?queue=2", concrete.text());
        assertEquals("eth1", concrete.target());
        assertEquals("2", concrete.get("queue"));
        assertFalse(concrete.params().isEmpty());
    }

    @Test
    void withParamAppendsOneParameterToTheText() {
        assertEquals("afxdp:eth1?rxStallMs=10", PortUri.parse("afxdp:eth1").withParam("rxStallMs", "10").text());
        assertEquals("nio:?rxStallMs=10", PortUri.parse("nio:?").withParam("rxStallMs", "10").text());
        final PortUri dpdk = PortUri.parse("dpdk:net_af_xdp0,iface=veth0?ip=10.0.0.1/24").withParam("rxStallMs", "10");
        assertEquals("dpdk:net_af_xdp0,iface=veth0?ip=10.0.0.1/24&rxStallMs=10", dpdk.text());
        assertEquals("net_af_xdp0,iface=veth0", dpdk.target());
        assertEquals("10.0.0.1/24", dpdk.get("ip"));
        assertEquals("10", dpdk.get("rxStallMs"));
        assertMessage("parameter 'ip' given twice", () -> PortUri.parse("afxdp:eth1?ip=10.0.0.1/24").withParam("ip", "10.0.0.2/24"));
        assertMessage("parameter name 'a=b' must not be empty", () -> PortUri.parse("afxdp:eth1").withParam("a=b", "1"));
        assertMessage("parameter name '' must not be empty", () -> PortUri.parse("afxdp:eth1").withParam("", "1"));
    }

    private static void assertMessage(final String expected, final org.junit.jupiter.api.function.Executable call) {
        final BypassUriException e = assertThrows(BypassUriException.class, call);
        assertTrue(e.getMessage().contains(expected), () -> "expected '" + expected + "' in: " + e.getMessage());
        assertTrue(e.getMessage().startsWith("bad port URI '"), e.getMessage());
    }
}
