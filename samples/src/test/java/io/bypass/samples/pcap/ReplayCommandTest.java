package io.bypass.samples.pcap;

import io.bypass.net.Ipv4;
import io.bypass.samples.Main;
import io.bypass.samples.cli.Context;
import io.bypass.samples.mem.MemUdpEndpoint;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bypass replay} over the in-memory sink: a long captured gap does not hold the
 * command (stop, {@code --duration} and {@code --max-gap} end or shorten the wait, progress
 * keeps coming), and its small error and summary cases.
 */
class ReplayCommandTest {
    private static final long T0 = 1_700_000_000_000_000_000L;

    @BeforeEach
    void reset() {
        MemUdpEndpoint.reset();
    }

    /** A command line running on its own thread, with its context (to stop it) and output. */
    private static final class Running {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final Context ctx = new Context(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        final AtomicInteger rc = new AtomicInteger(-1);
        final Thread thread;
        final long startNanos = System.nanoTime();

        Running(final String... argv) {
            thread = Thread.ofPlatform().daemon().name("replay-under-test").start(() -> rc.set(Main.run(argv, ctx)));
        }

        /** Waits at most {@code millis}; a command that is still running fails the test. */
        long awaitMillis(final long millis) throws InterruptedException {
            thread.join(millis);
            final long took = (System.nanoTime() - startNanos) / 1_000_000;
            if (thread.isAlive()) {
                ctx.stop();   // let it end on its own (a stuck one spins in its daemon thread)
            }
            assertFalse(thread.isAlive(), "replay still running after " + millis + " ms:\n" + text());
            return took;
        }

        String text() {
            return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
        }

        Map<String, Object> summary() {
            assertNotNull(ctx.summary(), "no summary printed:\n" + text());
            return ctx.summary().fields();
        }
    }

    /** Datagrams at the given capture times (ns after T0). */
    private static Path capture(final Path dir, final long... offsets) throws Exception {
        final Path file = dir.resolve("c.pcap");
        final byte[] payload = new byte[32];
        try (PcapWriter w = PcapWriter.open(file, PcapWriter.Format.PCAP_NANOS)) {
            for (final long o : offsets) {
                w.writeUdp(T0 + o, Ipv4.parse("192.0.2.1"), 40000, Ipv4.parse("239.1.1.1"), 30001, payload, 0, payload.length);
            }
        }
        return file;
    }

    @Test
    void stopEndsTheWaitForTheNextPacketAtOnceWithTheSummary(@TempDir final Path dir) throws Exception {
        final Path file = capture(dir, 0, 5_000_000_000L);
        final Running r = new Running("replay", "--uri", "mem:sink", "--file", file.toString(), "--quiet");
        Thread.sleep(300);
        r.ctx.stop();
        final long took = r.awaitMillis(3_000);
        assertTrue(took < 2_500, "took " + took + " ms");
        assertEquals(0, r.rc.get(), r.text());
        assertEquals(true, r.summary().get("stopped_early"), r.text());
        assertEquals(1L, ((Number) r.summary().get("packets")).longValue(), r.text());
    }

    @Test
    void durationEndsTheWaitAndProgressKeepsComing(@TempDir final Path dir) throws Exception {
        final Path file = capture(dir, 0, 8_000_000_000L);
        final Running r = new Running("replay", "--uri", "mem:sink", "--file", file.toString(), "--duration", "2500ms");
        final long took = r.awaitMillis(6_000);
        assertTrue(took < 5_000, "took " + took + " ms");
        assertEquals(true, r.summary().get("stopped_early"), r.text());
        final long waiting = r.err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("replay: waiting")).count();
        assertTrue(waiting >= 2, "progress lines while waiting: " + waiting + "\n" + r.text());
    }

    @Test
    void aGapLongerThanMaxGapIsReportedAndShortened(@TempDir final Path dir) throws Exception {
        final Path file = capture(dir, 0, 1_000_000, 3_600_000_000_000L, 3_600_001_000_000L);
        final Running r = new Running("replay", "--uri", "mem:sink", "--file", file.toString(), "--max-gap", "50ms");
        final long took = r.awaitMillis(5_000);
        assertTrue(took < 4_000, "took " + took + " ms");
        assertEquals(0, r.rc.get(), r.text());
        assertEquals(4L, ((Number) r.summary().get("packets")).longValue(), r.text());
        assertEquals(1L, ((Number) r.summary().get("gaps_clamped")).longValue(), r.text());
        assertEquals(false, r.summary().get("stopped_early"), r.text());
        assertTrue(r.err.toString(StandardCharsets.UTF_8).contains("shortened to --max-gap"), r.text());
    }

    @Test
    void aDirectoryIsOneLineNotAStackTrace(@TempDir final Path dir) throws Exception {
        final Running r = new Running("replay", "--uri", "mem:sink", "--file", dir.toString());
        r.awaitMillis(5_000);
        final String err = r.err.toString(StandardCharsets.UTF_8);
        assertEquals(Main.USAGE, r.rc.get(), r.text());
        assertTrue(err.startsWith("bypass replay: --file: " + dir + " is a directory"), err);
        assertFalse(err.contains("\tat "), err);
    }

    @Test
    void aVeryShortReplayReportsNoAbsurdRate(@TempDir final Path dir) throws Exception {
        final Path file = capture(dir, 0);
        final Running r = new Running("replay", "--uri", "mem:sink", "--file", file.toString(), "--speed", "max", "--quiet");
        r.awaitMillis(5_000);
        final Object rate = r.summary().get("rate_pps");
        final double elapsed = ((Number) r.summary().get("elapsed_s")).doubleValue();
        assertTrue(elapsed > 0, "elapsed_s " + elapsed);
        // One datagram: no backend sends a billion a second; an unmeasurably short run reports no rate.
        assertTrue(rate == null || ((Number) rate).doubleValue() < 1e9, "rate_pps " + rate + " from elapsed_s " + elapsed);
    }

    @Test
    void aTruncatedCaptureIsInTheSummary(@TempDir final Path dir) throws Exception {
        final Path file = capture(dir, 0, 1_000_000, 2_000_000);
        final byte[] all = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(all, all.length - 10));
        final Running r = new Running("replay", "--uri", "mem:sink", "--file", file.toString(), "--speed", "max", "--quiet", "--json");
        r.awaitMillis(5_000);
        assertEquals(true, r.summary().get("truncated_file"), r.text());
        assertTrue(r.out.toString(StandardCharsets.UTF_8).contains("\"truncated_file\":true"), r.text());
    }
}
