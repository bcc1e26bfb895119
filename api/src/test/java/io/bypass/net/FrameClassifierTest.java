package io.bypass.net;

import io.bypass.Counter;
import io.bypass.Counters;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static io.bypass.net.RefFrames.GROUP;
import static io.bypass.net.RefFrames.IP_PEER;
import static io.bypass.net.RefFrames.IP_US;
import static io.bypass.net.RefFrames.MAC_PEER;
import static io.bypass.net.RefFrames.MAC_STRANGER;
import static io.bypass.net.RefFrames.MAC_US;
import static io.bypass.net.RefFrames.fixIpChecksum;
import static io.bypass.net.RefFrames.put16;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

class FrameClassifierTest {
    private static final int PORT = 9000;
    private static final int GROUP_PORT = 30001;
    private static final long GROUP_MAC = Ipv4.multicastMac(GROUP);
    private static final byte[] PAYLOAD = "payload!".getBytes();

    private Counters counters;
    private FrameClassifier classifier;

    @BeforeEach
    void setUp() {
        counters = new Counters();
        classifier = new FrameClassifier(counters).localMac(MAC_US).localAddress(IP_US);
        classifier.subscriptions().bind(PORT);
        classifier.subscriptions().join(GROUP, GROUP_PORT);
    }

    private long total() {
        long sum = 0;
        for (final Counter c : Counter.values()) {
            sum += counters.get(c);
        }
        return sum;
    }

    private int classify(final byte[] frame) {
        return classifier.classify(new UnsafeBuffer(frame), 0, frame.length);
    }

    private void assertDrop(final Counter expected, final byte[] frame) {
        assertDrop(expected, frame, frame.length);
    }

    private void assertDrop(final Counter expected, final byte[] frame, final int length) {
        final long before = counters.get(expected);
        final long totalBefore = total();
        assertEquals(FrameClassifier.DROPPED, classifier.classify(new UnsafeBuffer(frame), 0, length), expected.name());
        assertEquals(expected, classifier.lastDrop());
        assertEquals(before + 1, counters.get(expected), expected.name());
        assertEquals(totalBefore + 1, total(), "exactly one counter incremented");
    }

    private static byte[] unicast() {
        return RefFrames.udpToUs(PORT, PAYLOAD);
    }

    @Test
    void acceptsUnicastAndParsesIt() {
        assertEquals(FrameClassifier.UDP, classify(unicast()));
        assertNull(classifier.lastDrop());
        assertEquals(IP_PEER, classifier.sourceAddress());
        assertEquals(IP_US, classifier.destinationAddress());
        assertEquals(40000, classifier.sourcePort());
        assertEquals(PORT, classifier.destinationPort());
        assertEquals(42, classifier.payloadOffset());
        assertEquals(PAYLOAD.length, classifier.payloadLength());
        assertEquals(MAC_PEER, classifier.sourceMac());
        assertEquals(-1, classifier.vlanId());
        assertEquals(0, total(), "accepting counts nothing");
    }

    @Test
    void acceptsEthernetPaddingBeyondTotalLength() {
        final byte[] f = Arrays.copyOf(unicast(), 60 + 4);
        assertEquals(FrameClassifier.UDP, classify(f));
        assertEquals(PAYLOAD.length, classifier.payloadLength());
    }

