package io.bypass.conformance;

import io.bypass.Bypass;
import io.bypass.BypassUriException;
import io.bypass.Counter;
import io.bypass.net.ChecksumPolicy;
import io.bypass.net.Ipv4;
import io.bypass.testing.Frames;
import io.bypass.testing.RawSocket;
import io.bypass.udp.UdpDestination;
import io.bypass.udp.UdpEndpoint;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;

import static io.bypass.conformance.UdpConformanceSuite.ARRIVAL_TIMEOUT_MILLIS;
import static io.bypass.conformance.UdpConformanceSuite.assertNothingMore;
import static io.bypass.conformance.UdpConformanceSuite.localPort;
import static io.bypass.conformance.UdpConformanceSuite.payload;
import static io.bypass.conformance.UdpConformanceSuite.pollUntil;
import static io.bypass.conformance.UdpConformanceSuite.receive;
import static io.bypass.conformance.UdpConformanceSuite.send;
import static io.bypass.conformance.UdpConformanceSuite.sendOk;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kernel peers over a veth pair left as {@code ip link add} makes it (TX checksum offload
 * on), the way every container network is built: the peer kernel's UDP carries only the
 * pseudo-header sum in its checksum field ({@code CHECKSUM_PARTIAL}), and an AF_XDP or
 * DPDK port sees the frame as it is. The backend must deliver such datagrams under the
 * default {@link ChecksumPolicy} (counting them in {@link Counter#RX_PARTIAL_CHECKSUM}),
 * still drop a genuinely corrupt checksum, drop partial ones under {@code checksum=verify},
 * and answer the peer so the peer's kernel accepts the answer. {@link UdpConformanceSuite}
 * covers the other case, offload off, as a NIC on the wire finishes every sum.
 *
 * <p>A backend test extends it with its URI and says whether partial sums reach its
 * protocol layer unfinished ({@link #partialChecksumsArrive()}).
 */
public abstract class KernelPeerChecksumSuite extends SiteSuite {
    private static final int GROUP_BASE = Ipv4.parse("239.80.0.0");
    private static final int COUNT = 20;

    /** For subclasses. */
    protected KernelPeerChecksumSuite() {
        super(GROUP_BASE);
    }

    @Override
    protected final ConformanceSite.Kind siteKind() {
        return ConformanceSite.Kind.VETH_OFFLOAD_ON;
    }

    /**
     * Whether the kernel peer's partial checksums reach the protocol layer unfinished: true
     * where the backend reads raw frames off the veth (afxdp, dpdk); false where the kernel
     * (nio) or a NIC model that finishes them as the wire would (the ef_vi stand-in) sits in
     * between.
     *
     * @return whether {@link Counter#RX_PARTIAL_CHECKSUM} must count the peer's datagrams
     */
    protected abstract boolean partialChecksumsArrive();

    /**
     * The counter a genuinely corrupt UDP checksum moves, or null where the kernel drops
     * the datagram before the backend sees it (nio). Default {@link Counter#DROP_BAD_UDP_CHECKSUM}.
     *
     * @return the counter, or null
     */
    protected Counter corruptChecksumCounter() {
        return Counter.DROP_BAD_UDP_CHECKSUM;
    }

    private UdpEndpoint openDut(final String extra) throws Exception {
        final String base = uriFor(site().dutIface());
        final String uri = extra.isEmpty() ? base : base + (base.contains("?") ? "&" : "?") + extra;
        return closeAfterTest(site().dut().call(() -> Bypass.openUdp(uri)));
    }

    private void sendFromKernel(final DatagramChannel peer, final String tag, final int address, final int port) throws Exception {
        site().peer().run(() -> {
            for (int i = 0; i < COUNT; i++) {
                send(peer, payload(tag, i, 40 + i), address, port);
            }
        });
    }

    private long partialCount(final UdpEndpoint ep) {
        ep.counters().refresh();
        return ep.counters().get(Counter.RX_PARTIAL_CHECKSUM);
    }

    @Test
    void kernelUnicastIsDeliveredWithItsPartialChecksumCounted() throws Exception {
        onDut(() -> {
            final UdpEndpoint ep = openDut("");
            final int port = freshPort();
            ep.bind(port);
            final DatagramChannel peer = peerChannel(0);
            sendFromKernel(peer, "unicast", site().dutAddress(), port);
            final UdpConformanceSuite.Collector got = new UdpConformanceSuite.Collector();
            pollUntil(ep, got, COUNT);
            for (int i = 0; i < COUNT; i++) {
                assertArrayEquals(payload("unicast", i, 40 + i), got.get(i).payload(), "datagram " + i);
                assertEquals(localPort(peer), got.get(i).sourcePort(), "source port");
            }
            assertNothingMore(ep, got);
            assertEquals(partialChecksumsArrive() ? COUNT : 0, partialCount(ep),
                "RX_PARTIAL_CHECKSUM; counters: " + ep.counters());
            assertEquals(0, ep.counters().get(Counter.DROP_BAD_UDP_CHECKSUM), "nothing dropped: " + ep.counters());
        });
    }

    @Test
    void kernelMulticastIsDeliveredWithItsPartialChecksumCounted() throws Exception {
        onDut(() -> {
            final UdpEndpoint ep = openDut("");
            final int group = freshGroup();
            final int port = freshPort();
            ep.join(group, port);
            final DatagramChannel peer = peerChannel(0);
            sendFromKernel(peer, "group", group, port);
            final UdpConformanceSuite.Collector got = new UdpConformanceSuite.Collector();
            pollUntil(ep, got, COUNT);
            for (int i = 0; i < COUNT; i++) {
                assertArrayEquals(payload("group", i, 40 + i), got.get(i).payload(), "datagram " + i);
            }
            assertEquals(partialChecksumsArrive() ? COUNT : 0, partialCount(ep),
                "RX_PARTIAL_CHECKSUM; counters: " + ep.counters());
        });
    }

    /** A request from the kernel peer and the answer back, which the peer's kernel checks and accepts. */
    @Test
    void answersReachTheKernelPeer() throws Exception {
        onDut(() -> {
            final UdpEndpoint ep = openDut("");
            final int port = freshPort();
            ep.bind(port);
            final int peerPort = freshPort();
            final DatagramChannel peer = peerChannel(peerPort);
            site().peer().run(() -> send(peer, payload("ping", 0, 64), site().dutAddress(), port));
            final UdpConformanceSuite.Collector got = new UdpConformanceSuite.Collector();
            pollUntil(ep, got, 1);
            final byte[] answer = payload("pong", 0, 64);
            sendOk(ep, UdpDestination.of(got.get(0).sourceAddress(), got.get(0).sourcePort()), answer);
            ep.flush();
            final ByteBuffer buf = ByteBuffer.allocate(2048);
            final InetSocketAddress from = site().peer().call(() -> receive(peer, buf, ARRIVAL_TIMEOUT_MILLIS));
            assertNotNull(from, "the peer's kernel received no answer (it drops a wrong checksum silently)");
            assertEquals(port, from.getPort(), "answer's source port");
            assertArrayEquals(answer, Arrays.copyOf(buf.array(), buf.position()));
        });
    }

    /** A checksum that is neither right nor a partial sum is still dropped and counted, offload on or off. */
    @Test
    void corruptChecksumIsStillDroppedAndCounted() throws Exception {
        onDut(() -> {
            final UdpEndpoint ep = openDut("");
            final int port = freshPort();
            ep.bind(port);
            final RawSocket raw = peerRaw();
            final Frames.Udp spec = Frames.udp().macs(site().peerMac(), site().dutMac())
                .addresses(site().peerAddress(), site().dutAddress()).ports(freshPort(), port);
            final Counter counter = corruptChecksumCounter();
            ep.counters().refresh();
            final long before = counter == null ? 0 : ep.counters().get(counter);
            raw.send(spec.copy().ipId(1).payload(payload("good", 0, 24)).build());
            raw.send(Frames.Malformation.BAD_UDP_CHECKSUM.apply(spec.copy().ipId(2).payload(payload("BAD!", 0, 24))));
            raw.send(spec.copy().ipId(3).payload(payload("good", 1, 24)).build());
            final UdpConformanceSuite.Collector got = new UdpConformanceSuite.Collector();
            pollUntil(ep, got, 2);
            assertNothingMore(ep, got);
            assertArrayEquals(payload("good", 0, 24), got.get(0).payload());
            assertArrayEquals(payload("good", 1, 24), got.get(1).payload());
            if (counter != null) {
                ep.counters().refresh();
                assertEquals(before + 1, ep.counters().get(counter), "the corrupt datagram counted as " + counter);
                assertEquals(0, partialCount(ep), "a corrupt sum is not a partial one");
            }
        });
    }

    /** Under checksum=verify a partial sum is a wrong sum: dropped and counted where it arrives unfinished. */
    @Test
    void verifyPolicyDropsPartialChecksums() throws Exception {
        onDut(() -> {
            final UdpEndpoint ep = openDut(ChecksumPolicy.PARAM_NAME + "=" + ChecksumPolicy.VERIFY.uriValue());
            final int port = freshPort();
            ep.bind(port);
            final DatagramChannel peer = peerChannel(0);
            sendFromKernel(peer, "strict", site().dutAddress(), port);
            final UdpConformanceSuite.Collector got = new UdpConformanceSuite.Collector();
            if (partialChecksumsArrive()) {
                final long deadline = System.nanoTime() + ARRIVAL_TIMEOUT_MILLIS * 1_000_000L;
                while (System.nanoTime() - deadline < 0) {
                    ep.poll(got, 64);
                    ep.counters().refresh();
                    if (ep.counters().get(Counter.DROP_BAD_UDP_CHECKSUM) >= COUNT) {
                        break;
                    }
                }
                assertNothingMore(ep, got);
                assertEquals(0, got.size(), "checksum=verify must not deliver a partial sum");
                assertEquals(COUNT, ep.counters().get(Counter.DROP_BAD_UDP_CHECKSUM), "counters: " + ep.counters());
            } else {
                pollUntil(ep, got, COUNT);
            }
            assertEquals(0, partialCount(ep), "nothing accepted as partial under verify");
        });
    }

    @Test
    void unknownPolicyIsRefusedAtOpenNamingTheChoices() throws Exception {
        onDut(() -> {
            final BypassUriException e = assertThrows(BypassUriException.class,
                () -> openDut(ChecksumPolicy.PARAM_NAME + "=sometimes"));
            assertTrue(e.getMessage().contains("verify") && e.getMessage().contains("partial") && e.getMessage().contains("nic"),
                e.getMessage());
        });
    }
}
