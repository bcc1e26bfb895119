package io.bypass.tcp;

/**
 * A connection's congestion window (RFC 5681: slow start, congestion avoidance, fast retransmit
 * and fast recovery, with RFC 6582's NewReno partial acknowledgements) and its retransmission
 * timer's value (RFC 6298: SRTT, RTTVAR, RTO with exponential back-off). Byte counts are longs.
 *
 * <p>The lowest RTO is {@value #MIN_RTO_NANOS} ns (20 ms), not RFC 6298's 1 s nor Linux's 200 ms: the
 * order link runs over a LAN with sub-millisecond round trips, where a long floor turns every lost
 * retransmission into a long silence (an order stuck behind it). The cost: a peer that delays an ACK
 * longer than that (Linux delays at most 40 ms, and not during a bulk transfer) sees a spurious,
 * harmless retransmission. Limited transmit (RFC 3042) lets the first two duplicate ACKs each send a
 * new segment, so a small window still gathers the three duplicates fast retransmit needs. RTT samples follow Karn's rule: none from a
 * retransmitted segment.
 */
final class TcpCongestion {
    /** RFC 6298 floor, lowered as the class says. */
    static final long MIN_RTO_NANOS = 20_000_000L;
    /** RFC 6298 ceiling (at least 60 s). */
    static final long MAX_RTO_NANOS = 60_000_000_000L;
    /** RFC 6298 2.1: before any sample. */
    static final long INITIAL_RTO_NANOS = 1_000_000_000L;
    /** Lowest tail loss probe timeout: a LAN's RTT samples are tens of microseconds and jitter more than that. */
    static final long MIN_PROBE_NANOS = 1_000_000L;
    /** Duplicate ACKs that trigger a fast retransmit. */
    static final int DUP_ACK_THRESHOLD = 3;

    private int mss;
    long cwnd;
    long ssthresh = Long.MAX_VALUE / 4;
    /** Bytes acknowledged in congestion avoidance since cwnd last grew. */
    private long avoidanceBytes;
    int dupAcks;
    boolean inRecovery;
    /** RFC 6582 "recover": the highest sequence offset sent when recovery began. */
    long recover;
    private long srtt;
    private long rttvar;
    long rto = INITIAL_RTO_NANOS;
    int backoff;

    /** Sets the MSS and the initial window of RFC 5681 3.1. */
    void start(final int sendMss) {
        mss = sendMss;
        cwnd = sendMss > 2190 ? 2L * sendMss : sendMss > 1095 ? 3L * sendMss : 4L * sendMss;
    }

    /** @return the window to send within now: cwnd, plus a segment per early duplicate ACK (RFC 3042) */
    long sendWindow() {
        return !inRecovery && dupAcks > 0 && dupAcks < DUP_ACK_THRESHOLD ? cwnd + (long) dupAcks * mss : cwnd;
    }

    int mss() {
        return mss;
    }

    /** An RTT sample (RFC 6298 2.2 and 2.3). */
    void sample(final long rttNanos) {
        final long r = Math.max(1, rttNanos);
        if (srtt == 0) {
            srtt = r;
            rttvar = r / 2;
        } else {
            rttvar = (3 * rttvar + Math.abs(srtt - r)) / 4;
            srtt = (7 * srtt + r) / 8;
        }
        backoff = 0;
        rto = Math.min(MAX_RTO_NANOS, Math.max(MIN_RTO_NANOS, srtt + Math.max(1_000_000L, 4 * rttvar)));
    }

    /** @return the RTO to arm now, backed off by each timeout since the last sample */
    long currentRto() {
        return Math.min(MAX_RTO_NANOS, rto << Math.min(backoff, 16));
    }

    /**
     * @return the tail loss probe's timeout (RFC 8985 7.2): two smoothed RTTs, at least
     *     {@value #MIN_PROBE_NANOS} ns; 0 before an RTT sample (no probe then)
     */
    long probeTimeout() {
        return srtt == 0 ? 0 : Math.max(MIN_PROBE_NANOS, 2 * srtt);
    }

    /** @return the smoothed RTT, 0 before a sample */
    long srtt() {
        return srtt;
    }

    /**
     * New data acknowledged.
     *
     * @param acked      bytes newly acknowledged
     * @param ackedTo    the new SND.UNA offset
     * @return true if this was a partial ACK in recovery: retransmit the next unacknowledged segment
     */
    boolean onNewAck(final long acked, final long ackedTo, final long flight) {
        dupAcks = 0;
        if (inRecovery) {
            if (ackedTo >= recover) {
                // full acknowledgement (RFC 6582 3.2 step 3): deflate
                inRecovery = false;
                cwnd = Math.min(ssthresh, Math.max(flight, mss) + mss);
                return false;
            }
            // partial: deflate by what was acked, add back one MSS, stay in recovery
            cwnd = Math.max(mss, cwnd - acked + mss);
            return true;
        }
        // byte counting (RFC 3465): a receiver that acknowledges a burst in one ACK (ours does, once per RX
        // burst; the kernel's does after GRO) must not slow the window's growth. Slow start counts every byte
        // acknowledged, as Linux does (RFC 3465's limit L is for receivers that split ACKs to cheat, not for LANs).
        if (cwnd < ssthresh) {
            cwnd += acked;
        } else {
            avoidanceBytes += acked; // congestion avoidance: one MSS per cwnd acknowledged (RFC 5681 3.1)
            if (avoidanceBytes >= cwnd) {
                avoidanceBytes -= cwnd;
                cwnd += mss;
            }
        }
        return false;
    }

    /**
     * A duplicate ACK.
     *
     * @param lost the peer's SACK blocks already show the first unacknowledged segment lost (RFC 6675 IsLost)
     * @return true on the third, or at once when {@code lost}: fast retransmit now
     */
    boolean onDuplicateAck(final long flight, final long highestSent, final boolean lost) {
        if (inRecovery) {
            cwnd += mss; // inflate (RFC 5681 3.2 step 4)
            return false;
        }
        if (++dupAcks == DUP_ACK_THRESHOLD || lost) {
            ssthresh = Math.max(flight / 2, 2L * mss);
            cwnd = ssthresh + 3L * mss;
            avoidanceBytes = 0;
            inRecovery = true;
            recover = highestSent;
            return true;
        }
        return false;
    }

    /** The retransmission timer fired (RFC 5681 eq. 4, RFC 6298 5.5). */
    void onTimeout(final long flight) {
        ssthresh = Math.max(flight / 2, 2L * mss);
        cwnd = mss;
        avoidanceBytes = 0;
        dupAcks = 0;
        inRecovery = false;
        backoff++;
    }
}
