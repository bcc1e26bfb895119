package io.bypass.bench;

import io.bypass.bench.net.ZeroLossSearch;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The RFC 2544 search against synthetic pass/fail oracles: no network, no sender. */
class ZeroLossSearchTest {
    private static ZeroLossSearch.Trial trial(final double asked, final double achieved, final boolean passed) {
        final long sent = Math.round(achieved);
        return new ZeroLossSearch.Trial(asked, achieved, sent, passed ? sent : sent - 5, passed ? 0 : 1, passed ? 0 : 5, passed, "");
    }

    @Test
    void convergesOnTheThresholdFromBelowWithinThePrecision() throws Exception {
        final double threshold = 321_000;
        final List<Double> asked = new ArrayList<>();
        final ZeroLossSearch.Result r = ZeroLossSearch.search(new ZeroLossSearch.Settings(1_000_000, 1000, 3, 0.02), rate -> {
            asked.add(rate);
            return trial(rate, rate, rate <= threshold);
        });
        assertTrue(r.zeroLossPps() <= threshold, "never above the threshold: " + r.zeroLossPps());
        assertTrue(r.zeroLossPps() >= threshold * 0.98, "within 2% below it: " + r.zeroLossPps());
        assertEquals(r.zeroLossPps(), r.askedPps());
        assertFalse(r.atMaximum());
        assertFalse(r.senderLimited());
        assertEquals(1_000_000, asked.get(0), "the maximum is offered first");
        // bisection: the maximum, then halvings until the interval is 2% of the threshold
        final int bound = 1 + (int) Math.ceil(Math.log(1_000_000 / (0.02 * threshold)) / Math.log(2));
        assertTrue(r.steps().size() <= bound, "at most " + bound + " steps, got " + r.steps().size());
        for (final ZeroLossSearch.Step s : r.steps()) {
            assertEquals(s.passed() ? 3 : 1, s.trials().size(), "a passing rate takes 3 trials, a failing one stops at the first");
            assertEquals(s.askedPps() <= threshold, s.passed());
        }
        assertEquals(asked.size(), r.trialCount());
    }

    @Test
    void aRatePassesOnlyIfEveryTrialInARowPasses() throws Exception {
        // above 200 kpps every third trial loses a packet: such rates must not pass
        final int[] calls = {0};
        final ZeroLossSearch.Result r = ZeroLossSearch.search(new ZeroLossSearch.Settings(800_000, 1000, 3, 0.05),
            rate -> trial(rate, rate, rate <= 200_000 || ++calls[0] % 3 != 0));
        assertTrue(r.zeroLossPps() <= 200_000 && r.zeroLossPps() >= 190_000, "got " + r.zeroLossPps());
    }

    @Test
    void passingAtTheMaximumStopsThereAndSaysSo() throws Exception {
        final ZeroLossSearch.Result r = ZeroLossSearch.search(new ZeroLossSearch.Settings(500_000, 1000, 3, 0.05),
            rate -> trial(rate, rate, true));
        assertEquals(500_000, r.zeroLossPps());
        assertTrue(r.atMaximum());
        assertEquals(1, r.steps().size());
        assertEquals(3, r.trialCount());
    }

    @Test
    void aReceiverThatLosesAtEveryRateGetsZeroAndTheSearchEnds() throws Exception {
        final ZeroLossSearch.Result r = ZeroLossSearch.search(new ZeroLossSearch.Settings(1_000_000, 1000, 3, 0.05),
            rate -> trial(rate, rate, false));
        assertEquals(0, r.zeroLossPps());
        assertFalse(r.atMaximum());
        assertTrue(r.steps().size() <= 12, "stops once below the minimum rate: " + r.steps().size());
        assertTrue(r.steps().get(r.steps().size() - 1).askedPps() < 1000);
    }

    @Test
    void theFigureIsTheLowestAchievedRateOfThePassingTrialsAndASlowSenderIsFlagged() throws Exception {
        // the sender tops out at 250 kpps whatever is asked, and achieves 1-3% under the asked rate below that
        final int[] i = {0};
        final ZeroLossSearch.Result r = ZeroLossSearch.search(new ZeroLossSearch.Settings(1_000_000, 1000, 3, 0.05), rate -> {
            final double achieved = Math.min(250_000, rate * (0.97 + 0.01 * (i[0]++ % 3)));
            return trial(rate, achieved, achieved <= 400_000);
        });
        assertEquals(250_000, r.zeroLossPps());
        assertEquals(1_000_000, r.askedPps());
        assertTrue(r.atMaximum() && r.senderLimited());

        i[0] = 0;
        final ZeroLossSearch.Result below = ZeroLossSearch.search(new ZeroLossSearch.Settings(200_000, 1000, 3, 0.05), rate -> {
            final double achieved = rate * (0.97 + 0.01 * (i[0]++ % 3));
            return trial(rate, achieved, true);
        });
        assertEquals(200_000 * 0.97, below.zeroLossPps(), 1e-6, "the lowest of the three trials");
        assertFalse(below.senderLimited());
    }

    @Test
    void settingsOutOfRangeAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ZeroLossSearch.Settings(0, 0, 3, 0.05));
        assertThrows(IllegalArgumentException.class, () -> new ZeroLossSearch.Settings(1000, 0, 0, 0.05));
        assertThrows(IllegalArgumentException.class, () -> new ZeroLossSearch.Settings(1000, 0, 3, 1.5));
    }
}
