package io.bypass.samples.e2e;

import io.bypass.net.Ipv4;
import io.bypass.samples.codec.MarketMessage;
import io.bypass.samples.codec.MoldUdp64Encoder;
import io.bypass.samples.pcap.PcapWriter;
import io.bypass.testing.Requirements;
import io.bypass.testkit.Cmd;
import io.bypass.testkit.Netns;
import io.bypass.testkit.VethPair;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every network subcommand end to end, in-process, across a veth pair between two
 * network namespaces, once per backend: the sender runs on a thread in namespace A, the
 * receiver on a thread in namespace B, each opening {@code BACKEND:IFACE}. A backend that
 * cannot run here skips with its cause, or fails under {@code -Dbypass.requireAll=true}.
 */
public class EndToEndTest {
    private static final String A = "239.1.1.1:30001";
    private static final String B = "239.1.1.2:30002";
    private VethPair topo;

    private VethPair topology(final String backend) {
        Requirements.requireNetns();
        Requirements.requireBackendAvailable(backend);
        topo = VethPair.create();
        return topo;
    }

    /** A veth pair left as 'ip link add' makes it: TX checksum offload on, kernel UDP sums partial. */
    private VethPair untouchedTopology(final String backend) {
        Requirements.requireNetns();
        Requirements.requireBackendAvailable(backend);
        topo = VethPair.createAsIpMakesIt();
        return topo;
    }

    @AfterEach
    void tearDown() {
        if (topo != null) {
            topo.close();
        }
    }

    private static final java.util.concurrent.atomic.AtomicInteger VDEV = new java.util.concurrent.atomic.AtomicInteger();

    private String uri(final String backend, final String iface) {
        if ("dpdk".equals(backend)) {
            // DPDK owns the port: a net_af_packet vdev on the veth end, with the end's address;
            // vdev names are unique for the life of the JVM's EAL.
            final String ip = iface.equals(topo.ifaceA()) ? topo.addressAText() : topo.addressBText();
            return "dpdk:net_af_packet" + VDEV.getAndIncrement() + ",iface=" + iface + "?ip=" + ip + "/24";
        }
        return backend + ":" + iface;
    }