    @Test
    void acceptsTheConfiguredVlanOnly() {
        classifier.vlan(7);
        final byte[] f = RefFrames.udp(MAC_US, 7, IP_PEER, IP_US, 1, PORT, PAYLOAD);
        assertEquals(FrameClassifier.UDP, classify(f));
        assertEquals(7, classifier.vlanId());
        assertEquals(46, classifier.payloadOffset());
        assertEquals(FrameClassifier.UDP, classify(RefFrames.udp(GROUP_MAC, 7, IP_PEER, GROUP, 1, GROUP_PORT, PAYLOAD)));
        assertDrop(Counter.DROP_WRONG_VLAN, RefFrames.udp(MAC_US, 8, IP_PEER, IP_US, 1, PORT, PAYLOAD));
        assertDrop(Counter.DROP_WRONG_VLAN, RefFrames.udp(MAC_US, 0, IP_PEER, IP_US, 1, PORT, PAYLOAD));
        assertDrop(Counter.DROP_WRONG_VLAN, unicast());
        assertDrop(Counter.DROP_WRONG_VLAN, RefFrames.arp(Mac.BROADCAST, Arp.OP_REQUEST, MAC_PEER, IP_PEER, 0, IP_US));
        // the priority bits are not part of the VLAN id
        final byte[] pcp = RefFrames.udp(MAC_US, 7, IP_PEER, IP_US, 1, PORT, PAYLOAD);
        pcp[14] |= (byte) 0xA0;
        assertEquals(FrameClassifier.UDP, classify(pcp));
    }

    /** Issue 16 item 5: a tagged frame on an untagged port was accepted as if untagged. */
    @Test
    void aTaggedFrameOnAnUntaggedPortIsAnotherVlans() {
        assertEquals(0, classifier.vlan());
        assertDrop(Counter.DROP_WRONG_VLAN, RefFrames.udp(MAC_US, 7, IP_PEER, IP_US, 1, PORT, PAYLOAD));
        assertDrop(Counter.DROP_WRONG_VLAN, RefFrames.udp(GROUP_MAC, 7, IP_PEER, GROUP, 1, GROUP_PORT, PAYLOAD));
        assertDrop(Counter.DROP_WRONG_VLAN, RefFrames.udp(MAC_US, 4095, IP_PEER, IP_US, 1, PORT, PAYLOAD));
        // VLAN id 0 is a priority tag: 802.1Q counts the frame as untagged
        assertEquals(FrameClassifier.UDP, classify(RefFrames.udp(MAC_US, 0, IP_PEER, IP_US, 1, PORT, PAYLOAD)));
        assertEquals(0, classifier.vlanId());
        assertEquals(FrameClassifier.UDP, classify(unicast()));
    }

