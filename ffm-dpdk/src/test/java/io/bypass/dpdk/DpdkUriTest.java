package io.bypass.dpdk;

import io.bypass.BypassException;
import io.bypass.BypassUriException;
import io.bypass.PortUri;
import io.bypass.net.Ipv4;
import io.bypass.spi.RxBuffering;
import io.bypass.spi.UriParam;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code dpdk:} URI read into a {@link DpdkContext} ({@code withUri}, then {@code conclude}),
 * without DPDK: no EAL, no device, no privileges.
 */
class DpdkUriTest {
    private static DpdkContext read(final String uri) {
        return new DpdkContext().withUri(PortUri.parse(uri)).conclude();
    }

    @Test
    void portSettingsComeFromTheUri() {
        final DpdkContext ctx = read("dpdk:net_af_packet3,iface=veth0?ip=10.0.0.1/24&gateway=10.0.0.254&rxQueues=2&txQueues=3"
            + "&mtu=9000&promisc=true&hugepages=false&lcores=0@(1)&txDesc=512&burst=32");
        final DpdkPortSettings p = ctx.port();
        assertEquals("net_af_packet3", p.deviceName());
        assertEquals("net_af_packet3,iface=veth0,framecnt=16384", p.devargs(), "framecnt from the stall budget");
        assertEquals("veth0", p.kernelInterface());
        assertNull(p.pciAddress());
        assertEquals(Ipv4.parse("10.0.0.1"), p.ipv4Address());
        assertEquals(24, p.ipv4PrefixLength());
        assertEquals(Ipv4.parse("10.0.0.254"), p.ipv4Gateway());
        assertEquals(2, p.rxQueues());
        assertEquals(3, p.txQueues());
        assertEquals(9000, p.mtu());
        assertTrue(p.promiscuous());
        assertEquals(512, ctx.txDesc());
        assertEquals(32, ctx.burst());
        assertEquals(DpdkContext.DEFAULT_RX_DESC, ctx.rxDesc(), "net_af_packet buffers in framecnt, not descriptors");
        assertEquals(List.of("lcores", "hugepages"), ctx.explicitEalKeys());
        assertEquals("0@(1)", ctx.lcores());
        assertEquals("0000:03:00.0", read("dpdk:0000:03:00.0").port().pciAddress());
    }

    @Test
    void rxBufferingIsWhereEachDeviceKindBuffers() {
        final RxBuffering packet = read("dpdk:net_af_packet0,iface=eth0").rxBuffering();
        assertEquals("framecnt", packet.description());
        assertEquals(16384, packet.frames());
        assertEquals(1024, read("dpdk:net_af_packet0,iface=eth0,framecnt=1024").rxBuffering().frames(), "the devargs' own framecnt");
        assertEquals(2048, read("dpdk:net_af_xdp0,iface=eth0").rxBuffering().frames(), "net_af_xdp's PMD cap");
        final RxBuffering pci = read("dpdk:0000:03:00.0").rxBuffering();
        assertEquals(16384, pci.frames());
        assertEquals("rxDesc", pci.description());
        assertEquals(512, read("dpdk:0000:03:00.0?rxDesc=512").rxBuffering().frames(), "an explicit rxDesc wins");
        assertEquals(2048, read("dpdk:0000:03:00.0?rxStallMs=10").rxBuffering().frames());
    }

    @Test
    void badUrisAreRefusedNamingThePart() {
        assertMessage("dpdk:eth0", "bad devargs 'eth0'");
        assertMessage("dpdk:", "missing devargs");
        assertMessage("dpdk:net_null0?ip=10.0.0.300/24", "parameter 'ip' must be A.B.C.D/NN");
        assertMessage("dpdk:net_null0?ip=10.0.0.1/33", "prefix length in 'ip' must be 0..32");
        assertMessage("dpdk:net_null0?gateway=x", "parameter 'gateway' must be A.B.C.D");
        assertMessage("dpdk:net_null0?rxQueus=2", "unknown parameter 'rxQueus'");
        assertMessage("dpdk:net_null0?rxDesc=0", "parameter 'rxDesc' must be in 1..32768");
        assertMessage("dpdk:net_null0?ttl=9", "write unicastTtl (unicast, default 64) or multicastTtl");
        assertMessage("dpdk:net_null0?mcast_ttl=2", "now multicastTtl");
        read("dpdk:net_null0?unicastTtl=9&multicastTtl=2&queue=0&igmp=2&vlan=7");
        final BypassException prefix = assertThrows(BypassException.class, () -> read("dpdk:net_null0?prefix=a/b"));
        assertTrue(prefix.getMessage().contains("file prefix 'a/b'"), prefix.getMessage());
    }

    @Test
    void everyAcceptedKeyIsDocumentedOnTheProvider() throws Exception {
        final String doc = Files.readString(Path.of("src/main/java/io/bypass/dpdk/DpdkBackendProvider.java"));
        for (final UriParam p : new DpdkBackendProvider().uriParams()) {
            assertTrue(doc.contains("{@code " + p.name()), "DpdkBackendProvider's javadoc does not list URI key " + p.name());
        }
    }

    private static void assertMessage(final String uri, final String expected) {
        final BypassUriException e = assertThrows(BypassUriException.class, () -> read(uri));
        assertTrue(e.getMessage().contains(expected), () -> "expected '" + expected + "' in: " + e.getMessage());
    }
}
