package io.bypass.afxdp;

import io.bypass.Bypass;
import io.bypass.Counter;
import io.bypass.FlowRule;
import io.bypass.Port;
import io.bypass.net.Ipv4;
import io.bypass.testing.Frames;
import io.bypass.testing.RawSocket;
import io.bypass.testing.Requirements;
import io.bypass.testkit.Netns;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TCP steering beside the kernel (issue 14, "Living beside the kernel"): the segments of a
 * steered listener or connection reach the port's RX queue and never the kernel, which would
 * answer them with a RST; every other TCP flow on the interface stays the kernel's; malformed
 * segments of ours are counted by reason. The kernel in namespace B is the peer.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AfXdpTcpSteeringTest extends AfXdpVethTest {
    private Port open(final String params) throws Exception {
        return t.executorA().call(() -> Bypass.open("afxdp:" + t.ifaceA() + "?" + params));
    }

    /** Polls for {@code millis}, keeping the TCP segments received. */
    private static List<TcpFrames.Segment> segments(final Port port, final long millis) {
        final List<TcpFrames.Segment> got = new ArrayList<>();
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < deadline) {
            port.rxQueue(0).poll((b, o, l, m) -> {
                final TcpFrames.Segment s = TcpFrames.read(b, o, l);
                if (s != null) {
                    got.add(s);
                }
            }, 64);
        }
        return got;
    }

    private SocketChannel connectFromB(final int port) throws Exception {
        return t.executorB().call(() -> {
            final SocketChannel c = SocketChannel.open(java.net.StandardProtocolFamily.INET);
            c.bind(new InetSocketAddress(t.addressBText(), 0));
            c.configureBlocking(false);
            c.connect(new InetSocketAddress(t.addressAText(), port));
            return c;
        });
    }

    /**
     * A kernel client's SYNs to a steered listener port come to the port's queue, and the kernel of
     * A never sees them: no RST, so the client stays in SYN-SENT (ss says so) instead of failing with
     * "Connection refused". Once the rule is removed the kernel answers the next SYN with a RST, which
     * shows the test would see one.
     */
    @ParameterizedTest
    @ValueSource(strings = {"xdp=drv&mode=copy", "xdp=skb"})
    void synToASteeredListenerReachesTheQueueAndIsNeverReset(final String params) throws Exception {
        Requirements.requireCommand("ss");
        try (Port port = open(params)) {
            final FlowRule listener = port.addFlow(0, FlowRule.tcpListener(0, 7700));
            assertEquals(FlowRule.tcpListener(t.addressA(), 7700), listener, "address 0 is the port's own");
            try (SocketChannel client = connectFromB(7700)) {
                final int clientPort = ((InetSocketAddress) client.getLocalAddress()).getPort();
                final List<TcpFrames.Segment> got = segments(port, 1500);
                assertFalse(got.isEmpty(), "the SYN reached the port's RX queue");
                for (final TcpFrames.Segment s : got) {
                    assertEquals(new TcpFrames.Segment(t.addressB(), t.addressA(), clientPort, 7700, TcpFrames.SYN), s);
                }
                assertFalse(client.finishConnect(), "no RST, no SYN-ACK: the connect is still pending");
                final String ss = t.b().exec("ss", "-tan");
                assertTrue(ss.lines().anyMatch(l -> l.startsWith("SYN-SENT") && l.contains(t.addressBText() + ":" + clientPort)
                    && l.contains(t.addressAText() + ":7700")), "the peer's socket is in SYN-SENT: " + ss);
                assertEquals(got.size(), port.counters().get(Counter.RX_PACKETS), port.counters().toString());
            }
            port.removeFlow(0, listener);
            try (SocketChannel refused = connectFromB(7700)) {
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                final ConnectException e = assertThrows(ConnectException.class, () -> {
                    while (!refused.finishConnect() && System.nanoTime() < deadline) {
                        Thread.sleep(5);
                    }
                }, "unsteered, the kernel of A resets the SYN");
                assertTrue(e.getMessage().contains("refused"), e.getMessage());
            }
            assertTrue(segments(port, 200).isEmpty(), "nothing steered after removeFlow");
        }
    }

    /**
     * While a listener and a connection are steered, kernel TCP on the same interface keeps
     * working end to end: a kernel server in A on another port serves a client in B, and a kernel
     * client in A reaches a server in B on the very port the steered connection's peer uses.
     */
    @Test
    void kernelTcpOnOtherPortsKeepsWorkingWhileTcpIsSteered() throws Exception {
        try (Port port = open("xdp=drv&mode=copy");
             ServerSocket serverA = t.executorA().call(() -> new ServerSocket(7711, 4, java.net.InetAddress.getByName(t.addressAText())));
             ServerSocket serverB = t.executorB().call(() -> new ServerSocket(9000, 4, java.net.InetAddress.getByName(t.addressBText())))) {
            port.addFlow(0, FlowRule.tcpListener(0, 7710));
            final FlowRule conn = port.addFlow(0, FlowRule.tcp(0, 0, t.addressB(), 9000));
            assertNotEquals(0, conn.localPort());
            echoes(serverA, t.executorB().call(() -> new Socket(t.addressAText(), 7711)), "B to a kernel server in A");
            echoes(serverB, t.executorA().call(() -> new Socket(t.addressBText(), 9000)), "a kernel client in A to B:9000");
            assertTrue(segments(port, 200).isEmpty(), "the kernel's segments were not steered");
            assertTrue(port.counters().get(Counter.RX_PACKETS) == 0, port.counters().toString());
        }
    }

    /** 64 KiB through a kernel connection and back, byte-exact. */
    private static void echoes(final ServerSocket server, final Socket client, final String what) throws Exception {
        final byte[] sent = new byte[65536];
        new java.util.Random(7).nextBytes(sent);
        final Future<?> echo = java.util.concurrent.CompletableFuture.runAsync(() -> {
            try (Socket s = server.accept()) {
                final InputStream in = s.getInputStream();
                final OutputStream out = s.getOutputStream();
                out.write(in.readNBytes(sent.length));
            } catch (final java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (client) {
            client.setSoTimeout(10_000);
            client.getOutputStream().write(sent);
            assertArrayEquals(sent, client.getInputStream().readNBytes(sent.length), what);
        }
        echo.get(10, TimeUnit.SECONDS);
    }

    /**
     * A connection rule takes its own 4-tuple only, and outranks nothing else: another remote port to
     * the same local port is not steered. Malformed segments of ours are counted by reason and
     * dropped; the same breakage on a port we do not steer is the kernel's, not counted.
     */
    @Test
    void connectionsByFourTupleAndMalformedSegmentsCountedByReason() throws Exception {
        try (Port port = open("xdp=drv&mode=copy"); RawSocket raw = t.executorB().call(() -> RawSocket.open(t.ifaceB()))) {
            final FlowRule conn = port.addFlow(0, FlowRule.tcp(0, 0, t.addressB(), 5555));
            final int local = conn.localPort();
            raw.send(seg(5555, local, TcpFrames.ACK, 5, 20));          // ours
            raw.send(seg(5556, local, TcpFrames.ACK, 5, 20));          // another remote port: the kernel's
            final List<TcpFrames.Segment> got = segments(port, 500);
            assertEquals(List.of(new TcpFrames.Segment(t.addressB(), t.addressA(), 5555, local, TcpFrames.ACK)), got);

            raw.send(seg(5555, local, TcpFrames.ACK, 5, 10));          // 10 bytes of TCP header
            raw.send(seg(5555, local, TcpFrames.ACK, 4, 20));          // data offset 4
            raw.send(seg(5555, local, TcpFrames.ACK, 15, 40));         // data offset 60 bytes, segment 40
            final byte[] longer = seg(5555, local, TcpFrames.ACK, 5, 20);
            Frames.putShort(longer, TcpFrames.IP + 2, 1000);            // total length beyond the frame
            Frames.fixIpChecksum(longer);
            raw.send(longer);
            raw.send(fragment(seg(5555, local, TcpFrames.ACK, 5, 20), 77, 0x2000)); // first fragment (MF) of ours
            raw.send(fragment(seg(5555, local, TcpFrames.ACK, 5, 20), 77, 3));      // a later one of the same datagram
            raw.send(fragment(seg(5555, local, TcpFrames.ACK, 5, 20), 78, 3));      // a later one of another: the kernel's
            raw.send(seg(5556, local, TcpFrames.ACK, 4, 20));          // broken, but not ours
            raw.send(seg(5555, 22, TcpFrames.ACK, 4, 20));             // broken, to a port we do not steer
            assertTrue(segments(port, 300).isEmpty(), "malformed segments are not delivered");
            port.counters().refresh();
            assertEquals(1, port.counters().get(Counter.DROP_TRUNCATED), port.counters().toString());
            assertEquals(2, port.counters().get(Counter.DROP_BAD_TCP_HEADER), port.counters().toString());
            assertEquals(1, port.counters().get(Counter.DROP_BAD_IP_LENGTH), port.counters().toString());
            assertEquals(2, port.counters().get(Counter.DROP_IP_FRAGMENT), "the first by its ports, the later by the first: "
                + port.counters());
            assertEquals(0, port.counters().get(Counter.DROP_NO_QUEUE_SOCKET), port.counters().toString());
            assertEquals(6, port.counters().totalDrops(), "nothing else counted: " + port.counters());
        }
    }

    /** The frame as an IPv4 fragment: id, and the flags and offset field (MF 0x2000, offset in 8-byte units). */
    private static byte[] fragment(final byte[] f, final int id, final int flagsAndOffset) {
        Frames.putShort(f, TcpFrames.IP + 4, id);
        Frames.putShort(f, TcpFrames.IP + 6, flagsAndOffset);
        Frames.fixIpChecksum(f);
        return f;
    }

    private byte[] seg(final int sport, final int dport, final int flags, final int doff, final int tcpLength) {
        return TcpFrames.frame(t.macB(), t.macA(), t.addressB(), t.addressA(), sport, dport, flags, doff, tcpLength);
    }

    /** A listener takes every segment to its port, not only SYNs: an accepted connection's until its own rule exists. */
    @Test
    void aListenerTakesEverySegmentToItsPortUntilTheConnectionHasItsRule() throws Exception {
        try (Port port = open("xdp=skb"); RawSocket raw = t.executorB().call(() -> RawSocket.open(t.ifaceB()))) {
            final FlowRule listener = port.addFlow(0, FlowRule.tcpListener(0, 7720));
            raw.send(seg(40000, 7720, TcpFrames.SYN, 5, 20));
            raw.send(seg(40000, 7720, TcpFrames.ACK, 5, 20));
            raw.send(seg(40001, 7720, TcpFrames.ACK, 5, 20));
            assertEquals(3, segments(port, 500).size());
            final FlowRule accepted = port.addFlow(0, FlowRule.tcp(0, 7720, t.addressB(), 40000));
            port.removeFlow(0, listener);
            raw.send(seg(40000, 7720, TcpFrames.ACK, 5, 20));           // the accepted connection's: still ours
            raw.send(seg(40001, 7720, TcpFrames.SYN, 5, 20));           // a new SYN, no listener: the kernel's
            assertEquals(List.of(new TcpFrames.Segment(t.addressB(), t.addressA(), 40000, 7720, TcpFrames.ACK)),
                segments(port, 500));
            port.removeFlow(0, accepted);
        }
    }

    /**
     * The program's one-connection fast path ({@code BYPASS_TCP_ONE}: the port entry holds the tuple, no hash
     * lookup) and its hand-over to the hash and back: one connection on a local port, a second on the same port,
     * the first removed, the second removed. At each step exactly the steered 4-tuples are ours.
     */
    @Test
    void oneConnectionOnAPortIsToldWithoutTheHashAndHandsOverWhenASecondComes() throws Exception {
        try (Port port = open("xdp=drv&mode=copy"); RawSocket raw = t.executorB().call(() -> RawSocket.open(t.ifaceB()))) {
            final FlowRule a = port.addFlow(0, FlowRule.tcp(0, 7730, t.addressB(), 40000));
            assertEquals(List.of(40000), ours(port, raw, 7730), "one connection: its tuple only");
            final FlowRule b = port.addFlow(0, FlowRule.tcp(0, 7730, t.addressB(), 40001));
            assertEquals(List.of(40000, 40001), ours(port, raw, 7730), "two: both, by the hash");
            port.removeFlow(0, a);
            assertEquals(List.of(40001), ours(port, raw, 7730), "the second alone: its tuple in the entry");
            final FlowRule c = port.addFlow(0, FlowRule.tcp(0, 7730, t.addressB(), 40002));
            port.removeFlow(0, b);
            assertEquals(List.of(40002), ours(port, raw, 7730), "a third, the second gone");
            port.removeFlow(0, c);
            assertEquals(List.of(), ours(port, raw, 7730), "none");
        }
    }

    /** Sends an ACK from remote ports 40000..40003 to {@code local}; returns the remote ports whose segments we got. */
    private List<Integer> ours(final Port port, final RawSocket raw, final int local) throws Exception {
        for (int remote = 40000; remote < 40004; remote++) {
            raw.send(seg(remote, local, TcpFrames.ACK, 5, 20));
        }
        return segments(port, 400).stream().map(TcpFrames.Segment::sport).sorted().toList();
    }

    /**
     * On a two-queue veth a port bound to NIC queue 0 only has no socket on queue 1: segments of ours
     * that the flow hash puts there are dropped and counted as DROP_NO_QUEUE_SOCKET, not passed to the
     * kernel (which would reset the connection); each segment is delivered or counted, never both.
     */
    @Test
    void aSegmentOfOursOnAQueueWithoutASocketIsCountedNotPassed() throws Exception {
        final String suffix = Netns.randomSuffix();
        try (Netns a = Netns.create("bypt"); Netns b = Netns.create("bypu")) {
            final String ia = "bta" + suffix;
            final String ib = "btb" + suffix;
            a.ip("link", "add", ia, "numtxqueues", "2", "numrxqueues", "2", "type", "veth", "peer", "name", ib,
                "numtxqueues", "2", "numrxqueues", "2", "netns", b.name());
            a.ip("addr", "add", "10.251.9.1/24", "dev", ia);
            b.ip("addr", "add", "10.251.9.2/24", "dev", ib);
            a.ip("link", "set", ia, "up");
            b.ip("link", "set", ib, "up");
            a.awaitUp(ia, 5000);
            b.awaitUp(ib, 5000);
            final long macA = a.macAddress(ia);
            final long macB = b.macAddress(ib);
            final int addrA = Ipv4.parse("10.251.9.1");
            final int addrB = Ipv4.parse("10.251.9.2");
            try (Port port = a.executor().call(() -> Bypass.open("afxdp:" + ia + "?nicQueue=0&mode=copy&xdp=drv"));
                 RawSocket raw = b.executor().call(() -> RawSocket.open(ib))) {
                port.addFlow(0, FlowRule.tcpListener(0, 7770));
                final int sent = 200;
                for (int i = 0; i < sent; i++) {
                    raw.send(TcpFrames.frame(macB, macA, addrB, addrA, 20000 + i, 7770, TcpFrames.SYN, 5, 20));
                }
                final int delivered = segments(port, 1000).size();
                port.counters().refresh();
                final long noSocket = port.counters().get(Counter.DROP_NO_QUEUE_SOCKET);
                assertTrue(delivered > 0 && noSocket > 0, "both queues took some: " + delivered + " delivered, " + port.counters());
                assertEquals(sent, delivered + noSocket, "each delivered or counted: " + port.counters());
                final String nstat = a.exec("nstat", "-az", "TcpOutRsts");
                assertTrue(nstat.lines().anyMatch(l -> l.startsWith("TcpOutRsts") && l.split("\\s+")[1].equals("0")),
                    "the kernel of A sent no RST: " + nstat);
            }
        }
    }
}
