package io.bypass.samples.e2e;

import io.bypass.samples.codec.EnterOrder;
import io.bypass.samples.codec.OuchAccepted;
import io.bypass.samples.codec.SoupBinTcp;
import io.bypass.testing.Requirements;
import io.bypass.testkit.Cmd;
import io.bypass.testkit.VethPair;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code trade} and {@code exchange}'s SoupBinTCP sessions on {@code nio:} across a veth pair, judged
 * by third parties: a hand-written client on a kernel socket sending malformed packets, and tshark's
 * own SoupBinTCP and OUCH dissectors reading a capture of a whole session.
 */
class SoupBinTcpSessionTest {
    private static final String A = "239.1.1.1:30001";
    private VethPair topo;

    private VethPair topology() {
        Requirements.requireNetns();
        Requirements.requireBackendAvailable("nio");
        topo = VethPair.create();
        return topo;
    }

    @AfterEach
    void tearDown() {
        if (topo != null) {
            topo.close();
        }
    }

    @Test
    void aWrongPasswordIsRejectedWithJ() throws Exception {
        final VethPair t = topology();
        final Run trade = Run.startReady(t.executorB(), "trade", "--uri", "nio:" + t.ifaceB(), "--a", A, "--b", "none",
            "--exchange", t.addressAText() + ":40000", "--password", "guess", "--json", "--duration", "30s");
        final Run exchange = Run.start(t.executorA(), "exchange", "--uri", "nio:" + t.ifaceA(), "--a", A, "--b", "none",
            "--port", "40000", "--login-timeout", "3s", "--json");
        assertEquals(1, trade.await(30), trade.err());
        assertEquals(1, exchange.await(30), "no login came: " + exchange.err());
        assertEquals("login rejected: not authorized", trade.summary().get("session_end"), trade.describe());
        assertEquals(false, trade.summary().get("logged_in"), trade.describe());
        assertEquals(1, exchange.num("rejected_logins"), exchange.describe());
        assertEquals(0, exchange.num("logins"), exchange.describe());
        assertTrue(exchange.err().contains("0 of 1 logins"), exchange.err());
    }

    /**
     * A server on a kernel socket that accepts the login and then says nothing: trade heartbeats every
     * interval meanwhile, and ends the session once the exchange has been silent past its timeout.
     */
    @Test
    void aSilentExchangeIsDetected() throws Exception {
        final VethPair t = topology();
        final java.util.concurrent.CompletableFuture<int[]> server = new java.util.concurrent.CompletableFuture<>();
        final java.util.concurrent.CountDownLatch listening = new java.util.concurrent.CountDownLatch(1);
        final Thread th = new Thread(() -> {
            try {
                server.complete(t.executorA().call(() -> {
                    try (java.net.ServerSocket ss = new java.net.ServerSocket()) {
                        ss.bind(new InetSocketAddress(t.addressAText(), 40000));
                        listening.countDown();
                        try (Socket s = ss.accept()) {
                            s.setSoTimeout(10_000);
                            final DataInputStream in = new DataInputStream(s.getInputStream());
                            final byte[] login = new byte[SoupBinTcp.LOGIN_REQUEST_LENGTH];
                            in.readFully(login);
                            final UnsafeBuffer b = new UnsafeBuffer(new byte[64]);
                            final int n = SoupBinTcp.putLoginAccepted(b, 0, SoupBinTcp.session("SILENT"), 1);
                            s.getOutputStream().write(b.byteArray(), 0, n);
                            // count what comes until trade gives up and closes: heartbeats only
                            int heartbeats = 0;
                            int other = 0;
                            try {
                                while (true) {
                                    final int hi = in.read();
                                    if (hi < 0) {
                                        break;
                                    }
                                    final int len = hi << 8 | in.readUnsignedByte();
                                    final byte[] rest = new byte[len];
                                    in.readFully(rest);
                                    if (len == 1 && rest[0] == 'R') {
                                        heartbeats++;
                                    } else {
                                        other++;
                                    }
                                }
                            } catch (final java.net.SocketException reset) {
                                // trade aborts a dead link with a RST
                            }
                            return new int[] {login[2], heartbeats, other};
                        }
                    }
                }));
            } catch (final Exception e) {
                server.completeExceptionally(e);
            }
        });
        th.setDaemon(true);
        th.start();
        assertTrue(listening.await(10, TimeUnit.SECONDS));
        final Run trade = Run.startReady(t.executorB(), "trade", "--uri", "nio:" + t.ifaceB(), "--a", A, "--b", "none",
            "--exchange", t.addressAText() + ":40000", "--heartbeat", "100ms", "--timeout", "1s", "--json", "--duration", "30s");
        assertEquals(1, trade.await(30), trade.err());
        assertEquals("exchange silent", trade.summary().get("session_end"), trade.describe());
        assertEquals(true, trade.summary().get("logged_in"), trade.describe());
        assertTrue(trade.err().contains("session with the exchange ended: exchange silent"), trade.err());
        final int[] seen = server.get(15, TimeUnit.SECONDS);
        assertEquals('L', seen[0]);
        // about 1 s of silence at 100 ms: the heartbeats trade counted reached the server (the last may be
        // overtaken by the RST, which discards what the server's kernel had not yet handed over), nothing else
        assertTrue(seen[1] <= trade.num("heartbeats_sent") && seen[1] >= trade.num("heartbeats_sent") - 1, seen[1] + " " + trade.describe());
        assertTrue(seen[1] >= 5, "heartbeats " + seen[1]);
        assertEquals(0, seen[2]);
    }

