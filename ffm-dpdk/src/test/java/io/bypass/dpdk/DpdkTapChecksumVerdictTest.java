package io.bypass.dpdk;

import io.bypass.Bypass;
import io.bypass.Capability;
import io.bypass.FrameMeta;
import io.bypass.Port;
import io.bypass.RxQueue;
import io.bypass.net.Ipv4;
import io.bypass.testing.Frames;
import io.bypass.testing.Netns;
import io.bypass.testing.RawSocket;
import io.bypass.testing.Requirements;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The NIC's RX checksum verdict on DPDK, end to end on the net_tap PMD (which offers
 * {@code RTE_ETH_RX_OFFLOAD_IPV4_CKSUM|UDP_CKSUM} and checks the sums in the PMD): the port
 * asks for it, says {@link Capability#RX_CHECKSUM_VERDICT}, and each frame's
 * {@link FrameMeta#checksumVerdict()} carries what the PMD found in the mbuf's
 * {@code ol_flags}: both sums good for an intact datagram, the UDP sum bad for a corrupted
 * one, the IPv4 sum bad for a corrupted header. The frames are written onto the tap from
 * the kernel side with a packet socket, so their sums are exactly as built.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DpdkTapChecksumVerdictTest {
    @Test
    void eachFrameCarriesThePmdsChecksumVerdict() throws Exception {
        Requirements.requireNetns();
        Requirements.requireBackendAvailable("dpdk");
        final Netns ns = Netns.create("bypv");
        try {
            final String tap = "vtap" + Netns.randomSuffix();
            final int net = (10 << 24) | (ThreadLocalRandom.current().nextInt(100, 250) << 16)
                | (ThreadLocalRandom.current().nextInt(0, 256) << 8);
            final int index = DpdkTestSupport.nextVdevIndex();
            final Port port = ns.executor().call(() -> Bypass.open("dpdk:net_tap" + index + ",iface=" + tap
                + "?hugepages=false&ip=" + Ipv4.toString(net | 1) + "/24"));
            try {
                assertTrue(port.capabilities().contains(Capability.RX_CHECKSUM_VERDICT),
                    "net_tap checks RX checksums: " + port.capabilities());
                ns.ip("link", "set", tap, "up");
                final RawSocket raw = ns.executor().call(() -> RawSocket.open(tap));
                try (raw) {
                    final Frames.Udp spec = Frames.udp().macs(0x02_00_00_00_00_02L, port.macAddress())
                        .addresses(net | 2, net | 1).ports(40000, 9000);
                    raw.send(spec.copy().ipId(1).payload(tag("good")).build());
                    raw.send(Frames.Malformation.BAD_UDP_CHECKSUM.apply(spec.copy().ipId(2).payload(tag("badudp"))));
                    raw.send(Frames.Malformation.BAD_IP_CHECKSUM.apply(spec.copy().ipId(3).payload(tag("badip!"))));
                    final Map<String, Integer> verdicts = new HashMap<>();
                    final RxQueue rx = port.rxQueue(0);
                    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    while (verdicts.size() < 3 && System.nanoTime() < deadline) {
                        rx.poll((buffer, offset, length, meta) -> {
                            if (length >= 42 + 6 && (buffer.getShort(offset + 12) & 0xFFFF) == 0x0008
                                && buffer.getByte(offset + 23) == 17) {
                                final byte[] p = new byte[6];
                                buffer.getBytes(offset + 42, p);
                                verdicts.put(new String(p, StandardCharsets.US_ASCII), meta.checksumVerdict());
                            }
                        }, 32);
                    }
                    final int good = FrameMeta.IP_CHECKSUM_GOOD | FrameMeta.L4_CHECKSUM_GOOD;
                    assertEquals(good, (int) verdicts.getOrDefault("good!!", -1), "intact datagram: " + verdicts);
                    assertEquals(FrameMeta.IP_CHECKSUM_GOOD | FrameMeta.L4_CHECKSUM_BAD,
                        (int) verdicts.getOrDefault("badudp", -1), "corrupted UDP sum: " + verdicts);
                    assertTrue((verdicts.getOrDefault("badip!", 0) & FrameMeta.IP_CHECKSUM_BAD) != 0,
                        "corrupted IPv4 header sum: " + verdicts);
                }
            } finally {
                ns.executor().run(port::close);
            }
        } finally {
            ns.close();
        }
    }

    private static byte[] tag(final String text) {
        final byte[] b = new byte[16];
        final byte[] t = (text + "!!!!!!").substring(0, 6).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(t, 0, b, 0, 6);
        return b;
    }
}
