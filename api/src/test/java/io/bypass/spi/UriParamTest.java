package io.bypass.spi;

import io.bypass.BypassUriException;
import io.bypass.PortUri;
import io.bypass.udp.UdpUriParams;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The declarations read what they document: range, power of two, defaults, choices, casing. */
class UriParamTest {
    private static PortUri uri(final String query) {
        return PortUri.parse("afxdp:eth1?" + query);
    }

    @Test
    void integerWithFixedDefaultReadsTheDefaultAndChecksTheRange() {
        assertEquals(64, UdpUriParams.UNICAST_TTL.intValue(PortUri.parse("afxdp:eth1")));
        assertEquals(9, UdpUriParams.UNICAST_TTL.intValue(uri("unicastTtl=9")));
        final BypassUriException e = assertThrows(BypassUriException.class,
            () -> UdpUriParams.MULTICAST_TTL.intValue(uri("multicastTtl=0")));
        assertTrue(e.getMessage().contains("parameter 'multicastTtl' must be in 1..255, got 0"), e.getMessage());
        assertEquals("1..255", UdpUriParams.MULTICAST_TTL.values());
        assertEquals("1", UdpUriParams.MULTICAST_TTL.defaultValue());
    }

    @Test
    void powerOfTwoIsCheckedWithTheBackendsNarrowerLimits() {
        assertEquals(512, UriParams.RX_RING.intValue(uri("rxRing=512"), 2048));
        assertEquals(2048, UriParams.RX_RING.intValue(PortUri.parse("afxdp:eth1"), 2048));
        final BypassUriException notPow = assertThrows(BypassUriException.class, () -> UriParams.RX_RING.intValue(uri("rxRing=100"), 2048));
        assertTrue(notPow.getMessage().contains("parameter 'rxRing' must be a power of two in 32..65536, got 100"), notPow.getMessage());
        final BypassUriException tooBig = assertThrows(BypassUriException.class,
            () -> UriParams.RX_RING.intValue(uri("rxRing=8192"), 4096, 64, 4096));
        assertTrue(tooBig.getMessage().contains("must be in 64..4096, got 8192"), tooBig.getMessage());
    }

    @Test
    void computedDefaultMustBeGivenByTheCaller() {
        assertThrows(IllegalStateException.class, () -> UriParams.RX_RING.intValue(PortUri.parse("afxdp:eth1")));
        assertThrows(IllegalStateException.class, () -> UriParams.HUGEPAGES.booleanValue(PortUri.parse("afxdp:eth1")));
        assertThrows(IllegalStateException.class, () -> UriParams.HUGEPAGES.intValue(PortUri.parse("afxdp:eth1"), 1));
    }

    @Test
    void choiceAndBooleanAndText() {
        final UriParam mode = UriParam.choice("mode", "auto", "bind mode", "auto", "copy");
        assertEquals("auto", mode.choice(PortUri.parse("afxdp:eth1")));
        assertEquals("copy", mode.choice(uri("mode=copy")));
        assertTrue(assertThrows(BypassUriException.class, () -> mode.choice(uri("mode=fast"))).getMessage().contains("auto|copy"));
        assertThrows(IllegalArgumentException.class, () -> UriParam.choice("mode", "zerocopy", "x", "auto", "copy"));
        final UriParam flag = UriParam.bool("flag", true, "a flag");
        assertTrue(flag.booleanValue(PortUri.parse("afxdp:eth1")));
        assertFalse(flag.booleanValue(uri("flag=no")));
        final UriParam ip = UriParam.text("ip", "A.B.C.D/NN", "none", "address");
        assertEquals("10.0.0.1/24", ip.text(uri("ip=10.0.0.1/24")));
        assertTrue(ip.isIn(uri("ip=1")));
        assertFalse(ip.isIn(uri("x=1")));
    }

    @Test
    void checksumDeclarationListsEveryPolicy() {
        final List<String> words = new java.util.ArrayList<>();
        for (final io.bypass.net.ChecksumPolicy p : io.bypass.net.ChecksumPolicy.values()) {
            words.add(p.uriValue());
        }
        assertEquals(String.join("|", words), io.bypass.net.ChecksumPolicy.PARAM.values());
        assertEquals(io.bypass.net.ChecksumPolicy.DEFAULT.uriValue(), io.bypass.net.ChecksumPolicy.PARAM.defaultValue());
        assertTrue(UdpUriParams.L2_ENDPOINT.contains(io.bypass.net.ChecksumPolicy.PARAM));
    }

    @Test
    void keysAreLowerCamelCase() {
        for (final String bad : List.of("mcast_ttl", "RxRing", "rx-ring", "1queue")) {
            assertThrows(IllegalArgumentException.class, () -> UriParam.integer(bad, 0, 1, 0, "x"), bad);
        }
        assertEquals("mcast_ttl", UriParam.retired("mcast_ttl", "now multicastTtl").name());
    }

    @Test
    void joinKeepsSharedDeclarationsOnceAndRefusesTwoOfOneKey() {
        final List<UriParam> joined = UriParams.join(UdpUriParams.L2_ENDPOINT, List.of(PortVlan.PARAM), RxStallBudget.URI_PARAMS);
        assertEquals(UdpUriParams.L2_ENDPOINT.size() + 2, joined.size(), "vlan is in both lists, once in the join");
        assertSame(PortVlan.PARAM, joined.get(UdpUriParams.L2_ENDPOINT.indexOf(PortVlan.PARAM)));
        final UriParam otherVlan = UriParam.integer(PortVlan.PARAM_NAME, 0, 1, 0, "another meaning");
        assertThrows(IllegalArgumentException.class, () -> UriParams.join(UdpUriParams.L2_ENDPOINT, List.of(otherVlan)));
    }

    @Test
    void bothRetiredTtlKeysNameMulticastTtl() {
        assertFalse(UriParams.retired().isEmpty());
        for (final UriParam r : UriParams.retired()) {
            assertEquals(UriParam.Type.RETIRED, r.type());
            assertTrue(r.meaning().contains(UdpUriParams.MULTICAST_TTL_PARAM_NAME), r.toString());
        }
    }
}