    /** A client on a kernel socket: junk before and after its login, an order split over three writes. */
    @Test
    void malformedPacketsAreCountedByReasonAndTheSessionGoesOn() throws Exception {
        final VethPair t = topology();
        final Run exchange = Run.startReady(t.executorA(), "exchange", "--uri", "nio:" + t.ifaceA(), "--a", A, "--b", "none",
            "--port", "40000", "--heartbeat", "10s", "--start-delay", "3s", "--count", "10", "--rate", "1000", "--wait", "100ms", "--json");
        final byte[] reply = t.executorB().call(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(t.addressAText(), 40000), 5000);
                s.setSoTimeout(5000);
                s.setTcpNoDelay(true);
                final OutputStream out = s.getOutputStream();
                final UnsafeBuffer b = new UnsafeBuffer(new byte[256]);
                out.write(new byte[] {0, 0});                                        // short_length
                out.write(new byte[] {0, 1, 'Q'});                                   // unknown_type
                out.write(new byte[] {0, 3, 'R', 1, 2});                             // bad_length: a heartbeat with payload
                out.write(new byte[] {0, 2, 'U', 'x'});                              // out_of_order: data before login
                int n = SoupBinTcp.putLoginRequest(b, 0, SoupBinTcp.alpha("BYPASS", 6), SoupBinTcp.alpha("bypass", 10),
                    SoupBinTcp.alpha("", 10), 1);
                out.write(b.byteArray(), 0, n);
                out.write(new byte[] {0, 1, 'S'});                                   // wrong_direction: a server's type
                out.write(new byte[] {0, 3, 'U', 'O', 'O'});                         // bad_message: not an Enter Order
                n = SoupBinTcp.putHeader(b, 0, SoupBinTcp.UNSEQUENCED_DATA, EnterOrder.LENGTH);
                EnterOrder.encode(b, n, 424242, (byte) 'B', 100, "TEST    ".getBytes(), 12_3400, "FIRM".getBytes());
                n += EnterOrder.LENGTH;
                for (final int[] piece : new int[][] {{0, 1}, {1, 20}, {21, n - 21}}) {   // split: the exchange reassembles
                    out.write(b.byteArray(), piece[0], piece[1]);
                    out.flush();
                    Thread.sleep(50);
                }
                final byte[] in = new byte[SoupBinTcp.LOGIN_ACCEPTED_LENGTH + SoupBinTcp.HEADER_LENGTH + OuchAccepted.LENGTH];
                new DataInputStream(s.getInputStream()).readFully(in);
                out.write(new byte[] {0, 1, 'O'});                                   // Logout Request
                // the exchange closes on logout: read to EOF
                assertEquals(-1, s.getInputStream().read());
                return in;
            }
        });
        assertEquals(0, exchange.await(30), exchange.err());
        final UnsafeBuffer r = new UnsafeBuffer(reply);
        final SoupBinTcp p = new SoupBinTcp();
        assertEquals(SoupBinTcp.VALID, p.wrap(r, 0, SoupBinTcp.LOGIN_ACCEPTED_LENGTH));
        assertEquals('A', p.type());
        assertEquals(1, p.acceptedSequence());
        assertEquals("EXCHANGE01", new String(reply, 3, 10, StandardCharsets.US_ASCII));
        assertEquals(SoupBinTcp.VALID, p.wrap(r, SoupBinTcp.LOGIN_ACCEPTED_LENGTH, reply.length - SoupBinTcp.LOGIN_ACCEPTED_LENGTH));
        assertEquals('S', p.type());
        assertTrue(OuchAccepted.isAccepted(r, p.payloadOffset(), p.payloadLength()));
        assertEquals(424242, OuchAccepted.token(r, p.payloadOffset()));
        assertEquals(12_3400, OuchAccepted.price(r, p.payloadOffset()));
        @SuppressWarnings("unchecked")
        final Map<String, Object> reasons = (Map<String, Object>) exchange.summary().get("malformed_reasons");
        assertEquals(Map.of("short_length", 1L, "unknown_type", 1L, "bad_length", 1L, "out_of_order", 1L,
            "wrong_direction", 1L, "bad_message", 1L), reasons, exchange.describe());
        assertEquals(6, exchange.num("malformed"), exchange.describe());
        assertEquals(1, exchange.num("logins"), exchange.describe());
        assertEquals(1, exchange.num("logouts"), exchange.describe());
        assertEquals(1, exchange.num("unknown_orders"), exchange.describe());
        assertEquals(1, exchange.num("accepted_sent"), exchange.describe());
    }

    /**
     * A whole session captured on the exchange's veth end and read by tshark's SoupBinTCP and OUCH
     * dissectors: the login, every Enter Order as Unsequenced Data, every Accepted as Sequenced Data,
     * the logout. The raw TCP payload tshark extracts is cut into packets too, and must agree.
     */
    @Test
    void tsharkDecodesTheSession(@TempDir final Path dir) throws Exception {
        Requirements.requireCommand("tshark");
        final VethPair t = topology();
        final Path pcap = dir.resolve("soupbin.pcapng");
        final Path capErr = dir.resolve("tshark.err");
        final Process cap = new ProcessBuilder("ip", "netns", "exec", t.a().name(), "tshark", "-i", t.ifaceA(), "-f", "tcp port 40000",
            "-w", pcap.toString()).redirectError(capErr.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            // tshark loads every dissector first: seconds on a busy host (a CI run saw over 10 s)
            final long deadline = System.nanoTime() + 60_000_000_000L;
            while (!(Files.exists(capErr) && Files.readString(capErr).contains("Capturing on"))) {
                assertTrue(cap.isAlive() && System.nanoTime() < deadline, "tshark did not start: " + (Files.exists(capErr) ? Files.readString(capErr) : ""));
                Thread.sleep(50);
            }
            final Run trade = Run.startReady(t.executorB(), "trade", "--uri", "nio:" + t.ifaceB() + "?rcvbuf=4194304", "--a", A, "--b", "none",
                "--exchange", t.addressAText() + ":40000", "--heartbeat", "100ms", "--json", "--duration", "60s");
            final Run exchange = Run.start(t.executorA(), "exchange", "--uri", "nio:" + t.ifaceA(), "--a", A, "--b", "none",
                "--port", "40000", "--heartbeat", "100ms", "--start-delay", "300ms", "--rate", "2000", "--count", "500",
                "--trigger-every", "25", "--wait", "2s", "--json");
            assertEquals(0, exchange.await(60), exchange.err());
            assertEquals(0, trade.await(60), trade.err());
            assertTrue(exchange.num("orders") >= 15, exchange.describe());
            Thread.sleep(500);   // let the FINs reach the capture
            cap.destroy();
            assertTrue(cap.waitFor(10, TimeUnit.SECONDS));
            final Cmd.Result r = Cmd.runUnchecked("tshark", "-r", pcap.toString(), "-d", "tcp.port==40000,soupbintcp",
                "-Y", "tcp.len > 0 && !tcp.analysis.retransmission",
                "-T", "fields", "-E", "separator=|", "-e", "tcp.dstport", "-e", "soupbintcp.packet_type", "-e", "ouch.packet_type",
                "-e", "ouch.order_token", "-e", "soupbintcp.username", "-e", "tcp.payload");
            assertEquals(0, r.exitCode(), r.stderr());
            final List<String> toExchange = new ArrayList<>();
            final List<String> toTrade = new ArrayList<>();
            final List<String> ouchIn = new ArrayList<>();
            final List<String> ouchOut = new ArrayList<>();
            final List<String> tokens = new ArrayList<>();
            final StringBuilder hexIn = new StringBuilder();
            final StringBuilder hexOut = new StringBuilder();
            String username = null;
            for (final String line : r.stdout().split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                final String[] f = line.split("\\|", -1);
                final boolean in = "40000".equals(f[0]);
                split(f[1], in ? toExchange : toTrade);
                split(f[2], in ? ouchIn : ouchOut);
                split(f[3], tokens);
                if (!f[4].isEmpty()) {
                    username = f[4];
                }
                (in ? hexIn : hexOut).append(f[5].replace(":", ""));
            }
            final String what = r.stdout() + "\n" + exchange.describe() + trade.describe();
            final long orders = trade.num("orders_sent");
            // the order stream, as tshark's dissectors read it
            assertEquals("L", toExchange.get(0), what);
            assertEquals("BYPASS", username, what);
            assertEquals("O", toExchange.get(toExchange.size() - 1), "the logout is the client's last packet: " + what);
            assertEquals(orders, toExchange.stream().filter("U"::equals).count(), what);
            assertEquals(orders, ouchIn.stream().filter("O"::equals).count(), "each U carries an OUCH Enter Order: " + what);
            assertTrue(toExchange.contains("R"), "client heartbeats: " + what);
            assertEquals("A", toTrade.get(0), what);
            assertEquals(orders, toTrade.stream().filter("S"::equals).count(), what);
            assertEquals(orders, ouchOut.stream().filter("A"::equals).count(), "each S carries an OUCH Accepted: " + what);
            assertTrue(toTrade.contains("H"), "server heartbeats: " + what);
            assertEquals(2 * orders, tokens.size(), "a token in each order and each Accepted: " + what);
            assertTrue(tokens.stream().allMatch(k -> k.matches("\\d{14}")), what);
            // the same bytes, cut by length field here (retransmissions, such as a tail loss probe, left out as
            // the dissector leaves them): the packet types agree with the dissector's
            assertEquals(toExchange, types(HexFormat.of().parseHex(hexIn)), what);
            assertEquals(toTrade, types(HexFormat.of().parseHex(hexOut)), what);
        } finally {
            cap.destroyForcibly();
        }
    }

    private static void split(final String field, final List<String> into) {
        if (!field.isEmpty()) {
            for (final String v : field.split(",")) {
                // tshark prints a character field quoted: 'L'
                into.add(v.length() == 3 && v.charAt(0) == '\'' && v.charAt(2) == '\'' ? v.substring(1, 2) : v);
            }
        }
    }

    private static List<String> types(final byte[] stream) {
        final List<String> out = new ArrayList<>();
        final UnsafeBuffer b = new UnsafeBuffer(stream);
        final SoupBinTcp p = new SoupBinTcp();
        int at = 0;
        while (at < stream.length) {
            assertEquals(SoupBinTcp.VALID, p.wrap(b, at, stream.length - at), "at " + at);
            out.add(String.valueOf((char) p.type()));
            at += p.length();
        }
        assertArrayEquals(new int[] {stream.length}, new int[] {at});
        return out;
    }
}
