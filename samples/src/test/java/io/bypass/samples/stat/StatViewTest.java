package io.bypass.samples.stat;

import io.bypass.stat.CountersFileReader.Record;
import io.bypass.stat.CountersFileReader.Snapshot;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Rates over the publisher's heartbeats: readings more often than the publisher samples must
 * neither show a zero rate between two samples nor a doubled one after.
 */
class StatViewTest {
    private final StatView view = new StatView();

    @Test
    void ratesSpanTheSamplesNotTheReadings() {
        assertNull(rate(reading(10_000, 0), 10_050), "the first reading has nothing to compare with");
        // 500 messages in the second between two samples
        assertEquals(500.0, rate(reading(11_000, 500), 11_050));
        // read again before the next sample: the same sample, so the same rate, not zero
        assertEquals(500.0, rate(reading(11_000, 500), 11_600));
        // the next sample, read 0.45 s after the last reading: still per second of samples, not per 0.45 s
        assertEquals(1500.0, rate(reading(12_000, 2000), 12_050));
        // two seconds between samples (a reading missed one): halved per second, not doubled
        assertEquals(250.0, rate(reading(14_000, 2500), 14_050));
    }

    @Test
    void aValueReadMidSampleIsNotCountedTwice() {
        rate(reading(10_000, 0), 10_050);
        // the publisher stored a new value but not yet the heartbeat: the same sample as far as rates go
        assertNull(rate(reading(10_000, 300), 10_900), "no rate until a second sample");
        // the next reading's base is still the value at heartbeat 10 000
        assertEquals(1000.0, rate(reading(11_000, 1000), 11_050));
    }

    @Test
    void aProcessThatStoppedSamplingReadsZeroNotItsLastRate() {
        rate(reading(10_000, 0), 10_050);
        assertEquals(1000.0, rate(reading(11_000, 1000), 11_050));
        assertEquals(1000.0, rate(reading(11_000, 1000), 12_900), "within two periods: a sample may be late");
        assertEquals(0.0, rate(reading(11_000, 1000), 13_100), "older than two periods: it has stopped");
        assertEquals(500.0, rate(reading(14_000, 2500), 14_050), "sampling again: over the whole gap");
    }

    private static Snapshot reading(final long heartbeatMillis, final long messages) {
        final Record r = new Record(0, false, Map.of("type", "app"), Map.of("messages", messages));
        return new Snapshot(Path.of("/dev/shm/bypass/test"), 4242, 1, heartbeatMillis, "test", List.of(r));
    }

    @SuppressWarnings("unchecked")
    private Double rate(final Snapshot s, final long nowMillis) {
        final StatView.Filtered f = new StatView.Filtered(s, List.of(new StatView.Filtered.Part(s.records().get(0), List.of("messages"))));
        final Map<String, Object> o = view.interval(List.of(f), List.of(), nowMillis);
        final Map<String, Object> p = (Map<String, Object>) ((List<Object>) o.get("processes")).get(0);
        final Map<String, Object> rec = (Map<String, Object>) ((List<Object>) p.get("records")).get(0);
        return (Double) ((Map<String, Object>) rec.get("rates")).get("messages");
    }
}
