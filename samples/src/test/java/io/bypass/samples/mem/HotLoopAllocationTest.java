package io.bypass.samples.mem;

import io.bypass.samples.Main;
import io.bypass.samples.e2e.EndToEndTest;
import io.bypass.samples.pcap.PcapWriter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The subcommands' real loops, run over the in-memory endpoint: after warm-up, the
 * polling thread allocates nothing per datagram (read with
 * {@code ThreadMXBean.getCurrentThreadAllocatedBytes}, not timed). {@code --quiet} turns
 * off the once-a-second progress line, the one thing in the loops that allocates.
 */
class HotLoopAllocationTest {
    @BeforeEach
    void reset() {
        MemUdpEndpoint.reset();
        MemTcpEndpoint.reset();
    }

    private static String run(final String... argv) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int rc = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        final String text = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, text);
        return text;
    }

    private static void assertNoAllocation(final String what, final String output) {
        assertTrue(MemUdpEndpoint.allocatedAtWarm >= 0 && MemUdpEndpoint.allocatedAtEnd >= 0, what + " did not reach the readings: " + output);
        // Under 64 KiB over 300,000 datagrams, i.e. < 0.22 bytes each: not one object per
        // datagram, nor per 20 datagrams (the smallest object is 16 bytes, 4.8 MB here). The
        // slack admits one-off costs after warm-up (lazy init, objects rematerialised when
        // the JIT deoptimises), seen at 0.5-2 KB.
        final long bytes = MemUdpEndpoint.allocatedAtEnd - MemUdpEndpoint.allocatedAtWarm;
        assertTrue(bytes < 65536, what + " allocated " + bytes + " bytes over " + (MemUdpEndpoint.END - MemUdpEndpoint.WARM)
            + " datagrams:\n" + output);
    }

    @Test
    void feedHandlerLoop() {
        final String out = run("feed", "--uri", "mem:feed", "--quiet", "--json");
        assertNoAllocation("feed", out);
        assertTrue(out.contains("\"lost\":0"), out);
        // the poll-gap recorder runs in the measured loop
        assertTrue(out.contains("\"poll_gap_p99_us\":") && out.contains("\"poll_gaps_over_1ms\":"), out);
    }

    @Test
    void tradeLoopIncludingOrders() {
        final String out = run("trade", "--uri", "mem:feed", "--exchange", "10.9.9.9:40000", "--quiet", "--json");
        assertNoAllocation("trade", out);
        assertTrue(MemTcpEndpoint.orders > 1000, "orders sent over SoupBinTCP: " + MemTcpEndpoint.orders);
        // every order answered with an Accepted, and the session logged out cleanly
        assertTrue(out.contains("\"accepted\":" + MemTcpEndpoint.orders + ","), out);
        assertTrue(out.contains("\"session_end\":\"logged out\""), out);
    }

    @Test
    void pingPongServerLoopAnsweringOrdersAndSockperf() {
        final String out = run("pingpong", "server", "--uri", "mem:ping", "--count", String.valueOf(MemUdpEndpoint.END), "--quiet", "--json");
        assertNoAllocation("pingpong server", out);
        assertTrue(out.contains("\"poll_gap_max_us\":"), out);
        assertTrue(MemUdpEndpoint.sent >= MemUdpEndpoint.END - 1, "replies: " + MemUdpEndpoint.sent);
    }

    @Test
    void pingPongServerAnswersEveryRequestInOrderWhenAClaimIsRefused() {
        // Refused claims send the answer, and those behind it in the same poll, from reply slots after the
        // poll; Udp.send then polls while the neighbour resolves, and what those polls take in queues behind.
        final String out = run("pingpong", "server", "--uri", "mem:" + MemUdpEndpoint.RESOLVING, "--count",
            String.valueOf(MemUdpEndpoint.END), "--quiet", "--json");
        // one refusal per window of 20: the rest of that poll's requests queue behind it without claiming
        assertTrue(MemUdpEndpoint.claimRefusals >= MemUdpEndpoint.END / 1000 - 1, "claims refused: " + MemUdpEndpoint.claimRefusals);
        assertEquals(0, MemUdpEndpoint.outOfOrder, "replies out of order:\n" + out);
        assertTrue(MemUdpEndpoint.sent >= MemUdpEndpoint.END - 1, "replies: " + MemUdpEndpoint.sent);
        assertTrue(out.contains("\"send_failures\":0") && out.contains("\"backlog_full\":0"), out);
        assertNoAllocation("pingpong server, claims refused", out);
    }

    @Test
    void publisherLoop() {
        final String out = run("publish", "--uri", "mem:sink", "--rate", "max", "--count", String.valueOf(MemUdpEndpoint.END), "--quiet",
            "--messages-per-packet", "3");
        assertNoAllocation("publish", out);
    }

    @Test
    void replayLoop(@TempDir final Path dir) throws Exception {
        final Path file = dir.resolve("x.pcap");
        EndToEndTest.writeFeedCapture(file, PcapWriter.Format.PCAP_NANOS, 2000);
        final String out = run("replay", "--uri", "mem:sink", "--file", file.toString(), "--speed", "max",
            "--loops", String.valueOf(MemUdpEndpoint.END / 2000 + 1), "--quiet");
        assertNoAllocation("replay", out);
    }
}
