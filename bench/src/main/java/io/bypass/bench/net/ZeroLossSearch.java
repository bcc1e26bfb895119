package io.bypass.bench.net;

import java.util.ArrayList;
import java.util.List;

/**
 * RFC 2544 throughput, as a search: the highest offered rate at which a receiver loses
 * nothing. A rate passes when {@code trialsPerRate} trials in a row pass (the first failure
 * ends it); the search offers the maximum first, and if that fails, bisects between the
 * highest rate that passed (at first 0) and the lowest that failed, until they are within
 * {@code precision} of each other (relative to the failed one) or the failed one is below
 * {@code minPps}. The figure reported is the rate the sender achieved, not the one asked:
 * the lowest achieved rate of the passing trials at the highest passing rate.
 *
 * <p>Pure logic: trials are run by a {@link TrialRunner}, so the search is tested against a
 * synthetic pass/fail oracle.
 */
public final class ZeroLossSearch {
    /** A sender that achieved less than this fraction of the asked rate was the limit there. */
    public static final double SENDER_LIMITED = 0.95;
    private static final int MAX_STEPS = 40;

    private ZeroLossSearch() {
    }

    /**
     * One trial: a fixed number of packets offered at one rate.
     *
     * @param askedPps    rate asked of the sender
     * @param achievedPps rate the sender achieved (first packet to last completion)
     * @param sent        packets sent (sequence numbers 1..sent)
     * @param received    messages the receiver's handler got, each sequence number once
     * @param gaps        sequence gaps the receiver saw
     * @param lost        sequence numbers missing
     * @param passed      every packet arrived, in sequence
     * @param note        why it failed beyond loss (receiver gave no figure, sender error), or empty
     */
    public record Trial(double askedPps, double achievedPps, long sent, long received, long gaps, long lost, boolean passed,
                        String note) {
    }

    /** Runs one trial at a rate. */
    @FunctionalInterface
    public interface TrialRunner {
        /**
         * @param askedPps rate to offer
         * @return the trial's outcome
         * @throws Exception if the trial could not be run at all (the search stops)
         */
        Trial run(double askedPps) throws Exception;
    }

    /**
     * @param maxPps        first and highest rate offered
     * @param minPps        below this the search gives up (the receiver is then reported at 0)
     * @param trialsPerRate consecutive passing trials needed at a rate
     * @param precision     stop when (failed - passed) / failed is at most this, e.g. 0.05
     */
    public record Settings(double maxPps, double minPps, int trialsPerRate, double precision) {
        /** Checks the ranges. */
        public Settings {
            if (!(maxPps > 0) || minPps < 0 || minPps > maxPps || trialsPerRate < 1 || !(precision > 0 && precision < 1)) {
                throw new IllegalArgumentException("zeroloss settings out of range: max " + maxPps + ", min " + minPps
                    + ", trials " + trialsPerRate + ", precision " + precision);
            }
        }
    }

    /**
     * The trials at one asked rate.
     *
     * @param askedPps rate asked
     * @param trials   trials run (stops at the first failure)
     * @param passed   all {@code trialsPerRate} passed
     */
    public record Step(double askedPps, List<Trial> trials, boolean passed) {
    }

    /**
     * @param zeroLossPps   lowest achieved rate of the passing trials at the highest passing step; 0 if none passed
     * @param askedPps      the asked rate of that step; 0 if none
     * @param atMaximum     the first step (the maximum) passed: the receiver's limit is at least this, not found
     * @param senderLimited the sender achieved less than {@link #SENDER_LIMITED} of the asked rate at that step
     * @param steps         every step, in order
     */
    public record Result(double zeroLossPps, double askedPps, boolean atMaximum, boolean senderLimited, List<Step> steps) {
        /** @return trials run in all */
        public int trialCount() {
            return steps.stream().mapToInt(s -> s.trials().size()).sum();
        }
    }

    /**
     * @param settings bounds and precision
     * @param runner   runs a trial
     * @return the highest zero-loss rate found
     * @throws Exception from the runner
     */
    public static Result search(final Settings settings, final TrialRunner runner) throws Exception {
        final List<Step> steps = new ArrayList<>();
        double passedAt = 0;
        double failedAt = settings.maxPps();
        boolean failedOnce = false;
        double best = 0;
        double bestAsked = 0;
        boolean senderLimited = false;
        double rate = settings.maxPps();
        while (steps.size() < MAX_STEPS) {
            final Step step = step(settings, runner, rate);
            steps.add(step);
            if (step.passed()) {
                passedAt = rate;
                best = step.trials().stream().mapToDouble(Trial::achievedPps).min().orElse(0);
                bestAsked = rate;
                senderLimited = best < SENDER_LIMITED * rate;
                if (!failedOnce) {
                    break; // passed at the maximum
                }
            } else {
                failedAt = rate;
                failedOnce = true;
            }
            if (failedAt - passedAt <= settings.precision() * failedAt || failedAt < settings.minPps()) {
                break;
            }
            rate = (passedAt + failedAt) / 2;
        }
        return new Result(best, bestAsked, !failedOnce && !steps.isEmpty(), senderLimited, List.copyOf(steps));
    }

    private static Step step(final Settings settings, final TrialRunner runner, final double rate) throws Exception {
        final List<Trial> trials = new ArrayList<>();
        for (int i = 0; i < settings.trialsPerRate(); i++) {
            final Trial t = runner.run(rate);
            trials.add(t);
            if (!t.passed()) {
                return new Step(rate, List.copyOf(trials), false);
            }
        }
        return new Step(rate, List.copyOf(trials), true);
    }
}
