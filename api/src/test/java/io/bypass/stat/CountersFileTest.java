package io.bypass.stat;

import io.bypass.BypassException;
import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.PortUri;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The counters file as this process publishes it and a reader sees it: values from the
 * publisher thread, the label, the closed state, the heartbeat, and a reader that refuses
 * another layout version or a file that is not a counters file.
 */
class CountersFileTest {
    @Test
    void publishedCountersAndTheirLabelReadBackFromTheFile() throws Exception {
        final Counters counters = new Counters();
        final Counters.Writer w = counters.newWriter();
        final AtomicBoolean closed = new AtomicBoolean();
        final AtomicLong kernel = new AtomicLong();
        counters.refresher(() -> counters.set(Counter.DROP_RX_RING_FULL, kernel.get()));
        final CountersPublisher.Registration r = CountersPublisher.publish("udp", "test", PortUri.parse("test:eth7?queue=3"), counters,
            closed::get);
        assertTrue(r.isPublished(), "publishing is on by default");
        final Path file = CountersPublisher.file();
        assertNotNull(file);
        assertTrue(file.getFileName().toString().startsWith(ProcessHandle.current().pid() + "-"), file.toString());

        w.add(Counter.RX_PACKETS, 41);
        w.increment(Counter.RX_PACKETS);
        counters.increment(Counter.DROP_BAD_UDP_CHECKSUM);
        kernel.set(7);
        final CountersFileReader.Record rec = awaitValue(file, "eth7", "rx_packets", 42);
        assertEquals("udp", rec.label().get("type"));
        assertEquals("test", rec.label().get("backend"));
        assertEquals("3", rec.label().get("queue"));
        assertEquals("test:eth7?queue=3", rec.label().get("endpoint"));
        assertEquals(1L, awaitValue(file, "eth7", "drop_bad_udp_checksum", 1).values().get("drop_bad_udp_checksum"));
        assertEquals(7L, awaitValue(file, "eth7", "drop_rx_ring_full", 7).values().get("drop_rx_ring_full"), "refreshed from the 'kernel'");
        assertEquals(Counter.values().length, rec.values().size(), "every counter has a slot");

        final CountersFileReader.Snapshot s = CountersFileReader.read(file);
        assertEquals(ProcessHandle.current().pid(), s.pid());
        assertNull(s.staleReason(System.currentTimeMillis()), "this process is alive");
        assertTrue(System.currentTimeMillis() - s.heartbeatMillis() < 2_000, "heartbeat within the period");
        assertNotNull(s.staleReason(s.heartbeatMillis() + CountersDescriptor.STALE_HEARTBEAT_MS + 1), "an old heartbeat is stale");

        // closed first: a sample between the two (the publisher's start-up warm-up samples back to back) would publish 50
        closed.set(true);
        w.add(Counter.RX_PACKETS, 8);
        Thread.sleep(3 * CountersPublisher.DEFAULT_PERIOD_MS);
        final CountersFileReader.Record after = find(CountersFileReader.read(file), "eth7");
        assertTrue(after.closed(), "closed once its source is");
        assertEquals(42L, after.values().get("rx_packets"), "a closed source keeps its last published values");
    }

    @Test
    void applicationCountersAndRegistrationClose() throws Exception {
        final AtomicLong messages = new AtomicLong();
        final Map<String, String> label = new LinkedHashMap<>();
        label.put("type", "app");
        label.put("name", "unit=test\nx");
        final CountersPublisher.Registration r = CountersPublisher.register(label, List.of("messages", "gaps"), v -> {
            v[0] = messages.get();
            v[1] = 2;
            return true;
        });
        messages.set(99);
        final Path file = CountersPublisher.file();
        final CountersFileReader.Record rec = awaitValue(file, "unit=test x", "messages", 99);
        assertEquals(2L, rec.values().get("gaps"));
        messages.set(100);
        r.close();
        final CountersFileReader.Record closed = find(CountersFileReader.read(file), "unit=test x");
        assertTrue(closed.closed());
        assertEquals(100L, closed.values().get("messages"), "close takes a last sample");
    }

