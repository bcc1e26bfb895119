package io.bypass.dpdk;

import io.bypass.Bypass;
import io.bypass.Capability;
import io.bypass.net.Ipv4;
import io.bypass.testing.Requirements;
import io.bypass.testkit.Netns;
import io.bypass.udp.DatagramClaim;
import io.bypass.udp.UdpDestination;
import io.bypass.udp.UdpEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TX UDP checksum offload end to end on DPDK's net_tap PMD (which offers it and computes the
 * sum in the PMD): the protocol layer leaves only the pseudo-header sum in the datagram, the
 * TX queue marks the mbuf (ol_flags, l2_len, l3_len), and the kernel on the tap side, which
 * verifies UDP checksums, must accept the datagram. A wrong mark would leave a bad checksum
 * and the kernel would drop it. Runs in a namespace of its own; the tap lives and dies there.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DpdkTapChecksumOffloadTest {
    @Test
    void kernelAcceptsDatagramsWhoseUdpChecksumThePmdFilledIn() throws Exception {
        Requirements.requireNetns();
        Requirements.requireBackendAvailable("dpdk");
        final Netns ns = Netns.create("bypt");
        try {
            final String tap = "dtap" + Netns.randomSuffix();
            final int net = (10 << 24) | (ThreadLocalRandom.current().nextInt(100, 250) << 16)
                | (ThreadLocalRandom.current().nextInt(0, 256) << 8);
            final int dpdkIp = net | 1;
            final int kernelIp = net | 2;
            final int index = DpdkTestSupport.nextVdevIndex();
            final UdpEndpoint ep = ns.executor().call(() -> Bypass.openUdp("dpdk:net_tap" + index + ",iface=" + tap
                + "?hugepages=false&ip=" + Ipv4.toString(dpdkIp) + "/24"));
            try {
                assertTrue(ep.capabilities().contains(Capability.TX_CHECKSUM_OFFLOAD),
                    "net_tap offers UDP checksum offload: " + ep.capabilities());
                ns.ip("addr", "add", Ipv4.toString(kernelIp) + "/24", "dev", tap);
                ns.ip("link", "set", tap, "up");
                final DatagramChannel kernel = ns.executor().call(() -> {
                    final DatagramChannel c = DatagramChannel.open();
                    c.bind(new InetSocketAddress(InetAddress.getByAddress(Ipv4.toBytes(kernelIp)), 32001));
                    c.configureBlocking(false);
                    return c;
                });
                try (kernel) {
                    final byte[] payload = "checksummed by the PMD".getBytes(StandardCharsets.US_ASCII);
                    final DatagramClaim claim = new DatagramClaim();
                    final UdpDestination dest = UdpDestination.of(kernelIp, 32001);
                    int rc = UdpEndpoint.NEIGHBOUR_PENDING;
                    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    while (rc != UdpEndpoint.OK && System.nanoTime() < deadline) {
                        rc = ep.tryClaim(dest, payload.length, claim);
                        if (rc != UdpEndpoint.OK) {
                            ep.poll((b, o, l, m) -> { }, 16); // answers and learns ARP
                        }
                    }
                    assertEquals(UdpEndpoint.OK, rc, "kernel never answered our ARP: " + ep.counters());
                    claim.buffer().putBytes(claim.offset(), payload);
                    claim.commit();
                    assertEquals(1, ep.flush());
                    final ByteBuffer in = ByteBuffer.allocate(256);
                    final long deadline2 = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (kernel.receive(in) == null && System.nanoTime() < deadline2) {
                        Thread.sleep(1);
                    }
                    in.flip();
                    assertEquals("checksummed by the PMD", StandardCharsets.US_ASCII.decode(in).toString(),
                        "the kernel dropped the datagram (bad UDP checksum?): " + ns.exec("cat", "/proc/net/snmp"));
                }
            } finally {
                ns.executor().run(ep::close);
            }
        } finally {
            ns.close();
        }
    }
}
