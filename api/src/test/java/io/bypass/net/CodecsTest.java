package io.bypass.net;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static io.bypass.net.RefFrames.GROUP;
import static io.bypass.net.RefFrames.IP_PEER;
import static io.bypass.net.RefFrames.IP_US;
import static io.bypass.net.RefFrames.MAC_PEER;
import static io.bypass.net.RefFrames.MAC_US;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CodecsTest {
    private final Ethernet eth = new Ethernet();
    private final Ipv4Header ip = new Ipv4Header();
    private final Udp udp = new Udp();
    private final Arp arp = new Arp();
    private final Igmp igmp = new Igmp();
    private final IgmpV3Report report = new IgmpV3Report();

    @Test
    void macAndIpv4Text() {
        assertEquals(0x0200000000ABL, Mac.parse("02:00:00:00:00:ab"));
        assertEquals("02:00:00:00:00:ab", Mac.toString(0x0200000000ABL));
        assertEquals(0x01005E010101L, Ipv4.multicastMac(GROUP));
        assertTrue(Mac.isMulticast(0x01005E010101L));
        assertTrue(Mac.isMulticast(Mac.BROADCAST));
        assertFalse(Mac.isMulticast(MAC_US));
        assertThrows(IllegalArgumentException.class, () -> Mac.parse("02:00:00:00:00"));
        assertThrows(IllegalArgumentException.class, () -> Mac.parse("02:00:00:00:00:zz"));
        assertEquals("10.0.0.1", Ipv4.toString(IP_US));
        assertEquals(IP_US, Ipv4.parse("10.0.0.1"));
    }

    @Test
    void procHexIsTheInMemoryWord() {
        // The kernel prints the address word as it lies in memory: bytes reversed on little-endian hosts.
        final boolean little = java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN;
        assertEquals(Ipv4.parse("127.0.0.1"), Ipv4.fromProcHex(little ? "0100007F" : "7F000001"));
        assertEquals(Ipv4.parse("192.168.1.254"), Ipv4.fromProcHex(little ? "FE01A8C0" : "C0A801FE"));
        assertEquals(0, Ipv4.fromProcHex("00000000"));
        assertThrows(NumberFormatException.class, () -> Ipv4.fromProcHex("1FFFFFFFF"));
        assertThrows(NumberFormatException.class, () -> Ipv4.fromProcHex("0100007G"));
    }

    @Test
    void decodesHandBuiltUdpFrame() {
        final byte[] payload = "hello".getBytes();
        final byte[] frame = RefFrames.udp(MAC_US, -1, IP_PEER, IP_US, 40000, 9000, payload);
        final UnsafeBuffer b = new UnsafeBuffer(frame);
        eth.wrap(b, 0, frame.length);
        assertEquals(MAC_US, eth.destinationMac());
        assertEquals(MAC_PEER, eth.sourceMac());
        assertEquals(Ethernet.ETHERTYPE_IPV4, eth.etherType());
        assertFalse(eth.hasVlan());
        assertEquals(-1, eth.vlanId());
        assertEquals(14, eth.headerLength());
        ip.wrap(b, eth.payloadOffset(), frame.length - 14);
        assertEquals(4, ip.version());
        assertEquals(5, ip.ihl());
        assertEquals(20, ip.headerLength());
        assertEquals(20 + 8 + 5, ip.totalLength());
        assertEquals(0x1234, ip.identification());
        assertEquals(Ipv4Header.FLAG_DF, ip.flagsAndFragmentOffset());
        assertFalse(ip.isFragment());
        assertEquals(64, ip.ttl());
        assertEquals(Ipv4Header.PROTOCOL_UDP, ip.protocol());
        assertEquals(IP_PEER, ip.sourceAddress());
        assertEquals(IP_US, ip.destinationAddress());
        assertTrue(ip.isChecksumValid());
        assertEquals(13, ip.payloadLength());
        udp.wrap(b, ip.payloadOffset(), ip.payloadLength());
        assertEquals(40000, udp.sourcePort());
        assertEquals(9000, udp.destinationPort());
        assertEquals(13, udp.udpLength());
        assertEquals(5, udp.payloadLength());
        assertEquals(42, udp.payloadOffset());
        assertTrue(udp.isChecksumValid(IP_PEER, IP_US));
        assertEquals('h', b.getByte(udp.payloadOffset()));
    }

    @Test
    void decodesVlanTag() {
        final byte[] frame = RefFrames.udp(MAC_US, (5 << 13) | 100, IP_PEER, IP_US, 1, 2, new byte[4]);
        eth.wrap(new UnsafeBuffer(frame), 0, frame.length);
        assertTrue(eth.hasVlan());
        assertEquals(100, eth.vlanId());
        assertEquals(5, eth.priority());
        assertEquals(Ethernet.ETHERTYPE_IPV4, eth.etherType());
        assertEquals(18, eth.headerLength());
        assertEquals(18, eth.payloadOffset());
    }

    @Test
    void encodesTheSameBytesAsTheReference() {
        final byte[] payload = {1, 2, 3, 4, 5, 6, 7};
        final byte[] expected = RefFrames.udp(MAC_US, -1, IP_PEER, IP_US, 40000, 9000, payload);
        final byte[] actual = new byte[expected.length];
        final UnsafeBuffer b = new UnsafeBuffer(actual);
        eth.wrap(b, 0, actual.length).header(MAC_US, MAC_PEER, Ethernet.ETHERTYPE_IPV4);
        ip.wrap(b, 14, actual.length - 14)
            .header(20, 0, 20 + 8 + payload.length, 0x1234, Ipv4Header.FLAG_DF, 64, Ipv4Header.PROTOCOL_UDP, IP_PEER, IP_US)
            .computeChecksum();
        b.putBytes(42, payload);
        udp.wrap(b, 34, 8 + payload.length).header(40000, 9000, 8 + payload.length).computeChecksum(IP_PEER, IP_US);
        assertArrayEquals(expected, actual);
    }

    @Test
    void encodesVlanHeader() {
        final byte[] expected = RefFrames.udp(MAC_US, (3 << 13) | 42, IP_PEER, IP_US, 1, 2, new byte[0]);
        final byte[] actual = new byte[18];
        final UnsafeBuffer b = new UnsafeBuffer(actual);
        eth.wrap(b, 0, 18).destinationMac(MAC_US).sourceMac(MAC_PEER).vlan(3, 42, Ethernet.ETHERTYPE_IPV4);
        assertArrayEquals(java.util.Arrays.copyOf(expected, 18), actual);
    }

    @Test
    void arpRequestRoundTrip() {
        final byte[] expected = RefFrames.arp(Mac.BROADCAST, Arp.OP_REQUEST, MAC_PEER, IP_PEER, 0, IP_US);
        final UnsafeBuffer in = new UnsafeBuffer(expected);
        arp.wrap(in, 14, 46);
        assertTrue(arp.isValidIpv4OverEthernet());
        assertEquals(Arp.OP_REQUEST, arp.operation());
        assertEquals(MAC_PEER, arp.senderMac());
        assertEquals(IP_PEER, arp.senderAddress());
        assertEquals(0, arp.targetMac());
        assertEquals(IP_US, arp.targetAddress());

        final byte[] actual = new byte[60];
        final UnsafeBuffer out = new UnsafeBuffer(actual);
        eth.wrap(out, 0, 60).header(Mac.BROADCAST, MAC_PEER, Ethernet.ETHERTYPE_ARP);
        arp.wrap(out, 14, Arp.LENGTH).header(Arp.OP_REQUEST, MAC_PEER, IP_PEER, Mac.ZERO, IP_US);
        assertArrayEquals(expected, actual);
    }

    @Test
    void arpValidityChecks() {
        final byte[] f = RefFrames.arp(Mac.BROADCAST, Arp.OP_REPLY, MAC_PEER, IP_PEER, MAC_US, IP_US);
        final UnsafeBuffer b = new UnsafeBuffer(f);
        assertTrue(arp.wrap(b, 14, 28).isValidIpv4OverEthernet());
        assertFalse(arp.wrap(b, 14, 27).isValidIpv4OverEthernet(), "short");
        f[20] = 0;
        f[21] = 3;
        assertFalse(arp.wrap(b, 14, 28).isValidIpv4OverEthernet(), "op 3");
        f[21] = 2;
        f[18] = 8;
        assertFalse(arp.wrap(b, 14, 28).isValidIpv4OverEthernet(), "hlen 8");
    }

    @Test
    void igmpV2ReportRoundTrip() {
        final byte[] msg = {0x16, 0, 0, 0, (byte) 0xef, 1, 1, 1};
        final byte[] expected = RefFrames.igmp(GROUP, msg);
        final UnsafeBuffer in = new UnsafeBuffer(expected);
        igmp.wrap(in, 38, 8);
        assertEquals(Igmp.TYPE_V2_MEMBERSHIP_REPORT, igmp.type());
        assertEquals(GROUP, igmp.groupAddress());
        assertEquals(0xF9FC, igmp.checksum());
        assertTrue(igmp.isChecksumValid());
        assertTrue(igmp.isWellFormed());
        assertFalse(igmp.isV3Query());

        final byte[] actual = new byte[8];
        new Igmp().wrap(new UnsafeBuffer(actual), 0, 8).header(Igmp.TYPE_V2_MEMBERSHIP_REPORT, 0, GROUP).computeChecksum();
        assertArrayEquals(java.util.Arrays.copyOfRange(expected, 38, 46), actual);
    }

    @Test
    void igmpV3QueryDecodeAndEncode() {
        final byte[] q = new byte[20];
        q[0] = 0x11;
        q[1] = 100;
        RefFrames.put32(q, 4, GROUP);
        q[8] = 0x0A; // S=1, QRV=2
        q[9] = 125;
        RefFrames.put16(q, 10, 2);
        RefFrames.put32(q, 12, IP_PEER);
        RefFrames.put32(q, 16, IP_US);
        RefFrames.put16(q, 2, RefFrames.checksum(q, 0, 20, 0));
        igmp.wrap(new UnsafeBuffer(q), 0, 20);
        assertTrue(igmp.isV3Query());
        assertTrue(igmp.isWellFormed());
        assertTrue(igmp.isChecksumValid());
        assertTrue(igmp.suppressRouterProcessing());
        assertEquals(2, igmp.qrv());
        assertEquals(125, igmp.qqic());
        assertEquals(100, igmp.maxResponseCode());
        assertEquals(2, igmp.numberOfSources());
        assertEquals(IP_PEER, igmp.sourceAddress(0));
        assertEquals(IP_US, igmp.sourceAddress(1));
        assertFalse(igmp.wrap(new UnsafeBuffer(q), 0, 16).isWellFormed(), "sources beyond length");
        assertFalse(igmp.wrap(new UnsafeBuffer(q), 0, 10).isWellFormed(), "9..11 bytes is invalid");

        final byte[] actual = new byte[20];
        new Igmp().wrap(new UnsafeBuffer(actual), 0, 20).header(0x11, 100, GROUP).v3Query(true, 2, 125, 2)
            .sourceAddress(0, IP_PEER).sourceAddress(1, IP_US).computeChecksum();
        assertArrayEquals(q, actual);
    }

    @Test
    void igmpV3ReportRoundTrip() {
        // header + two records: CHANGE_TO_EXCLUDE 239.1.1.1 (0 sources), MODE_IS_INCLUDE 239.2.2.2 with 1 source
        final byte[] r = new byte[8 + 8 + 12];
        r[0] = 0x22;
        RefFrames.put16(r, 6, 2);
        r[8] = 4;
        RefFrames.put32(r, 12, GROUP);
        r[16] = 1;
        RefFrames.put16(r, 18, 1);
        RefFrames.put32(r, 20, 0xEF020202);
        RefFrames.put32(r, 24, IP_PEER);
        RefFrames.put16(r, 2, RefFrames.checksum(r, 0, r.length, 0));
        report.wrap(new UnsafeBuffer(r), 0, r.length);
        assertEquals(Igmp.TYPE_V3_MEMBERSHIP_REPORT, report.type());
        assertEquals(2, report.numberOfGroupRecords());
        assertEquals(r.length, report.encodedLength());
        assertTrue(report.isWellFormed());
        assertEquals(IgmpV3Report.CHANGE_TO_EXCLUDE_MODE, report.recordType(0));
        assertEquals(GROUP, report.recordGroup(0));
        assertEquals(0, report.recordNumberOfSources(0));
        assertEquals(IgmpV3Report.MODE_IS_INCLUDE, report.recordType(1));
        assertEquals(0xEF020202, report.recordGroup(1));
        assertEquals(1, report.recordNumberOfSources(1));
        assertEquals(IP_PEER, report.recordSource(1, 0));
        assertEquals(-1, report.wrap(new UnsafeBuffer(r), 0, r.length - 1).encodedLength(), "record runs past the end");

        final byte[] actual = new byte[16];
        final IgmpV3Report w = new IgmpV3Report().wrap(new UnsafeBuffer(actual), 0, 16).header(0);
        assertEquals(16, w.appendRecord(IgmpV3Report.CHANGE_TO_EXCLUDE_MODE, GROUP));
        assertEquals(-1, w.appendRecord(IgmpV3Report.CHANGE_TO_EXCLUDE_MODE, GROUP), "no room");
        w.computeChecksum();
        final byte[] expected = new byte[16];
        expected[0] = 0x22;
        RefFrames.put16(expected, 6, 1);
        expected[8] = 4;
        RefFrames.put32(expected, 12, GROUP);
        RefFrames.put16(expected, 2, RefFrames.checksum(expected, 0, 16, 0));
        assertArrayEquals(expected, actual);
    }
}