    @Test
    void vlanIdOutsideTheRangeIsRefused() {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> classifier.vlan(4095));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> classifier.vlan(-1));
    }

    @Test
    void acceptsZeroUdpChecksumAsNone() {
        final byte[] f = unicast();
        put16(f, 40, 0);
        assertEquals(FrameClassifier.UDP, classify(f));
    }

    @Test
    void acceptsJoinedGroupOnItsPortOnly() {
        assertEquals(FrameClassifier.UDP, classify(RefFrames.udp(GROUP_MAC, -1, IP_PEER, GROUP, 1, GROUP_PORT, PAYLOAD)));
        assertEquals(GROUP, classifier.destinationAddress());
        assertDrop(Counter.DROP_NOT_OURS, RefFrames.udp(GROUP_MAC, -1, IP_PEER, GROUP, 1, GROUP_PORT + 1, PAYLOAD));
        // 239.129.1.1 shares 239.1.1.1's MAC: passes the MAC filter, fails the group check
        assertDrop(Counter.DROP_NOT_OURS, RefFrames.udp(GROUP_MAC, -1, IP_PEER, 0xEF81_0101, 1, GROUP_PORT, PAYLOAD));
        final int other = Ipv4.parse("239.2.2.2");
        assertDrop(Counter.DROP_NOT_OURS, RefFrames.udp(Ipv4.multicastMac(other), -1, IP_PEER, other, 1, GROUP_PORT, PAYLOAD));
        classifier.subscriptions().leave(GROUP, GROUP_PORT);
        assertDrop(Counter.DROP_NOT_OURS, RefFrames.udp(GROUP_MAC, -1, IP_PEER, GROUP, 1, GROUP_PORT, PAYLOAD));
    }

    @Test
    void acceptsLimitedBroadcastOnBoundPort() {
        assertEquals(FrameClassifier.UDP, classify(RefFrames.udp(Mac.BROADCAST, -1, IP_PEER, 0xFFFF_FFFF, 1, PORT, PAYLOAD)));
        assertDrop(Counter.DROP_NOT_OURS, RefFrames.udp(Mac.BROADCAST, -1, IP_PEER, 0xFFFF_FFFF, 1, PORT + 1, PAYLOAD));
    }

    @Test
    void truncated() {
        final byte[] f = unicast();
        assertDrop(Counter.DROP_TRUNCATED, f, 0);
        assertDrop(Counter.DROP_TRUNCATED, f, 13);
        assertDrop(Counter.DROP_TRUNCATED, f, 14 + 19);
        final byte[] vlan = RefFrames.udp(MAC_US, 7, IP_PEER, IP_US, 1, PORT, PAYLOAD);
        assertDrop(Counter.DROP_TRUNCATED, vlan, 17);
        final byte[] arp = RefFrames.arp(Mac.BROADCAST, Arp.OP_REQUEST, MAC_PEER, IP_PEER, 0, IP_US);
        assertDrop(Counter.DROP_TRUNCATED, arp, 14 + 27);
        // IPv4 says UDP but carries only 7 bytes of payload
        final byte[] shortUdp = Arrays.copyOf(unicast(), 14 + 20 + 7);
        put16(shortUdp, 16, 27);
        fixIpChecksum(shortUdp, 14);
        assertDrop(Counter.DROP_TRUNCATED, shortUdp);
        final byte[] shortIgmp = RefFrames.igmp(RefFrames.GROUP, RefFrames.igmpQuery(0, false, 100));
        put16(shortIgmp, 16, 24 + 7);
        fixIpChecksum(shortIgmp, 14);
        assertDrop(Counter.DROP_TRUNCATED, shortIgmp);
        // a length beyond the buffer is refused, not read
        assertEquals(FrameClassifier.DROPPED, classifier.classify(new UnsafeBuffer(f), 0, f.length + 1));
        assertEquals(FrameClassifier.DROPPED, classifier.classify(new UnsafeBuffer(f), -1, 20));
    }

    @Test
    void badEthernet() {
        final byte[] ipv6 = unicast();
        put16(ipv6, 12, Ethernet.ETHERTYPE_IPV6);
        assertDrop(Counter.DROP_BAD_ETHERNET, ipv6);
        final byte[] qinq = RefFrames.udp(MAC_US, 7, IP_PEER, IP_US, 1, PORT, PAYLOAD);
        put16(qinq, 12, Ethernet.ETHERTYPE_QINQ);
        assertDrop(Counter.DROP_BAD_ETHERNET, qinq);
        classifier.vlan(7);
        final byte[] doubleTag = RefFrames.udp(MAC_US, 7, IP_PEER, IP_US, 1, PORT, PAYLOAD);
        put16(doubleTag, 16, Ethernet.ETHERTYPE_VLAN);
        assertDrop(Counter.DROP_BAD_ETHERNET, doubleTag);
        final byte[] innerQinq = RefFrames.udp(MAC_US, 7, IP_PEER, IP_US, 1, PORT, PAYLOAD);
        put16(innerQinq, 16, Ethernet.ETHERTYPE_QINQ);
        assertDrop(Counter.DROP_BAD_ETHERNET, innerQinq);
    }

    @Test
    void badIpHeader() {
        final byte[] v6 = unicast();
        v6[14] = 0x65;
        fixIpChecksum(v6, 14);
        assertDrop(Counter.DROP_BAD_IP_HEADER, v6);
        final byte[] ihl4 = unicast();
        ihl4[14] = 0x44;
        assertDrop(Counter.DROP_BAD_IP_HEADER, ihl4);
        final byte[] ihlBeyond = unicast(); // 14 + 36 bytes, IHL 15 claims 60
        ihlBeyond[14] = 0x4F;
        assertDrop(Counter.DROP_BAD_IP_HEADER, ihlBeyond);
    }

    @Test
    void badIpLength() {
        final byte[] below = unicast();
        put16(below, 16, 19);
        fixIpChecksum(below, 14);
        assertDrop(Counter.DROP_BAD_IP_LENGTH, below);
        final byte[] beyond = unicast();
        put16(beyond, 16, beyond.length - 14 + 1);
        fixIpChecksum(beyond, 14);
        assertDrop(Counter.DROP_BAD_IP_LENGTH, beyond);
        final byte[] belowIhl = RefFrames.igmp(GROUP, RefFrames.igmpQuery(0, false, 10)); // IHL 6
        put16(belowIhl, 16, 22);
        fixIpChecksum(belowIhl, 14);
        assertDrop(Counter.DROP_BAD_IP_LENGTH, belowIhl);
    }

    @Test
    void badIpChecksum() {
        final byte[] f = unicast();
        f[14 + 8] = 63; // TTL changed, checksum not
        assertDrop(Counter.DROP_BAD_IP_CHECKSUM, f);
    }

    @Test
    void fragments() {
        final byte[] mf = unicast();
        put16(mf, 20, Ipv4Header.FLAG_MF);
        fixIpChecksum(mf, 14);
        assertDrop(Counter.DROP_IP_FRAGMENT, mf);
        final byte[] offset = unicast();
        put16(offset, 20, 1);
        fixIpChecksum(offset, 14);
        assertDrop(Counter.DROP_IP_FRAGMENT, offset);
        final byte[] df = unicast();
        put16(df, 20, Ipv4Header.FLAG_DF);
        fixIpChecksum(df, 14);
        assertEquals(FrameClassifier.UDP, classify(df), "DF alone is not a fragment");
    }

    @Test
    void badUdpLength() {
        final byte[] seven = unicast();
        put16(seven, 38, 7);
        assertDrop(Counter.DROP_BAD_UDP_LENGTH, seven);
        final byte[] beyond = unicast();
        put16(beyond, 38, 8 + PAYLOAD.length + 1);
        assertDrop(Counter.DROP_BAD_UDP_LENGTH, beyond);
    }

    @Test
    void udpLengthShorterThanIpPayloadIsTrimmed() {
        final byte[] f = Arrays.copyOf(unicast(), 42 + PAYLOAD.length + 2);
        put16(f, 16, 20 + 8 + PAYLOAD.length + 2);
        fixIpChecksum(f, 14);
        assertEquals(FrameClassifier.UDP, classify(f));
        assertEquals(PAYLOAD.length, classifier.payloadLength());
    }

    @Test
    void badUdpChecksum() {
        final byte[] f = unicast();
        f[42] ^= 0x20;
        assertDrop(Counter.DROP_BAD_UDP_CHECKSUM, f);
    }

    /** The UDP checksum field as a kernel sender over veth leaves it: the pseudo-header sum, folded, not complemented. */
    private static byte[] partial() {
        final byte[] f = unicast();
        put16(f, 40, foldedPseudoHeaderSum());
        return f;
    }

    /** The pseudo-header sum of {@link #unicast()}, folded, not complemented. */
    private static int foldedPseudoHeaderSum() {
        long sum = RefFrames.pseudo(IP_PEER, IP_US, 8 + PAYLOAD.length);
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }

    @Test
    void partialChecksumIsDeliveredAndCountedByDefault() {
        assertEquals(ChecksumPolicy.NIC, classifier.checksumPolicy());
        final long totalBefore = total();
        assertEquals(FrameClassifier.UDP, classify(partial()));
        assertEquals(1, counters.get(Counter.RX_PARTIAL_CHECKSUM));
        assertEquals(totalBefore + 1, total(), "only RX_PARTIAL_CHECKSUM moved");
        classifier.checksumPolicy(ChecksumPolicy.PARTIAL);
        assertEquals(FrameClassifier.UDP, classify(partial()));
        assertEquals(2, counters.get(Counter.RX_PARTIAL_CHECKSUM));
    }

    @Test
    void aCompleteSumThatEqualsThePseudoHeaderSumIsCountedAsPartialExceptUnderVerify() {
        // the field is compared with the pseudo-header sum before the payload is summed, so the
        // 1 in 65536 complete sums that equal it are counted as partial; verify sums them and delivers
        final int pseudoSum = foldedPseudoHeaderSum();
        byte[] f = null;
        for (int word = 0; word <= 0xFFFF && f == null; word++) {
            final byte[] payload = PAYLOAD.clone();
            payload[0] = (byte) (word >>> 8);
            payload[1] = (byte) word;
            final byte[] candidate = RefFrames.udpToUs(PORT, payload);
            if (RefFrames.get16(candidate, 40) == pseudoSum) {
                f = candidate;
            }
        }
        assertNotNull(f, "some first payload word makes the complete sum equal the pseudo-header sum");
        assertEquals(FrameClassifier.UDP, classify(f));
        assertEquals(1, counters.get(Counter.RX_PARTIAL_CHECKSUM));
        classifier.checksumPolicy(ChecksumPolicy.VERIFY);
        assertEquals(FrameClassifier.UDP, classify(f), "a complete sum is right under verify too");
        assertEquals(1, counters.get(Counter.RX_PARTIAL_CHECKSUM), "verify counts nothing as partial");
    }

    @Test
    void countIntoScratchCountsThereAndBackHomeCountsHereAgain() {
        final Counters scratch = new Counters();
        classifier.countInto(scratch);
        assertEquals(FrameClassifier.UDP, classify(partial()));
        assertEquals(FrameClassifier.DROPPED, classify(RefFrames.udpToUs(PORT + 1, PAYLOAD)));
        assertEquals(1, scratch.get(Counter.RX_PARTIAL_CHECKSUM));
        assertEquals(1, scratch.get(Counter.DROP_NOT_OURS));
        assertEquals(0, total(), "nothing counted at home while diverted");
        classifier.countInto(counters);
        assertEquals(FrameClassifier.UDP, classify(partial()));
        assertEquals(1, counters.get(Counter.RX_PARTIAL_CHECKSUM));
        assertEquals(1, scratch.get(Counter.RX_PARTIAL_CHECKSUM), "scratch no longer counts");
    }

    @Test
    void partialChecksumIsDroppedUnderVerify() {
        classifier.checksumPolicy(ChecksumPolicy.VERIFY);
        assertDrop(Counter.DROP_BAD_UDP_CHECKSUM, partial());
        assertEquals(0, counters.get(Counter.RX_PARTIAL_CHECKSUM));
    }

    @Test
    void aPartialSumVouchesForNoPayloadButAWrongCompleteSumIsAlwaysDropped() {
        // a partial sum says nothing about the payload: changing it keeps the frame partial
        final byte[] f = partial();
        f[42] ^= 0x20;
        assertEquals(FrameClassifier.UDP, classify(f));
        // but a complete sum that is wrong is dropped under every policy
        for (final ChecksumPolicy policy : ChecksumPolicy.values()) {
            classifier.checksumPolicy(policy);
            final byte[] bad = unicast();
            bad[42] ^= 0x20;
            assertDrop(Counter.DROP_BAD_UDP_CHECKSUM, bad);
        }
    }

    @Test
    void nicVerdictIsUsedOnlyUnderTheNicPolicy() {
        final byte[] wrongSums = unicast();
        wrongSums[42] ^= 0x20;             // UDP checksum now wrong
        wrongSums[14 + 8] = 63;            // IPv4 header checksum now wrong
        final int good = io.bypass.FrameMeta.IP_CHECKSUM_GOOD | io.bypass.FrameMeta.L4_CHECKSUM_GOOD;
        // NIC (default): the NIC's "good" skips both software sums
        assertEquals(FrameClassifier.UDP, classifier.classify(new UnsafeBuffer(wrongSums), 0, wrongSums.length, good));
        // the NIC's "bad" drops a frame whose sums are right
        final byte[] right = unicast();
        assertEquals(FrameClassifier.DROPPED, classifier.classify(new UnsafeBuffer(right), 0, right.length,
            io.bypass.FrameMeta.IP_CHECKSUM_GOOD | io.bypass.FrameMeta.L4_CHECKSUM_BAD));
        assertEquals(Counter.DROP_BAD_UDP_CHECKSUM, classifier.lastDrop());
        assertEquals(FrameClassifier.DROPPED, classifier.classify(new UnsafeBuffer(right), 0, right.length,
            io.bypass.FrameMeta.IP_CHECKSUM_BAD));
        assertEquals(Counter.DROP_BAD_IP_CHECKSUM, classifier.lastDrop());
        // unknown: summed in software
        assertEquals(FrameClassifier.UDP, classifier.classify(new UnsafeBuffer(right), 0, right.length,
            io.bypass.FrameMeta.CHECKSUM_UNKNOWN));
        // other policies ignore the verdict and sum in software
        classifier.checksumPolicy(ChecksumPolicy.PARTIAL);
        assertEquals(FrameClassifier.DROPPED, classifier.classify(new UnsafeBuffer(wrongSums), 0, wrongSums.length, good));
        assertEquals(Counter.DROP_BAD_IP_CHECKSUM, classifier.lastDrop());
        classifier.checksumPolicy(ChecksumPolicy.VERIFY);
        assertEquals(FrameClassifier.UDP, classifier.classify(new UnsafeBuffer(right), 0, right.length,
            io.bypass.FrameMeta.L4_CHECKSUM_BAD));
    }

    @Test
    void policyFromUri() {
        assertEquals(ChecksumPolicy.NIC, ChecksumPolicy.from(io.bypass.PortUri.parse("afxdp:eth1")));
        assertEquals(ChecksumPolicy.VERIFY, ChecksumPolicy.from(io.bypass.PortUri.parse("afxdp:eth1?checksum=verify")));
        assertEquals(ChecksumPolicy.PARTIAL, ChecksumPolicy.from(io.bypass.PortUri.parse("nio:?checksum=partial")));
        final io.bypass.BypassUriException e = org.junit.jupiter.api.Assertions.assertThrows(io.bypass.BypassUriException.class,
            () -> ChecksumPolicy.from(io.bypass.PortUri.parse("afxdp:eth1?checksum=off")));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("verify, partial or nic"), e.getMessage());
    }

    @Test
    void notOurs() {
        assertDrop(Counter.DROP_NOT_OURS, RefFrames.udp(MAC_STRANGER, -1, IP_PEER, IP_US, 1, PORT, PAYLOAD));
        assertDrop(Counter.DROP_NOT_OURS, RefFrames.udp(MAC_US, -1, IP_PEER, 0x0A00_0063, 1, PORT, PAYLOAD));
        assertDrop(Counter.DROP_NOT_OURS, RefFrames.udpToUs(PORT + 1, PAYLOAD));
        final byte[] tcp = unicast();
        tcp[14 + 9] = 6;
        fixIpChecksum(tcp, 14);
        assertDrop(Counter.DROP_NOT_OURS, tcp);
        final FrameClassifier noAddress = new FrameClassifier(counters).localMac(MAC_US);
        noAddress.subscriptions().bind(PORT);
        assertEquals(FrameClassifier.DROPPED, noAddress.classify(new UnsafeBuffer(unicast()), 0, unicast().length));
        assertEquals(Counter.DROP_NOT_OURS, noAddress.lastDrop());
    }

    @Test
    void arp() {
        assertEquals(FrameClassifier.ARP, classify(RefFrames.arp(Mac.BROADCAST, Arp.OP_REQUEST, MAC_PEER, IP_PEER, 0, IP_US)));
        assertEquals(IP_PEER, classifier.sourceAddress());
        assertEquals(14, classifier.l4Offset());
        assertEquals(FrameClassifier.ARP, classify(RefFrames.arp(MAC_US, Arp.OP_REPLY, MAC_PEER, IP_PEER, MAC_US, IP_US)));
        assertDrop(Counter.DROP_NOT_OURS, RefFrames.arp(Mac.BROADCAST, Arp.OP_REQUEST, MAC_PEER, IP_PEER, 0, 0x0A00_0063));
        assertDrop(Counter.DROP_NOT_OURS, RefFrames.arp(MAC_STRANGER, Arp.OP_REPLY, MAC_PEER, IP_PEER, MAC_STRANGER, IP_US));
        assertEquals(FrameClassifier.ARP, classify(RefFrames.arp(Mac.BROADCAST, Arp.OP_REQUEST, MAC_PEER, IP_PEER, 0, IP_PEER)),
            "gratuitous ARP (sender == target) is handed up to refresh the cache");
        assertDrop(Counter.DROP_NOT_OURS, RefFrames.arp(Mac.BROADCAST, Arp.OP_REQUEST, MAC_PEER, 0, 0, 0));
        final byte[] op3 = RefFrames.arp(Mac.BROADCAST, 3, MAC_PEER, IP_PEER, 0, IP_US);
        assertDrop(Counter.DROP_BAD_CONTROL, op3);
        final byte[] htype = RefFrames.arp(Mac.BROADCAST, Arp.OP_REQUEST, MAC_PEER, IP_PEER, 0, IP_US);
        put16(htype, 14, 6);
        assertDrop(Counter.DROP_BAD_CONTROL, htype);
        final byte[] ptype = RefFrames.arp(Mac.BROADCAST, Arp.OP_REQUEST, MAC_PEER, IP_PEER, 0, IP_US);
        put16(ptype, 16, 0x86DD);
        assertDrop(Counter.DROP_BAD_CONTROL, ptype);
        final byte[] plen = RefFrames.arp(Mac.BROADCAST, Arp.OP_REQUEST, MAC_PEER, IP_PEER, 0, IP_US);
        plen[19] = 16;
        assertDrop(Counter.DROP_BAD_CONTROL, plen);
        classifier.handleArp(false);
        assertDrop(Counter.DROP_NOT_OURS, RefFrames.arp(Mac.BROADCAST, Arp.OP_REQUEST, MAC_PEER, IP_PEER, 0, IP_US));
    }

    @Test
    void igmp() {
        assertEquals(FrameClassifier.IGMP, classify(RefFrames.igmp(Igmp.ALL_SYSTEMS, RefFrames.igmpQuery(0, false, 100))));
        assertEquals(24, classifier.ipHeaderLength());
        assertEquals(8, classifier.l4Length());
        assertEquals(FrameClassifier.IGMP, classify(RefFrames.igmp(Igmp.ALL_SYSTEMS, RefFrames.igmpQuery(0, true, 100))));
        assertEquals(FrameClassifier.IGMP, classify(RefFrames.igmp(GROUP, RefFrames.igmpQuery(GROUP, true, 100))));
        final int other = Ipv4.parse("239.9.9.9");
        assertDrop(Counter.DROP_NOT_OURS, RefFrames.igmp(other, RefFrames.igmpQuery(other, false, 100)));

        final byte[] badSum = RefFrames.igmp(Igmp.ALL_SYSTEMS, RefFrames.igmpQuery(0, false, 100));
        badSum[39] ^= 1;
        assertDrop(Counter.DROP_BAD_CONTROL, badSum);
        // 10-byte query: neither v2 (8) nor v3 (>= 12)
        final byte[] ten = RefFrames.igmp(Igmp.ALL_SYSTEMS, Arrays.copyOf(RefFrames.igmpQuery(0, false, 100), 10));
        assertDrop(Counter.DROP_BAD_CONTROL, ten);
        // v3 query claiming 5 sources in 0 bytes
        final byte[] v3 = RefFrames.igmpQuery(0, true, 100);
        put16(v3, 10, 5);
        assertDrop(Counter.DROP_BAD_CONTROL, RefFrames.igmp(Igmp.ALL_SYSTEMS, v3));

        classifier.handleIgmp(false);
        assertDrop(Counter.DROP_NOT_OURS, RefFrames.igmp(GROUP, RefFrames.igmpQuery(GROUP, false, 100)));
        assertDrop(Counter.DROP_NOT_OURS, RefFrames.igmp(Igmp.ALL_SYSTEMS, RefFrames.igmpQuery(0, false, 100)));
    }

    @Test
    void groupBookkeeping() {
        final int g2 = Ipv4.parse("239.2.2.2");
        assertEquals(false, classifier.subscriptions().join(GROUP, GROUP_PORT), "already joined");
        assertEquals(false, classifier.subscriptions().join(GROUP, GROUP_PORT + 1), "group not new");
        assertEquals(true, classifier.subscriptions().join(g2, 1));
        assertEquals(2, classifier.subscriptions().groupCount());
        assertEquals(false, classifier.subscriptions().leave(GROUP, GROUP_PORT), "another port remains");
        assertEquals(true, classifier.subscriptions().isJoined(GROUP));
        assertEquals(true, classifier.subscriptions().leave(GROUP, GROUP_PORT + 1));
        assertEquals(false, classifier.subscriptions().isJoined(GROUP));
        assertEquals(1, classifier.subscriptions().groupCount());
        assertEquals(g2, classifier.subscriptions().group(0));
        assertEquals(false, classifier.subscriptions().leave(GROUP, GROUP_PORT), "not joined");
    }

    @Test
    void fuzzNeverThrowsAndCountsEveryFrame() {
        final Random random = new Random(20261121);
        final byte[][] valid = {
            unicast(),
            RefFrames.udp(MAC_US, 7, IP_PEER, IP_US, 1, PORT, PAYLOAD),
            RefFrames.udp(GROUP_MAC, -1, IP_PEER, GROUP, 1, GROUP_PORT, PAYLOAD),
            RefFrames.arp(Mac.BROADCAST, Arp.OP_REQUEST, MAC_PEER, IP_PEER, 0, IP_US),
            RefFrames.igmp(Igmp.ALL_SYSTEMS, RefFrames.igmpQuery(0, true, 100)),
            RefFrames.igmp(GROUP, RefFrames.igmpQuery(GROUP, false, 100)),
        };
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[256]);
        final byte[] scratch = new byte[256];
        long fed = 0;
        long accepted = 0;
        for (int i = 0; i < 200_000; i++) {
            final int length;
            final int mode = random.nextInt(4);
            if (mode == 0) {
                length = random.nextInt(200);
                random.nextBytes(scratch);
            } else {
                final byte[] v = valid[random.nextInt(valid.length)];
                Arrays.fill(scratch, (byte) 0);
                System.arraycopy(v, 0, scratch, 0, v.length);
                if (mode == 1) {
                    length = random.nextInt(v.length + 1); // truncation
                } else if (mode == 2) {
                    length = v.length;
                    for (int k = 1 + random.nextInt(3); k > 0; k--) {
                        scratch[random.nextInt(v.length)] = (byte) random.nextInt();
                    }
                } else {
                    length = v.length; // intact
                }
            }
            buffer.putBytes(0, scratch);
            fed++;
            if (classifier.classify(buffer, 0, length) != FrameClassifier.DROPPED) {
                accepted++;
            }
        }
        assertEquals(fed, total() + accepted, "every frame either accepted or counted once");
        assertEquals(true, accepted > 10_000, "intact frames are accepted: " + accepted);
    }
}
