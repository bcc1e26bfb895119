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

    @Test
    void pairedRatioIsTheMedianOfRunByRunRatiosSoAJumpInHostSpeedCancels() {
        final Measurement java = new Measurement("afxdp", "l2", "pingpong", "java", "Java");
        final Measurement c = new Measurement("afxdp", "c", "pingpong", "c", "C");
        // runs alternate Java, C, Java, C...; the host is 1.6x slower during pairs 0 and 1 (both),
        // and jumps between the two halves of pairs 2 and 3 (once each way)
        final long[][] p50s = {{610, 560}, {608, 570}, {380, 560}, {600, 350}, {380, 355}};
        for (final long[] pair : p50s) {
            java.add(new Measurement.Run(1000.0 / pair[0], 1, 0, pair[0], 0, 0, 0, new long[] {pair[0]}));
            c.add(new Measurement.Run(1000.0 / pair[1], 1, 0, pair[1], 0, 0, 0, new long[] {pair[1]}));
        }
        // ratios 1.089, 1.067, 0.679, 1.714, 1.070 -> median 1.07
        assertEquals(1.070, java.pairedRatio(c, Measurement.Run::p50Nanos), 0.001);
        assertEquals(1 / 1.070, java.pairedRatio(c, Measurement.Run::pps), 0.01);
        assertTrue(Double.isNaN(java.pairedRatio(new Measurement("x", "c", "pingpong", "c", "none"), Measurement.Run::pps)));
    }
}
