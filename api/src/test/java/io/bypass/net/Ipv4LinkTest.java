package io.bypass.net;

import io.bypass.Capability;
import io.bypass.FrameClaim;
import io.bypass.testing.MemoryPort;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;

import static io.bypass.testing.Frames.getMac;
import static io.bypass.testing.Frames.getShort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The link's facts as read from the port, the headers it writes and its identification sequence. */
class Ipv4LinkTest {
    private MemoryPort.Pair pair;

    @AfterEach
    void close() {
        pair.a().close();
        pair.b().close();
    }

    private Ipv4Link link(final MemoryPort.Config us, final int vlan, final int identification) {
        pair = MemoryPort.pair(us, new MemoryPort.Config().uri("memory:b"));
        return new Ipv4Link(pair.a(), vlan, identification);
    }

    @Test
    void readsTheAddressesFromThePort() {
        final Ipv4Link link = link(new MemoryPort.Config().mac("02:00:00:00:00:0a").ipv4("10.0.0.1", 24)
            .gateway("10.0.0.254").mtu(9000).uri("memory:a"), 0, 0);
        assertEquals(0x02_00_00_00_00_0AL, link.localMac());
        assertEquals(Ipv4.parse("10.0.0.1"), link.localAddress());
        assertEquals(24, link.prefixLength());
        assertEquals(Ipv4.parse("10.0.0.254"), link.gateway());
        assertEquals(9000, link.mtu());
        assertEquals(Ethernet.HEADER_LENGTH, link.ipOffset());
        assertFalse(link.kernelNeighbours());
        assertEquals(pair.a(), link.port());
    }

    @Test
    void aPortThatCannotTellItsMtuGetsTheDefaultAndKernelNeighboursAreSeen() {
        final Ipv4Link link = link(new MemoryPort.Config().mtu(0).uri("memory:a")
            .capabilities(EnumSet.of(Capability.L2_FRAMES, Capability.KERNEL_NEIGHBOURS)), 5, 0);
        assertEquals(Ipv4Link.DEFAULT_MTU, link.mtu());
        assertEquals(Ethernet.VLAN_HEADER_LENGTH, link.ipOffset(), "behind the 802.1Q tag");
        assertEquals(5, link.vlan());
        assertTrue(link.kernelNeighbours());
    }

    @Test
    void writesTheEthernetHeaderTaggedOnAVlanOnly() {
        final byte[] untagged = new byte[60];
        link(new MemoryPort.Config().mac("02:00:00:00:00:0a").uri("memory:a"), 0, 0)
            .writeEthernet(new UnsafeBuffer(untagged), 0, 60, 0x01_00_5E_01_01_01L, Ethernet.ETHERTYPE_IPV4);
        assertEquals(0x01_00_5E_01_01_01L, getMac(untagged, 0));
        assertEquals(0x02_00_00_00_00_0AL, getMac(untagged, 6));
        assertEquals(Ethernet.ETHERTYPE_IPV4, getShort(untagged, 12));
        close();

        final byte[] tagged = new byte[64];
        link(new MemoryPort.Config().mac("02:00:00:00:00:0a").uri("memory:a"), 4094, 0)
            .writeEthernet(new UnsafeBuffer(tagged), 4, 60, Mac.BROADCAST, Ethernet.ETHERTYPE_ARP);
        assertEquals(Mac.BROADCAST, getMac(tagged, 4));
        assertEquals(Ethernet.ETHERTYPE_VLAN, getShort(tagged, 16));
        assertEquals(4094, getShort(tagged, 18), "VLAN id, priority 0");
        assertEquals(Ethernet.ETHERTYPE_ARP, getShort(tagged, 20));
    }

    @Test
    void identificationIsOneSixteenBitSequence() {
        final Ipv4Link link = link(new MemoryPort.Config().uri("memory:a"), 0, 0xFFFE);
        assertEquals(0xFFFF, link.nextIdentification());
        assertEquals(0, link.nextIdentification(), "wraps at 16 bits");
        assertEquals(1, link.nextIdentification());
        assertEquals(0x2346, new Ipv4Link(pair.a(), 0, 0x1_2345).nextIdentification(), "the start is taken modulo 2^16");
    }

    @Test
    void arpIsNotSentIntoAFullRing() {
        final Ipv4Link link = link(new MemoryPort.Config().mac("02:00:00:00:00:0a").ipv4("10.0.0.1", 24)
            .uri("memory:a").ring(2, 128), 0, 0);
        final FrameClaim hold = new FrameClaim();
        assertTrue(pair.a().txQueue(0).tryClaim(60, hold));
        assertTrue(pair.a().txQueue(0).tryClaim(60, new FrameClaim()));
        assertFalse(link.sendArp(pair.a().txQueue(0), Arp.OP_REQUEST, Mac.BROADCAST, Mac.ZERO, Ipv4.parse("10.0.0.2")));
        hold.abort();
        assertEquals(0, pair.b().drain().size());
    }
}