    /**
     * A receiver's URI: on NIO with a 4 MB socket buffer (on DPDK's net_af_packet a deeper ring), as a feed handler on kernel
     * sockets would be deployed, so a receiver descheduled for a few milliseconds on a
     * busy 2-CPU CI host does not lose datagrams in the kernel.
     */
    private String rxUri(final String backend, final String iface) {
        if ("dpdk".equals(backend)) {
            // The same for net_af_packet: a 4096-frame kernel ring instead of 512.
            final String u = uri(backend, iface);
            final int q = u.indexOf('?');
            return u.substring(0, q) + ",framecnt=4096" + u.substring(q);
        }
        return "nio".equals(backend) ? backend + ":" + iface + "?rcvbuf=4194304" : uri(backend, iface);
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "afxdp", "dpdk", "efvi"})
    void publishToFeedWithZeroLoss(final String backend) throws Exception {
        final VethPair t = topology(backend);
        final Run feed = Run.startReady(t.executorB(), "feed", "--uri", rxUri(backend, t.ifaceB()), "--a", A, "--b", B,
            "--expect", "20000", "--duration", "60s", "--json", "--idle", "backoff");
        final Run pub = Run.start(t.executorA(), "publish", "--uri", uri(backend, t.ifaceA()), "--a", A, "--b", B,
            "--rate", "5000", "--count", "10000", "--messages-per-packet", "2", "--json", "--idle", "backoff");
        assertEquals(0, pub.await(60), pub.err());
        assertEquals(0, feed.await(60), feed.err());
        assertEquals(10000, pub.num("packets"), pub.describe());
        assertEquals(20000, feed.num("messages"), feed.describe());
        assertEquals(0, feed.num("lost"), feed.describe());
        assertEquals(0, feed.num("gaps"), feed.describe());
        assertEquals(0, feed.num("malformed"), feed.describe());
        assertTrue(feed.num("duplicates") > 0, "the B copies were seen and dropped: " + feed.describe());
        assertTrue(feed.num("latency_samples") > 0, feed.describe());
        assertTrue(feed.dbl("rate_pps") > 0, feed.describe());
        assertPollGaps(feed);
    }

    /** The polling loop's stalls are in the summary and consistent with each other. */
    static void assertPollGaps(final Run r) {
        assertTrue(r.num("poll_gaps") > 0, r.describe());
        assertTrue(r.dbl("poll_gap_p50_us") <= r.dbl("poll_gap_p99_us") && r.dbl("poll_gap_p99_us") <= r.dbl("poll_gap_max_us"), r.describe());
        assertTrue(r.num("poll_gaps_over_1ms") >= 0 && r.num("poll_gaps_over_1ms") <= r.num("poll_gaps"), r.describe());
        assertTrue(r.dbl("poll_gap_max_us") < 60e6, r.describe());
        assertTrue(r.summary().get("poll_gap_longest_us") instanceof List<?> l && !l.isEmpty(), r.describe());
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "afxdp", "dpdk", "efvi"})
    void duplicatesSuppressedALineDropsFilledAndInjectedGapsReported(final String backend) throws Exception {
        final VethPair t = topology(backend);
        final Run feed = Run.startReady(t.executorB(), "feed", "--uri", rxUri(backend, t.ifaceB()), "--a", A, "--b", B,
            "--duration", "60s", "--json", "--idle", "backoff");
        final Run pub = Run.start(t.executorA(), "publish", "--uri", uri(backend, t.ifaceA()), "--a", A, "--b", B,
            "--rate", "5000", "--count", "1000", "--gap-every", "100", "--drop-a-every", "7", "--json", "--idle", "backoff");
        assertEquals(0, pub.await(60), pub.err());
        assertEquals(0, feed.await(60), feed.err());
        // 1000 packets, every 100th skipped on both lines: 10 real gaps of one message each.
        assertEquals(10, pub.num("skipped_packets"));
        assertEquals(990, feed.num("messages"), feed.describe());
        assertEquals(10, feed.num("gaps"), feed.describe());
        assertEquals(10, feed.num("lost"), feed.describe());
        // Every packet dropped on A came from B instead (B may also win races A lost).
        assertTrue(feed.num("wins_b") >= pub.num("dropped_on_a"), feed.describe());
        assertTrue(feed.num("duplicates") >= 990 - feed.num("wins_b"), feed.describe());
        @SuppressWarnings("unchecked")
        final List<Map<String, Object>> gaps = (List<Map<String, Object>>) feed.summary().get("gap_list");
        assertEquals(100L, gaps.get(0).get("from"));
        assertEquals(100L, gaps.get(0).get("to"));
        assertEquals(1000L, gaps.get(9).get("from"));
        assertTrue(feed.err().contains("gap: sequence 100..100"), feed.err());
    }

    /** The B line through its own endpoint ({@code --uri-b}), as with A and B on two NICs. */
    @ParameterizedTest
    @ValueSource(strings = {"nio"})
    void bLineThroughASecondEndpoint(final String backend) throws Exception {
        final VethPair t = topology(backend);
        final Run feed = Run.startReady(t.executorB(), "feed", "--uri", rxUri(backend, t.ifaceB()), "--uri-b", rxUri(backend, t.ifaceB()),
            "--a", A, "--b", B, "--duration", "60s", "--json", "--idle", "backoff");
        final Run pub = Run.start(t.executorA(), "publish", "--uri", uri(backend, t.ifaceA()), "--a", A, "--b", B,
            "--rate", "5000", "--count", "1000", "--drop-a-every", "10", "--json", "--idle", "backoff");
        assertEquals(0, pub.await(60), pub.err());
        assertEquals(0, feed.await(60), feed.err());
        assertEquals(1000, feed.num("messages"), feed.describe());
        assertEquals(0, feed.num("lost"), feed.describe());
        assertTrue(feed.num("packets_b") >= 1000, "every B copy (and end of session) came through the second endpoint: " + feed.describe());
        assertTrue(feed.num("wins_b") >= 100, feed.describe());
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "afxdp", "dpdk", "efvi"})
    void malformedPacketsAreCountedAndTheFeedGoesOn(final String backend) throws Exception {
        final VethPair t = topology(backend);
        final Run feed = Run.startReady(t.executorB(), "feed", "--uri", rxUri(backend, t.ifaceB()), "--a", A, "--b", B,
            "--duration", "60s", "--json", "--idle", "backoff");
        final Run pub = Run.start(t.executorA(), "publish", "--uri", uri(backend, t.ifaceA()), "--a", A, "--b", B,
            "--rate", "5000", "--count", "1000", "--malformed-every", "50", "--json", "--idle", "backoff");
        assertEquals(0, pub.await(60), pub.err());
        assertEquals(0, feed.await(60), feed.err());
        assertEquals(20, pub.num("malformed_sent"));
        assertEquals(20, feed.num("malformed"), feed.describe());
        assertEquals(1000, feed.num("messages"), feed.describe());
        assertEquals(0, feed.num("lost"), feed.describe());
        @SuppressWarnings("unchecked")
        final Map<String, Object> reasons = (Map<String, Object>) feed.summary().get("malformed_reasons");
        assertEquals(20L, reasons.get("overrun"));
    }

    /** Writes a capture of {@code packets} MoldUDP64 packets to the A group, 1 ms apart. */
    public static void writeFeedCapture(final Path file, final PcapWriter.Format format, final int packets) throws Exception {
        final UnsafeBuffer buf = new UnsafeBuffer(new byte[2048]);
        final MoldUdp64Encoder enc = new MoldUdp64Encoder();
        final byte[] stock = "TEST    ".getBytes();
        final long t0 = 1_700_000_000_000_000_000L;
        try (PcapWriter w = PcapWriter.open(file, format)) {
            for (int i = 0; i < packets; i++) {
                enc.wrap(buf, 0, MoldUdp64Encoder.session("REPLAY0001")).sequence(i + 1);
                MarketMessage.encode(buf, enc.addMessage(MarketMessage.LENGTH), 0, 0, i + 1, (byte) 'B', 100, stock, 10_000);
                w.writeUdp(t0 + i * 1_000_000L, Ipv4.parse("192.0.2.1"), 40000, Ipv4.parse("239.1.1.1"), 30001,
                    buf.byteArray(), 0, enc.length());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "afxdp", "dpdk", "efvi"})
    void replayAt10xWithZeroLossCountedByTheFeed(final String backend, @TempDir final Path dir) throws Exception {
        final VethPair t = topology(backend);
        final Path capture = dir.resolve("feed.pcap");
        writeFeedCapture(capture, PcapWriter.Format.PCAP_NANOS, 2000);
        final Run feed = Run.startReady(t.executorB(), "feed", "--uri", rxUri(backend, t.ifaceB()), "--a", A, "--b", "none",
            "--expect", "2000", "--duration", "60s", "--json", "--idle", "backoff");
        final Run replay = Run.start(t.executorA(), "replay", "--uri", uri(backend, t.ifaceA()), "--file", capture.toString(),
            "--speed", "10", "--json", "--idle", "backoff");
        assertEquals(0, replay.await(60), replay.err());
        assertEquals(0, feed.await(60), feed.err());
        assertEquals(2000, replay.num("packets"), replay.describe());
        assertEquals(2000, feed.num("messages"), feed.describe());
        assertEquals(0, feed.num("lost"), feed.describe());
        assertEquals(0, feed.num("gaps"), feed.describe());
        // 2 s of capture at 10x is 0.2 s; allow for a slow CI host but not for ignoring the schedule.
        final double elapsed = replay.dbl("elapsed_s");
        assertTrue(elapsed >= 0.19 && elapsed < 2.0, "elapsed " + elapsed + ": " + replay.describe());
        assertTrue(replay.summary().containsKey("late_p99_us"), replay.describe());
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "afxdp", "dpdk", "efvi"})
    void replayPcapngAt20x(final String backend, @TempDir final Path dir) throws Exception {
        final VethPair t = topology(backend);
        final Path capture = dir.resolve("feed.pcapng");
        writeFeedCapture(capture, PcapWriter.Format.PCAPNG, 500);
        final Run feed = Run.startReady(t.executorB(), "feed", "--uri", rxUri(backend, t.ifaceB()), "--a", A, "--b", "none",
            "--expect", "500", "--duration", "60s", "--json", "--idle", "backoff");
        final Run replay = Run.start(t.executorA(), "replay", "--uri", uri(backend, t.ifaceA()), "--file", capture.toString(),
            "--speed", "20", "--json", "--idle", "backoff");
        assertEquals(0, replay.await(60), replay.err());
        assertEquals(0, feed.await(60), feed.err());
        assertEquals(500, feed.num("messages"), feed.describe());
        assertEquals(0, feed.num("lost"), feed.describe());
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "afxdp", "dpdk", "efvi"})
    void captureRecordsWhatReplayAndFeedThenAgreeOn(final String backend, @TempDir final Path dir) throws Exception {
        final VethPair t = topology(backend);
        final Path file = dir.resolve("captured.pcapng");
        final Run capture = Run.startReady(t.executorB(), "capture", "--uri", rxUri(backend, t.ifaceB()), "--a", A,
            "--count", "500", "--out", file.toString(), "--format", "pcapng", "--duration", "60s", "--json", "--idle", "backoff");
        final Run pub = Run.start(t.executorA(), "publish", "--uri", uri(backend, t.ifaceA()), "--a", A, "--b", "none",
            "--rate", "2000", "--count", "500", "--json", "--idle", "backoff");
        assertEquals(0, pub.await(60), pub.err());
        assertEquals(0, capture.await(60), capture.err());
        assertEquals(500, capture.num("packets"), capture.describe());
        final io.bypass.samples.pcap.Capture c = io.bypass.samples.pcap.PcapReader.read(file);
        assertEquals(500, c.size());
        final io.bypass.samples.codec.MoldUdp64 mold = new io.bypass.samples.codec.MoldUdp64();
        final UnsafeBuffer b = new UnsafeBuffer(c.data());
        for (int i = 0; i < c.size(); i++) {
            assertEquals(io.bypass.samples.codec.MoldUdp64.VALID, mold.wrap(b, c.payloadOffset(i), c.payloadLength(i)));
            assertEquals(i + 1, mold.sequence());
            assertEquals(30001, c.dstPort(i));
            assertEquals(Ipv4.parse("239.1.1.1"), c.dstAddress(i));
            assertTrue(i == 0 || c.timestampNanos(i) >= c.timestampNanos(i - 1));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "afxdp", "dpdk", "efvi"})
    void pingPongClientServer(final String backend) throws Exception {
        final VethPair t = topology(backend);
        final Run server = Run.startReady(t.executorB(), "pingpong", "server", "--uri", rxUri(backend, t.ifaceB()),
            "--port", "11111", "--json", "--duration", "60s", "--idle", "yield");
        final Run client = Run.start(t.executorA(), "pingpong", "client", "--uri", uri(backend, t.ifaceA()),
            "--server", t.addressBText() + ":11111", "--count", "2000", "--warmup", "500", "--json", "--idle", "yield", "--timeout", "1s");
        assertEquals(0, client.await(60), client.err());
        server.stop();
        assertEquals(0, server.await(30), server.err());
        assertEquals(2000, client.num("round_trips"), client.describe());
        assertEquals(0, client.num("lost"), client.describe());
        assertTrue(client.dbl("rtt_p50_us") > 0 && client.dbl("rtt_p99_9_us") >= client.dbl("rtt_p50_us"), client.describe());
        assertEquals(2500, server.num("orders"), server.describe());
        assertPollGaps(client);
        assertPollGaps(server);
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "afxdp", "dpdk", "efvi"})
    void sockperfMeasuresThePingPongServer(final String backend) throws Exception {
        Requirements.requireCommand("sockperf");
        final VethPair t = untouchedTopology(backend);
        // The veth is left as 'ip link add' makes it (offload on, as in every container network):
        // sockperf's kernel leaves its UDP checksums partial, and the server must answer them all.
        final Run server = Run.startReady(t.executorB(), "pingpong", "server", "--uri", rxUri(backend, t.ifaceB()),
            "--port", "11111", "--json", "--duration", "60s");
        final Cmd.Result r = Cmd.runUnchecked("ip", "netns", "exec", t.a().name(), "sockperf", "ping-pong",
            "-i", t.addressBText(), "-p", "11111", "--time", "2", "-m", "64");
        server.stop();
        assertEquals(0, server.await(30), server.err());
        final String out = r.stdout() + r.stderr();
        assertEquals(0, r.exitCode(), out);
        assertTrue(out.contains("Summary: Latency is"), out);
        assertTrue(out.contains("percentile 99.900"), out);
        assertTrue(server.num("sockperf_replies") > 1000, server.describe() + "\n" + out);
        // the user gave no receive budget: the server opened and reports the ping-pong's own
        assertTrue(String.valueOf(server.summary().get("uri")).endsWith("rxStallMs=10"), server.describe());
        assertFalse(server.describe().contains("bad_udp_checksum"), server.describe());
        if (backend.equals("afxdp") || backend.equals("dpdk")) {
            // raw frames off the veth: every request came with the peer kernel's partial sum
            assertTrue(server.num("partial_checksums") > 1000, server.describe());
        }
        // sockperf counts what it got back: it must see (nearly) every reply it measured.
        assertTrue(!out.contains("No messages were received"), out);
    }

    /**
     * Where each side's SoupBinTCP order entry runs: {@code {exchange URI, trade URI, exchange address}}.
     * efvi carries the feed and leaves order entry to the kernel's TCP ({@code nio:}): it has no TCP.
     * On dpdk and afxdp, trade's orders go through Bypass's own TCP on a port of their own, on a second
     * veth pair between the namespaces: the feed's port holds its interface (net_af_packet puts every
     * vdev of one process on one interface in one fanout group, which splits the frames between them;
     * AF_XDP binds one socket per queue). The pair's B end is Bypass's (DPDK's without a kernel
     * address; afxdp's beside the kernel, steering its flows) and its A end the kernel's: the exchange
     * listens on kernel TCP, a third-party peer for ours.
     */
    private String[] orderLink(final String backend, final VethPair t) {
        return orderLink(backend, t, false);
    }

    /** As {@link #orderLink(String, VethPair)}; on dpdk with {@code exchangeOnDpdk}, the exchange's end is DPDK's and trade's the kernel's. */
    private String[] orderLink(final String backend, final VethPair t, final boolean exchangeOnDpdk) {
        return switch (backend) {
            case "efvi" -> new String[] {"nio:" + t.ifaceA(), "nio:" + t.ifaceB(), t.addressAText()};
            case "afxdp", "dpdk" -> {
                final String suffix = Netns.randomSuffix();
                final String endA = "sboa" + suffix;
                final String endB = "sbob" + suffix;
                final String net = "10." + (1 + (t.addressA() >>> 16 & 0xFF) % 250) + "." + (t.addressA() >>> 8 & 0xFF) + ".";
                t.a().ip("link", "add", endA, "type", "veth", "peer", "name", endB, "netns", t.b().name());
                // afxdp steers its flows past a kernel that keeps the address; DPDK's end must have none
                final boolean afxdp = "afxdp".equals(backend);
                if (exchangeOnDpdk || afxdp) {
                    t.b().ip("addr", "add", net + "2/24", "dev", endB);
                    t.b().exec("ethtool", "-K", endB, "tx", "off");
                }
                if (!exchangeOnDpdk || afxdp) {
                    t.a().ip("addr", "add", net + "1/24", "dev", endA);
                    t.a().exec("ethtool", "-K", endA, "tx", "off");
                }
                t.a().ip("link", "set", endA, "up");
                t.b().ip("link", "set", endB, "up");
                t.a().awaitUp(endA, 5000);
                t.b().awaitUp(endB, 5000);
                if (afxdp) {
                    yield new String[] {"nio:" + endA, "afxdp:" + endB, net + "1"};
                }
                yield exchangeOnDpdk
                    ? new String[] {"dpdk:net_af_packet" + VDEV.getAndIncrement() + ",iface=" + endA + "?ip=" + net + "1/24", "nio:" + endB, net + "1"}
                    : new String[] {"nio:" + endA, "dpdk:net_af_packet" + VDEV.getAndIncrement() + ",iface=" + endB + "?ip=" + net + "2/24", net + "1"};
            }
            default -> new String[] {uri(backend, t.ifaceA()), uri(backend, t.ifaceB()), t.addressAText()};
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "afxdp", "dpdk", "efvi"})
    void tickToTrade(final String backend) throws Exception {
        final VethPair t = topology(backend);
        tickToTrade(backend, t, orderLink(backend, t));
    }

    /** The exchange's SoupBinTCP listener on Bypass's own TCP (dpdk), the trading side on the kernel's. */
    @org.junit.jupiter.api.Test
    void tickToTradeWithTheExchangeListeningOnDpdk() throws Exception {
        final VethPair t = topology("dpdk");
        tickToTrade("dpdk", t, orderLink("dpdk", t, true));
    }

    private void tickToTrade(final String backend, final VethPair t, final String[] orders) throws Exception {
        final Run trade = Run.startReady(t.executorB(), "trade", "--uri", rxUri(backend, t.ifaceB()), "--a", A, "--b", B,
            "--order-uri", orders[1], "--exchange", orders[2] + ":40000", "--heartbeat", "50ms",
            "--json", "--duration", "60s", "--idle", "yield");
        final Run exchange = Run.start(t.executorA(), "exchange", "--uri", uri(backend, t.ifaceA()), "--a", A, "--b", B,
            "--order-uri", orders[0], "--port", "40000", "--heartbeat", "50ms", "--start-delay", "300ms",
            "--rate", "5000", "--count", "2000", "--trigger-every", "50", "--wait", "2s", "--json", "--idle", "backoff");
        assertEquals(0, exchange.await(60), exchange.err() + exchange.out());
        assertEquals(0, trade.await(60), trade.err() + trade.out());
        assertEquals(40, exchange.num("triggers"), exchange.describe());
        // Every order trade sent arrived and matched its trigger; a trigger without an order
        // must be explained by feed loss that trade itself counted (none on a quiet host).
        assertEquals(trade.num("orders_sent"), exchange.num("orders"), exchange.describe() + trade.describe());
        assertEquals(0, exchange.num("unknown_orders"), exchange.describe());
        assertTrue(exchange.num("missing_orders") <= trade.num("lost"), exchange.describe() + trade.describe());
        assertTrue(exchange.num("orders") >= 30, exchange.describe() + trade.describe());
        assertEquals(exchange.num("orders"), exchange.num("tick_to_trade_samples"), exchange.describe());
        assertEquals(trade.num("orders_sent"), trade.num("internal_samples"), trade.describe());
        assertEquals(trade.num("triggers"), trade.num("orders_sent"), trade.describe());
        // The SoupBinTCP session: one login, every order answered with an OUCH Accepted in sequence
        // from 1, heartbeats both ways while the feed had not started, nothing malformed either way.
        assertEquals(1, exchange.num("logins"), exchange.describe());
        assertEquals(exchange.num("orders"), exchange.num("accepted_sent"), exchange.describe());
        assertEquals(exchange.num("accepted_sent"), trade.num("accepted"), trade.describe());
        assertEquals(trade.num("accepted") + 1, trade.num("next_sequence"), trade.describe());
        assertTrue(exchange.num("heartbeats_sent") > 0 && trade.num("heartbeats_received") > 0, exchange.describe() + trade.describe());
        assertTrue(trade.num("heartbeats_sent") > 0 && exchange.num("heartbeats_received") > 0, exchange.describe() + trade.describe());
        assertEquals(0, exchange.num("malformed"), exchange.describe());
        assertEquals(0, trade.num("exchange_malformed"), trade.describe());
        final Object end = trade.summary().get("session_end");
        assertTrue("logged out".equals(end) || "end of session".equals(end), trade.describe());
        final boolean exchangeOnDpdk = orders[0].startsWith("dpdk:");
        assertEquals(("dpdk".equals(backend) || "afxdp".equals(backend)) && !exchangeOnDpdk ? backend : "nio", trade.summary().get("order_backend"),
            trade.describe());
        assertEquals(exchangeOnDpdk ? "dpdk" : "nio", exchange.summary().get("order_backend"), exchange.describe());
        // The strategy's own part is a fraction of the round trip through two stacks.
        assertTrue(trade.dbl("internal_p50_us") < exchange.dbl("tick_to_trade_p50_us"), trade.describe() + exchange.describe());
    }
}
