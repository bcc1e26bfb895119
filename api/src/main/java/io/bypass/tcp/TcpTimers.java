package io.bypass.tcp;

import io.bypass.Counter;

/**
 * A connection's timers, run by the endpoint's poll when the earliest is due
 * ({@link #nextDeadline}): retransmission (RFC 6298 5.4 to 5.7: back off, resend
 * the first unacknowledged segment, go back to it; SYNs up to {@value #SYN_RETRIES} times, data up
 * to {@value #DATA_RETRIES} times, then CLOSED "timed out"), persist (zero-window probes, backed
 * off to at most {@value #MAX_PERSIST_NANOS} ns apart), keepalive (a probe every keepAliveMs of
 * idleness, CLOSED "timed out" after {@value #KEEPALIVE_PROBES} unanswered), TIME_WAIT's end and
 * a delayed ACK.
 */
final class TcpTimers {
    /** SYN (or SYN-ACK) retransmissions before giving up: 1+2+4+8+16+32 s, Linux's tcp_syn_retries. */
    static final int SYN_RETRIES = 6;
    /** Data retransmissions before giving up: about 50 s from a 200 ms RTO. */
    static final int DATA_RETRIES = 8;
    /** Unanswered keepalive probes before giving up (Linux's tcp_keepalive_probes). */
    static final int KEEPALIVE_PROBES = 9;
    /** Longest gap between zero-window probes. */
    static final long MAX_PERSIST_NANOS = 5_000_000_000L;

    private final TcpOutput out;
    private final L2TcpEndpoint endpoint;

    TcpTimers(final L2TcpEndpoint endpoint, final TcpOutput out) {
        this.endpoint = endpoint;
        this.out = out;
    }

    /** @return {@code c}'s earliest armed deadline, or Long.MAX_VALUE */
    static long nextDeadline(final L2TcpConnection c) {
        long d = Long.MAX_VALUE;
        d = min(d, c.rtoDeadline);
        d = min(d, c.probeDeadline);
        d = min(d, c.persistDeadline);
        d = min(d, c.keepAliveDeadline);
        d = min(d, c.timeWaitDeadline);
        return min(d, c.delayedAckDeadline);
    }

    private static long min(final long d, final long deadline) {
        return deadline != 0 && deadline < d ? deadline : d;
    }

    /** Runs every timer of {@code c} that is due at {@code now}. */
    void run(final L2TcpConnection c, final long now) {
        if (c.timeWaitDeadline != 0 && now >= c.timeWaitDeadline) {
            if (!c.appClosed && c.receive.buffered() > 0) {
                c.timeWaitDeadline = now + Math.max(1, endpoint.timeWaitNanos()); // a half-close's last bytes, not yet read
            } else {
                c.closed("closed");
                return;
            }
        }
        if (c.rtoDeadline != 0 && now >= c.rtoDeadline) {
            c.rtoDeadline = 0;
            retransmit(c, now);
            if (c.state == TcpState.CLOSED) {
                return;
            }
        }
        if (c.probeDeadline != 0 && now >= c.probeDeadline) {
            c.probeDeadline = 0;
            out.probeTail(c, now);
        }
        if (c.persistDeadline != 0 && now >= c.persistDeadline) {
            c.persistDeadline = 0;
            if (c.sndWnd == 0 && c.send.end() > c.sndNxt && c.flight() == 0) {
                out.probe(c);
                c.count(Counter.TCP_ZERO_WINDOW_PROBES);
                c.persistBackoff = Math.min(c.persistBackoff + 1, 16);
                c.persistDeadline = now + Math.min(MAX_PERSIST_NANOS, c.congestion.currentRto() << c.persistBackoff);
            }
        }
        if (c.keepAliveDeadline != 0 && now >= c.keepAliveDeadline) {
            keepAlive(c, now);
            if (c.state == TcpState.CLOSED) {
                return;
            }
        }
        if (c.delayedAckDeadline != 0 && now >= c.delayedAckDeadline) {
            c.delayedAckDeadline = 0;
            if (c.ackPending) {
                out.ack(c);
            }
        }
    }

    private void retransmit(final L2TcpConnection c, final long now) {
        if (c.state == TcpState.SYN_SENT || c.state == TcpState.SYN_RECEIVED) {
            if (c.synUnsent) {
                out.syn(c, now); // no MAC yet: try again soon, not counted as a retry
                return;
            }
            if (++c.retries > SYN_RETRIES) {
                if (c.state == TcpState.SYN_SENT) {
                    c.count(Counter.TCP_CONNECT_FAILED);
                    c.count(Counter.TCP_TIMEOUTS);
                }
                c.closed("timed out");
                return;
            }
            c.congestion.backoff++;
            c.count(Counter.TCP_RETRANSMITTED_SEGMENTS);
            c.rttStart = 0;
            out.syn(c, now);
            return;
        }
        if (c.sndUna == c.sndMax && (!c.finSent || c.finAcked)) {
            return;
        }
        if (++c.retries > DATA_RETRIES) {
            c.count(Counter.TCP_TIMEOUTS);
            c.receive.discard();
            c.closeReason = "timed out";
            c.closed("timed out");
            return;
        }
        c.count(Counter.TCP_RETRANSMIT_TIMEOUTS);
        c.probeDeadline = 0;
        final long cwndBefore = c.congestion.cwnd;
        final long ssthreshBefore = c.congestion.ssthresh;
        c.congestion.onTimeout(c.flight());
        if (c.retries > 1) {
            c.loss.clear(); // RFC 2018 8: a receiver may renege; a second timeout in a row trusts no block
        }
        c.loss.highRxt = c.sndUna;
        c.sndNxt = c.sndUna; // go back: everything after the first segment is resent as the window reopens
        c.finInFlight = false;
        out.retransmitFirst(c, now);
        // the first timeout of a run may be spurious: keep what a D-SACK of this segment would restore
        c.loss.undoOffset = c.retries == 1 && c.sndMax > c.sndUna ? c.sndUna : -1;
        c.loss.undoLength = (int) Math.min(c.sendMss, c.sndMax - c.sndUna);
        c.loss.undoCwnd = cwndBefore;
        c.loss.undoSsthresh = ssthreshBefore;
        endpoint.touched(c);
    }

    private void keepAlive(final L2TcpConnection c, final long now) {
        c.keepAliveDeadline = now + endpoint.keepAliveNanos();
        if ((c.state != TcpState.ESTABLISHED && c.state != TcpState.CLOSE_WAIT) || c.flight() > 0) {
            return;
        }
        if (c.keepAliveProbes >= KEEPALIVE_PROBES) {
            c.count(Counter.TCP_TIMEOUTS);
            c.closeReason = "timed out";
            c.closed("timed out");
            return;
        }
        c.keepAliveProbes++;
        c.count(Counter.TCP_KEEPALIVE_PROBES);
        out.probe(c);
    }
}
