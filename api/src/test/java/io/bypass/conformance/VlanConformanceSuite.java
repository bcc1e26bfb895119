package io.bypass.conformance;

import io.bypass.Bypass;
import io.bypass.BypassUriException;
import io.bypass.Counter;
import io.bypass.net.Ipv4;
import io.bypass.spi.PortVlan;
import io.bypass.testing.Capture;
import io.bypass.testing.Frames;
import io.bypass.testing.RawSocket;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.UdpDestination;
import io.bypass.udp.UdpEndpoint;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * VLANs on every backend (issue 16, item 5): the URI key {@code vlan}
 * ({@link PortVlan}) decides which frames are the port's. By default only untagged frames
 * are: an 802.1Q frame with a VLAN id is another VLAN's, never delivered, and counted as
 * {@link Counter#DROP_WRONG_VLAN} where the backend sees it. On {@code vlan=N} only frames
 * tagged with N are delivered and every datagram sent is tagged with N, as tshark on the
 * peer decodes it.
 *
 * <p>Frames come from a raw socket in the peer namespace, to a joined group. A backend runs
 * the suite with a subclass naming its URI, as for {@link UdpConformanceSuite}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
public abstract class VlanConformanceSuite extends SiteSuite {
    private static final int GROUP_BASE = Ipv4.parse("239.79.0.0");
    private static final long ARRIVAL_TIMEOUT_MILLIS = 5_000;
    private static final long ABSENCE_WINDOW_MILLIS = 300;
    private static final int VLAN = 7;

    /** For subclasses. */
    protected VlanConformanceSuite() {
        super(GROUP_BASE);
    }

    /**
     * @param iface the interface inside the DUT namespace
     * @return the URI that opens the backend under test on it, without {@code vlan}
     */
    protected abstract String uriFor(String iface);

    /**
     * Whether the backend sees, and so counts, a frame of another VLAN addressed to a joined
     * group. False where the kernel or the NIC's filter drops it before the backend does (nio:
     * the kernel; efvi: an ip4_local filter matches untagged frames); then the suite checks
     * only that it is not delivered and moves no other counter.
     *
     * @return true by default
     */
    protected boolean countsWrongVlan() {
        return true;
    }

    /**
     * Whether the backend takes {@code vlan=N}; one that cannot must refuse it at open with a
     * {@link BypassUriException} naming the key, never ignore it.
     *
     * @return true by default
     */
    protected boolean takesVlans() {
        return true;
    }

    private static String withVlan(final String uri, final int vlan) {
        return uri + (uri.contains("?") ? "&" : "?") + PortVlan.PARAM_NAME + "=" + vlan;
    }

    private UdpEndpoint open(final String uri) throws Exception {
        final UdpEndpoint ep = site().dut().call(() -> Bypass.openUdp(uri));
        closeAfterTest(ep);
        return ep;
    }

    private static byte[] payload(final String tag, final int seq) {
        final byte[] p = new byte[24];
        final byte[] t = (tag + "#" + seq).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(t, 0, p, 0, t.length);
        return p;
    }

    /**
     * Sends the frames from the peer's raw socket, then polls until {@code expected} datagrams
     * arrived and a while longer; checks exactly those arrived, in order, that
     * {@code DROP_WRONG_VLAN} rose by {@code wrongVlan} where the backend counts it, and that
     * no other drop counter moved.
     */
    private void sendAndExpect(final UdpEndpoint ep, final List<byte[]> frames, final List<byte[]> expected,
                               final int wrongVlan, final String what) throws Exception {
        final RawSocket raw = peerRaw();
        site().dut().run(() -> {
            ep.counters().refresh();
            final long wrongBefore = ep.counters().get(Counter.DROP_WRONG_VLAN);
            final long dropsBefore = ep.counters().totalDrops();
            final String countersBefore = ep.counters().toString();
            for (final byte[] f : frames) {
                raw.send(f);
            }
            final List<byte[]> got = new ArrayList<>();
            final DatagramHandler collect = (buffer, offset, length, meta) -> {
                final byte[] p = new byte[length];
                buffer.getBytes(offset, p);
                got.add(p);
            };
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ARRIVAL_TIMEOUT_MILLIS);
            while (got.size() < expected.size() && System.nanoTime() - deadline < 0) {
                ep.poll(collect, 64);
            }
            final long absence = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ABSENCE_WINDOW_MILLIS);
            while (System.nanoTime() - absence < 0) {
                ep.poll(collect, 64);
            }
            assertEquals(expected.size(), got.size(), what + ": only the datagrams of the port's VLAN may be delivered: "
                + got.stream().map(p -> new String(p, StandardCharsets.US_ASCII).trim()).toList() + "; counters: " + ep.counters());
            for (int i = 0; i < expected.size(); i++) {
                assertArrayEquals(expected.get(i), got.get(i), what + ": datagram " + i);
            }
            ep.counters().refresh();
            final long wrong = ep.counters().get(Counter.DROP_WRONG_VLAN) - wrongBefore;
            if (countsWrongVlan()) {
                assertEquals(wrongVlan, wrong, what + ": frames of other VLANs counted as DROP_WRONG_VLAN; counters: "
                    + ep.counters());
            }
            assertEquals(dropsBefore + wrong, ep.counters().totalDrops(), what + ": no other drop counter may move; before:\n"
                + countersBefore + "after:\n" + ep.counters());
        });
    }

    private Frames.Udp toGroup(final int group, final int port) {
        return Frames.udp().macs(site().peerMac(), Ipv4.multicastMac(group)).addresses(site().peerAddress(), group)
            .ports(freshPort(), port);
    }

    /** The fault of issue 16: afxdp delivered a frame of VLAN 7 on an untagged port as if untagged. */
    @Test
    void onTheDefaultUriATaggedFrameIsNotDeliveredAndIsCounted() throws Exception {
        final UdpEndpoint ep = open(uriFor(site().dutIface()));
        final int group = freshGroup();
        final int port = freshPort();
        site().dut().run(() -> ep.join(group, port));
        final Frames.Udp spec = toGroup(group, port);
        final byte[] good0 = payload("untagged", 0);
        final byte[] good1 = payload("untagged", 1);
        sendAndExpect(ep, List.of(
                spec.copy().ipId(1).payload(good0).build(),
                Frames.tagged(spec.copy().ipId(2).payload(payload("VLAN7", 0)).build(), VLAN),
                spec.copy().ipId(3).payload(good1).build()),
            List.of(good0, good1), 1, "default URI");
    }

    /** On {@code vlan=7}: VLAN 7 is delivered; untagged frames and VLAN 8 are not, and are counted. */
    @Test
    void onVlanSevenOnlyVlanSevenIsDelivered() throws Exception {
        final String uri = withVlan(uriFor(site().dutIface()), VLAN);
        if (!takesVlans()) {
            assertRefused(uri);
            return;
        }
        final UdpEndpoint ep = open(uri);
        final int group = freshGroup();
        final int port = freshPort();
        site().dut().run(() -> ep.join(group, port));
        final Frames.Udp spec = toGroup(group, port);
        final byte[] good0 = payload("VLAN7", 0);
        final byte[] good1 = payload("VLAN7", 1);
        sendAndExpect(ep, List.of(
                Frames.tagged(spec.copy().ipId(1).payload(good0).build(), VLAN),
                spec.copy().ipId(2).payload(payload("untagged", 0)).build(),
                Frames.tagged(spec.copy().ipId(3).payload(payload("VLAN8", 0)).build(), VLAN + 1),
                Frames.tagged(spec.copy().ipId(4).payload(good1).build(), VLAN)),
            List.of(good0, good1), 2, "vlan=7");
    }

    /**
     * On {@code vlan=7} a datagram sent to a group carries the 802.1Q tag with VLAN id 7 and
     * priority 0, before a sound IPv4/UDP datagram: tshark on the peer's interface decodes it
     * (the kernel here has no 8021q module, so no VLAN interface can judge it).
     */
    @Test
    void onVlanSevenSendsAreTaggedWithItsId() throws Exception {
        final String uri = withVlan(uriFor(site().dutIface()), VLAN);
        if (!takesVlans()) {
            assertRefused(uri);
            return;
        }
        Capture.require();
        final int group = freshGroup();
        final int port = freshPort();
        final UdpEndpoint ep = open(uri);
        final byte[] p = "sent on VLAN 7".getBytes(StandardCharsets.US_ASCII);
        // The kernel moves a received tag into the packet's metadata, where the port filter does not see
        // it; libpcap puts it back for tshark. Either way the frame matches one side of the filter.
        // udp.payload, not data.data: tshark hands a datagram to a protocol's dissector by port (16 of the
        // ports 10000-29999 here, such as 11211 memcache), and then data.data is empty.
        try (Capture cap = Capture.start(site().peerNamespace().name(), site().peerIface(),
            "udp dst port " + port + " or (vlan and udp dst port " + port + ")", 1,
            "vlan.id", "vlan.priority", "vlan.etype", "ip.src", "ip.dst", "ip.checksum.status", "udp.checksum.status",
            "udp.payload")) {
            site().dut().run(() -> {
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                int rc;
                while ((rc = ep.send(UdpDestination.of(group, port), new UnsafeBuffer(p), 0, p.length)) != UdpEndpoint.OK) {
                    assertEquals(UdpEndpoint.BACK_PRESSURED, rc);
                    assertTrue(System.nanoTime() - deadline < 0, "still back-pressured");
                    ep.flush();
                }
                ep.flush();
            });
            final List<String> lines = cap.await();
            assertEquals(1, lines.size(), "captured " + lines);
            // tshark checksum status 1 = Good (0 Bad, 2 Unverified).
            assertEquals(VLAN + ",0,0x0800," + Ipv4.toString(site().dutAddress()) + "," + Ipv4.toString(group) + ",1,1,"
                + HexFormat.of().formatHex(p), lines.get(0), "vlan.id, priority, inner EtherType, addresses, checksums, payload");
        }
    }

    private void assertRefused(final String uri) throws Exception {
        final BypassUriException e = assertThrows(BypassUriException.class, () -> open(uri),
            backendName() + " does not take vlan=N: it must refuse it at open, not ignore it");
        assertTrue(e.getMessage().contains("vlan"), e.getMessage());
    }
}
