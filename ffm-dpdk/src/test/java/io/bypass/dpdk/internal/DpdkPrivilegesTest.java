package io.bypass.dpdk.internal;

import io.bypass.PortUri;
import io.bypass.spi.PrivilegeNeeds;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What each device needs, as measured (docs/deployment.md): the ring arithmetic and the capability lists. */
class DpdkPrivilegesTest {
    @Test
    void afPacketLocksItsRxAndTxRings() {
        // framecnt from the stall budget (16384) when the devargs give none: 2 x 16384 x 2048 = 64 MiB.
        final PrivilegeNeeds dflt = DpdkPrivileges.needs(PortUri.parse("dpdk:net_af_packet0,iface=veth0?ip=10.0.0.1/24"));
        assertEquals(List.of("CAP_NET_RAW", "CAP_NET_ADMIN"), dflt.capabilities());
        assertEquals(64L << 20, dflt.lockedBytes());
        // Measured: framecnt=1024 runs at a memlock limit of 4194304 bytes and fails at 4194303.
        assertEquals(4_194_304L, DpdkPrivileges.needs("net_af_packet0,iface=veth0,framecnt=1024").lockedBytes());
        assertEquals(2L * 1024 * 4096 * 2, DpdkPrivileges.needs("net_af_packet0,iface=veth0,framecnt=1024,framesz=4096,qpairs=2")
            .lockedBytes());
        assertEquals(2L * 512 * 2048, DpdkPrivileges.needs(PortUri.parse("dpdk:net_af_packet0,iface=veth0,framecnt=512?ip=10.0.0.1/24"))
            .lockedBytes());
    }

    @Test
    void afXdpNeedsSysAdminForLibxdp() {
        final PrivilegeNeeds n = DpdkPrivileges.needs(PortUri.parse("dpdk:net_af_xdp0,iface=veth0?ip=10.0.0.1/24"));
        assertEquals(List.of("CAP_NET_RAW", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"), n.capabilities());
        assertEquals(PrivilegeNeeds.UNKNOWN_BYTES, n.lockedBytes());
    }

    @Test
    void softwareDevicesNeedNothingAndNicsAreNotStated() {
        assertEquals(new PrivilegeNeeds(List.of(), 0, ""), DpdkPrivileges.needs("net_null0"));
        assertEquals(new PrivilegeNeeds(List.of(), 0, ""), DpdkPrivileges.needs("net_ring0"));
        final PrivilegeNeeds pci = DpdkPrivileges.needs("0000:03:00.0");
        assertEquals(PrivilegeNeeds.UNKNOWN_BYTES, pci.lockedBytes());
        assertTrue(pci.note().startsWith("not verified here"), pci.note());
    }
}
