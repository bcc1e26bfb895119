package io.bypass.bench;

import io.bypass.bench.net.Measurement;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MeasurementTest {
    private static Measurement.Run run(final long... rtts) {
        return new Measurement.Run(0, rtts.length, 0, 0, 0, 0, 0, rtts);
    }

    @Test
    void roundTripPercentilesPoolEveryRunWhileRatesTakeTheMedianRun() {
        final Measurement m = new Measurement("afxdp", "l2", "pingpong", "java", "Java afxdp Port");
        // two runs in a host's fast spell, one in a slow spell
        m.add(run(100, 101, 102, 103));
        m.add(run(600, 601, 602, 603));
        m.add(run(104, 105, 106, 107));
        assertEquals(105, m.pooledP50(), "median of all twelve round trips");
        assertEquals(603, m.pooledP99());
        assertEquals(600, m.pooledPercentile(75));
        assertTrue(Double.isNaN(new Measurement("x", "l2", "pingpong", "c", "C").pooledP50()), "no round trips: NaN");
    }
}
