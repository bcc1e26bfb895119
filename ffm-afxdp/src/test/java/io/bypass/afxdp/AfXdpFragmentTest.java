package io.bypass.afxdp;

import io.bypass.Bypass;
import io.bypass.Counter;
import io.bypass.testing.Frames;
import io.bypass.testing.RawSocket;
import io.bypass.udp.UdpEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IPv4 fragments and our XDP program, on a veth pair in two namespaces: every fragment of
 * a datagram for a bound port is counted once as {@link Counter#DROP_IP_FRAGMENT} and
 * dropped (the first by its UDP port, the later ones because their first fragment was
 * ours), while the fragments of a datagram for a port that is not ours reach the kernel,
 * which reassembles them and delivers the datagram to its own socket. Closing the port
 * closes the maps the counts live in.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AfXdpFragmentTest extends AfXdpVethTest {
    private static final int PAYLOAD = 40;  // UDP length 48: two fragments of 24 bytes
    private static final int SPLIT = 24;    // bytes of IPv4 payload in the first fragment (a multiple of 8)

    @Test
    void everyFragmentOfADatagramForABoundPortIsCountedOnceAndDropped() throws Exception {
        final int port = 31_001;
        final UdpEndpoint ep = t.executorA().call(() -> Bypass.openUdp("afxdp:" + t.ifaceA() + "?xdp=drv"));
        try (RawSocket raw = t.executorB().call(() -> RawSocket.open(t.ifaceB()))) {
            t.executorA().run(() -> ep.bind(port));
            final Frames.Udp spec = Frames.udp().macs(t.macB(), t.macA()).addresses(t.addressB(), t.addressA())
                .ports(40_000, port);
            final long before = t.executorA().call(() -> {
                ep.counters().refresh();
                return ep.counters().get(Counter.DROP_IP_FRAGMENT);
            });
            final long reasmBefore = t.executorA().call(() -> ipStat("ReasmReqds"));
            for (final byte[] f : fragments(spec.copy().ipId(0x4242).payload(payload(1)))) {
                raw.send(f);
            }
            raw.send(spec.copy().ipId(0x4243).payload(payload(2)).build());
            final byte[] got = t.executorA().call(() -> pollOne(ep));
            assertArrayEquals(payload(2), got, "only the unfragmented datagram may be delivered");
            t.executorA().run(() -> {
                ep.counters().refresh();
                assertEquals(before + 2, ep.counters().get(Counter.DROP_IP_FRAGMENT),
                    "both fragments counted once each; counters: " + ep.counters());
                assertEquals(reasmBefore, ipStat("ReasmReqds"), "the kernel must not have been given our fragments");
            });
        } finally {
            t.executorA().run(ep::close);
        }
    }

    @Test
    void fragmentsOfADatagramForAnotherPortReachTheKernelWhichReassemblesThem() throws Exception {
        final int ours = 31_002;
        final int kernels = 31_003;
        final UdpEndpoint ep = t.executorA().call(() -> Bypass.openUdp("afxdp:" + t.ifaceA() + "?xdp=drv"));
        final DatagramChannel kernel = t.executorA().call(() -> {
            final DatagramChannel c = DatagramChannel.open(StandardProtocolFamily.INET);
            c.bind(new InetSocketAddress(t.addressAText(), kernels));
            c.configureBlocking(false);
            return c;
        });
        try (kernel; RawSocket raw = t.executorB().call(() -> RawSocket.open(t.ifaceB()))) {
            t.executorA().run(() -> ep.bind(ours));
            final long before = t.executorA().call(() -> {
                ep.counters().refresh();
                return ep.counters().totalDrops();
            });
            final Frames.Udp spec = Frames.udp().macs(t.macB(), t.macA()).addresses(t.addressB(), t.addressA())
                .ports(40_000, kernels).ipId(0x5151).payload(payload(3));
            for (final byte[] f : fragments(spec)) {
                raw.send(f);
            }
            final ByteBuffer into = ByteBuffer.allocate(2048);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (kernel.receive(into) == null) {
                if (System.nanoTime() - deadline > 0) {
                    throw new AssertionError("the kernel socket did not receive the reassembled datagram");
                }
                Thread.sleep(1);
            }
            into.flip();
            final byte[] got = new byte[into.remaining()];
            into.get(got);
            assertArrayEquals(payload(3), got, "reassembled by the kernel");
            t.executorA().run(() -> {
                ep.counters().refresh();
                assertEquals(before, ep.counters().totalDrops(), "fragments not ours must not be counted: " + ep.counters());
            });
        } finally {
            t.executorA().run(ep::close);
        }
    }

    @Test
    void closingThePortClosesEveryMapOfTheProgramIncludingTheMalformedCounts() throws Exception {
        final long before = bpfMapFds();
        final UdpEndpoint ep = t.executorA().call(() -> Bypass.openUdp("afxdp:" + t.ifaceA() + "?xdp=drv"));
        try {
            // bypass_flows, bypass_ports, bypass_xsks, bypass_malformed, bypass_dests, bypass_frags
            assertTrue(bpfMapFds() >= before + 6, "the program's maps are open while the port is: " + bpfMapFds());
            t.executorA().run(() -> {
                ep.bind(31_004);
                ep.counters().refresh();
            });
        } finally {
            t.executorA().run(ep::close);
        }
        assertEquals(before, bpfMapFds(), "map file descriptors left after close");
        t.executorA().run(() -> AfXdpConformance.assertNoXdp(t.ifaceA()));
    }

    /** This process's file descriptors that are BPF maps. */
    private static long bpfMapFds() throws IOException {
        try (java.util.stream.Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().equals("anon_inode:bpf-map");
                } catch (final IOException e) {
                    return false; // closed meanwhile
                }
            }).count();
        }
    }

    /**
     * A valid datagram as two fragments: the first (MF set, offset 0) holds the UDP header
     * and the start of the payload, the second (MF clear) the rest.
     */
    private static List<byte[]> fragments(final Frames.Udp spec) {
        final byte[] whole = spec.build();
        final int ip = Frames.IP_OFFSET;
        final byte[] first = Arrays.copyOf(whole, Frames.UDP_OFFSET + SPLIT);
        Frames.putShort(first, ip + 2, Frames.IP_HEADER + SPLIT);
        Frames.putShort(first, ip + 6, 0x2000); // MF, offset 0
        Frames.fixIpChecksum(first);
        final int rest = whole.length - Frames.UDP_OFFSET - SPLIT;
        final byte[] second = new byte[Frames.UDP_OFFSET + rest];
        System.arraycopy(whole, 0, second, 0, Frames.UDP_OFFSET);
        System.arraycopy(whole, Frames.UDP_OFFSET + SPLIT, second, Frames.UDP_OFFSET, rest);
        Frames.putShort(second, ip + 2, Frames.IP_HEADER + rest);
        Frames.putShort(second, ip + 6, SPLIT / 8); // MF clear, offset SPLIT
        Frames.fixIpChecksum(second);
        return List.of(first, second);
    }

    private static byte[] payload(final int seq) {
        final byte[] p = new byte[PAYLOAD];
        for (int i = 0; i < p.length; i++) {
            p[i] = (byte) (seq * 37 + i);
        }
        return p;
    }

    private static byte[] pollOne(final UdpEndpoint ep) {
        final byte[][] got = new byte[1][];
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (got[0] == null && System.nanoTime() - deadline < 0) {
            ep.poll((buffer, offset, length, meta) -> {
                got[0] = new byte[length];
                buffer.getBytes(offset, got[0]);
            }, 16);
        }
        assertNotNull(got[0], "no datagram within 5 s; counters: " + ep.counters());
        // nothing else may follow
        final long quiet = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
        final byte[] first = got[0];
        while (System.nanoTime() - quiet < 0) {
            ep.poll((buffer, offset, length, meta) -> {
                throw new AssertionError("unexpected extra datagram of " + length + " bytes");
            }, 16);
        }
        return first;
    }

    /** An IPv4 statistic of the calling thread's namespace, from /proc/thread-self/net/snmp. */
    private static long ipStat(final String name) throws IOException {
        final List<String> lines = Files.readAllLines(Path.of("/proc/thread-self/net/snmp"));
        for (int i = 0; i + 1 < lines.size(); i++) {
            if (lines.get(i).startsWith("Ip: ") && lines.get(i + 1).startsWith("Ip: ")) {
                final int at = Arrays.asList(lines.get(i).split("\\s+")).indexOf(name);
                if (at > 0) {
                    return Long.parseLong(lines.get(i + 1).split("\\s+")[at]);
                }
            }
        }
        throw new IllegalStateException("no Ip " + name + " in /proc/thread-self/net/snmp");
    }
}