    @Test
    void theWarmUpSamplesEveryRecordRefreshesSomeAndLeavesTheHeartbeat() throws Exception {
        final Counters counters = new Counters();
        final AtomicLong refreshes = new AtomicLong();
        counters.refresher(refreshes::incrementAndGet);
        final AtomicLong appSamples = new AtomicLong();
        final Map<String, String> label = new LinkedHashMap<>();
        label.put("type", "app");
        label.put("name", "warm-up");
        try (CountersPublisher.Registration port = CountersPublisher.publish("port", "test", PortUri.parse("test:eth8"), counters, () -> false);
             CountersPublisher.Registration app = CountersPublisher.register(label, List.of("samples"), v -> {
                 v[0] = appSamples.incrementAndGet();
                 return true;
             })) {
            assertTrue(port.isPublished() && app.isPublished());
            final Path file = CountersPublisher.file();
            final long heartbeat = CountersFileReader.read(file).heartbeatMillis();
            final long refreshesBefore = refreshes.get();
            final long samplesBefore = appSamples.get();
            Thread.sleep(5); // a heartbeat written by the warm-up would be newer
            CountersPublisher.warmUp();
            final long refreshed = refreshes.get() - refreshesBefore;
            assertTrue(refreshed >= CountersPublisher.WARM_UP_SAMPLES / CountersPublisher.WARM_UP_REFRESH_EVERY
                && refreshed < CountersPublisher.WARM_UP_SAMPLES / 2,
                "one warm-up sample in " + CountersPublisher.WARM_UP_REFRESH_EVERY + " refreshes the kernel's statistics: " + refreshed);
            assertTrue(appSamples.get() - samplesBefore >= CountersPublisher.WARM_UP_SAMPLES, "every record is sampled");
            final CountersFileReader.Snapshot s = CountersFileReader.read(file);
            assertTrue(s.heartbeatMillis() == heartbeat || s.heartbeatMillis() - heartbeat >= CountersPublisher.DEFAULT_PERIOD_MS - 50,
                "only a periodic tick writes the heartbeat");
            assertEquals(appSamples.get(), find(s, "warm-up").values().get("samples"), "the values written are current");
        }
    }

    @Test
    void aFileOfAnotherLayoutVersionIsRefusedWithAClearMessage(@TempDir final Path dir) throws Exception {
        CountersPublisher.register(Map.of("type", "app", "name", "version-test"), List.of("x"), v -> true);
        final Path copy = dir.resolve("1-2.counters");
        Files.copy(CountersPublisher.file(), copy, StandardCopyOption.REPLACE_EXISTING);
        try (RandomAccessFile raf = new RandomAccessFile(copy.toFile(), "rw")) {
            raf.seek(CountersDescriptor.VERSION_OFFSET);
            raf.write(new byte[] {2, 0, 0, 0});
        }
        final BypassException e = assertThrows(BypassException.class, () -> CountersFileReader.read(copy));
        assertTrue(e.getMessage().contains("layout version 2") && e.getMessage().contains("reads version 1"), e.getMessage());

        final Path junk = dir.resolve("3-4.counters");
        Files.write(junk, new byte[CountersDescriptor.HEADER_LENGTH]);
        Files.write(junk, "not a counters file at all".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
            java.nio.file.StandardOpenOption.WRITE);
        final BypassException j = assertThrows(BypassException.class, () -> CountersFileReader.read(junk));
        assertTrue(j.getMessage().contains("not a Bypass counters file"), j.getMessage());

        final List<String> errors = new java.util.ArrayList<>();
        assertEquals(List.of(), CountersFileReader.readAll(dir, errors::add), "neither file is read");
        assertEquals(2, errors.size(), errors.toString());
    }

    private static CountersFileReader.Record awaitValue(final Path file, final String labelPart, final String name, final long value)
        throws Exception {
        final long deadline = System.nanoTime() + 5_000_000_000L;
        CountersFileReader.Record r = null;
        while (System.nanoTime() < deadline) {
            r = find(CountersFileReader.read(file), labelPart);
            if (r != null && r.values().get(name) == value) {
                return r;
            }
            Thread.sleep(20);
        }
        throw new AssertionError(name + " never read " + value + ": " + r);
    }

    private static CountersFileReader.Record find(final CountersFileReader.Snapshot s, final String labelPart) {
        for (final CountersFileReader.Record r : s.records()) {
            if (r.label().values().stream().anyMatch(v -> v.contains(labelPart))) {
                return r;
            }
        }
        return null;
    }
}
