package io.bypass.tcp;

import io.bypass.Counter;
import io.bypass.net.Tcp;
import org.agrona.DirectBuffer;

/**
 * What a connection does when a segment arrives: RFC 9293 section 3.10.7.3 (SYN-SENT) and 3.10.7.4
 * (every synchronized state): the acceptability test, RST (RFC 5961: only at RCV.NXT, else a
 * challenge ACK), SYN in a synchronized state (a challenge ACK), the ACK (new data acknowledged,
 * duplicates counted for fast retransmit, the send window updated), the payload (delivered in
 * place, held, or discarded after close) and the FIN. Stateless: the state is the connection's.
 */
final class TcpInput {
    private final L2TcpEndpoint endpoint;
    private final TcpOutput out;
    private int calls;

    TcpInput(final L2TcpEndpoint endpoint, final TcpOutput out) {
        this.endpoint = endpoint;
        this.out = out;
    }

    /**
     * Handles one segment for {@code c}.
     *
     * @param handler the polling application's handler when {@code c} is the connection being polled, else null
     * @param limit   most handler calls left
     * @return handler calls made (bytes delivered in place)
     */
    int arrives(final L2TcpConnection c, final Tcp seg, final DirectBuffer frame, final long now, final TcpHandler handler,
                final int limit) {
        calls = 0;
        if (endpoint.keepAliveNanos() > 0) {
            c.keepAliveDeadline = now + endpoint.keepAliveNanos();
            c.keepAliveProbes = 0;
        }
        if (c.state == TcpState.SYN_SENT) {
            synSent(c, seg, frame, now);
            return 0;
        }
        synchronizedState(c, seg, frame, now, handler, limit);
        return calls;
    }

    /** Reads the peer's SYN options: MSS (536 when absent, RFC 9293 3.7.1) clamped to the link, and window scaling. */
    void peerSyn(final L2TcpConnection c, final Tcp seg) {
        c.irs = seg.sequence();
        final int peerMss = seg.mss() > 0 ? seg.mss() : 536;
        c.sendMss = Math.max(64, Math.min(peerMss, out.linkMss()));
        c.sackOk = c.offerSack && seg.sackPermitted();
        if (seg.windowScale() >= 0 && c.offerScale) {
            c.sndWscale = seg.windowScale();
        } else {
            c.sndWscale = 0;
            c.rcvWscale = 0; // RFC 7323 1.3: scaling is on only when both SYNs carry the option
        }
    }

    private void synSent(final L2TcpConnection c, final Tcp seg, final DirectBuffer frame, final long now) {
        final int flags = seg.flags();
        final boolean hasAck = (flags & Tcp.ACK) != 0;
        if (hasAck && seg.acknowledgement() != c.iss + 1) {
            if ((flags & Tcp.RST) == 0) {
                out.resetFor(frame, endpoint.sourceMac(), c.remoteAddress, seg);
            }
            return;
        }
        if ((flags & Tcp.RST) != 0) {
            if (hasAck) {
                c.count(Counter.TCP_CONNECT_REFUSED);
                c.closed("refused");
            }
            return;
        }
        if ((flags & Tcp.SYN) == 0) {
            return;
        }
        peerSyn(c, seg);
        if (hasAck) {
            established(c, seg, now);
            out.ack(c);
        } else {
            c.state = TcpState.SYN_RECEIVED; // simultaneous open (RFC 9293 3.5, figure 7)
            c.rtoDeadline = 0;
            out.syn(c, now);
        }
    }

    /** SYN-SENT or SYN-RECEIVED to ESTABLISHED. */
    void established(final L2TcpConnection c, final Tcp seg, final long now) {
        c.state = TcpState.ESTABLISHED;
        c.sndWnd = (long) seg.window() << ((seg.flags() & Tcp.SYN) != 0 ? 0 : c.sndWscale);
        c.sndWl1 = seg.sequence();
        c.sndWl2 = seg.acknowledgement();
        c.congestion.start(c.sendMss);
        if (c.retries == 0 && c.rttStart != 0) {
            c.congestion.sample(now - c.rttStart); // the SYN's round trip (Karn: only if it was never resent)
        }
        c.rttStart = 0;
        c.retries = 0;
        c.rtoDeadline = 0;
        c.count(Counter.TCP_ESTABLISHED);
        if (endpoint.keepAliveNanos() > 0) {
            c.keepAliveDeadline = now + endpoint.keepAliveNanos();
        }
        if (c.listener != null) {
            c.listener.ready(c);
        }
    }

    private boolean acceptable(final int seq, final int segLength, final int rcvNxt, final int window) {
        if (segLength == 0) {
            return window == 0 ? seq == rcvNxt : seq - rcvNxt >= 0 && seq - rcvNxt < window;
        }
        if (window == 0) {
            return false;
        }
        final int last = seq + segLength - 1;
        return seq - rcvNxt >= 0 && seq - rcvNxt < window || last - rcvNxt >= 0 && last - rcvNxt < window;
    }

    private void synchronizedState(final L2TcpConnection c, final Tcp seg, final DirectBuffer frame, final long now,
                                   final TcpHandler handler, final int limit) {
        final int flags = seg.flags();
        final int seq = seg.sequence();
        final int length = seg.payloadLength();
        final int segLength = length + ((flags & Tcp.SYN) != 0 ? 1 : 0) + ((flags & Tcp.FIN) != 0 ? 1 : 0);
        final int rcvNxt = c.rcvNxt();
        if (c.state == TcpState.SYN_RECEIVED && (flags & Tcp.SYN) != 0 && (flags & Tcp.ACK) == 0 && seq == c.irs) {
            c.rtoDeadline = 0;
            out.syn(c, now); // our SYN-ACK was lost: the peer sent its SYN again
            return;
        }
        if (!acceptable(seq, segLength, rcvNxt, c.receive.window())) {
            if ((flags & Tcp.RST) == 0) {
                if (length > 0 && c.sackOk && seq + length - rcvNxt <= 0) {
                    // a duplicate of bytes we hold: say so in a D-SACK block (RFC 2883), whose sender may undo a timeout
                    c.dsackLeft = seq;
                    c.dsackRight = seq + length;
                    c.dsackPending = true;
                }
                out.ack(c);
                if (c.state == TcpState.TIME_WAIT && (flags & Tcp.FIN) != 0) {
                    c.timeWaitDeadline = now + endpoint.timeWaitNanos();
                }
            }
            c.count(Counter.DROP_TCP_OUT_OF_WINDOW);
            return;
        }
        if ((flags & Tcp.RST) != 0) {
            if (seq != rcvNxt) {
                out.ack(c); // RFC 5961 3.2: a challenge ACK
                return;
            }
            if (c.state == TcpState.SYN_RECEIVED && c.listener != null) {
                c.closed("reset by peer");
                return;
            }
            if (c.state == TcpState.TIME_WAIT) {
                // Both FINs were sent and acknowledged: the connection ended normally. A RST now (the peer's
                // stack answering a late segment of ours after it deleted its side) only cuts the wait short
                // (RFC 9293 3.10.7.4), unless bytes the application has not read are still held here, which
                // a close would lose: then it is ignored (RFC 1337), and the wait goes on until they are read.
                if (c.appClosed || c.receive.buffered() == 0) {
                    c.closed("closed");
                }
                return;
            }
            c.count(Counter.TCP_RESETS_RECEIVED);
            c.receive.discard();
            c.closeReason = c.closeReason == null || "closed by peer".equals(c.closeReason) ? "reset by peer" : c.closeReason;
            c.closed("reset by peer");
            return;
        }
        if ((flags & Tcp.SYN) != 0) {
            out.ack(c); // RFC 5961 4.2: a SYN in a synchronized state gets a challenge ACK
            return;
        }
        if ((flags & Tcp.ACK) == 0) {
            return;
        }
        if (c.state == TcpState.SYN_RECEIVED) {
            final int ack = seg.acknowledgement();
            if (ack != c.iss + 1) {
                out.resetFor(frame, endpoint.sourceMac(), c.remoteAddress, seg);
                return;
            }
            established(c, seg, now);
        }
        if (!acknowledge(c, seg, length, flags, now)) {
            return;
        }
        if (c.state == TcpState.CLOSED) {
            return;
        }
        if (length > 0) {
            data(c, seg, frame, handler, limit);
        }
        if ((flags & Tcp.FIN) != 0 && !c.finReceived && seq + length == c.rcvNxt()) {
            fin(c, now);
        }
    }

    /** @return false if the segment goes no further */
    private boolean acknowledge(final L2TcpConnection c, final Tcp seg, final int length, final int flags, final long now) {
        final int ack = seg.acknowledgement();
        final int una = c.sndUnaSeq();
        final int max = c.sndMaxSeq();
        final TcpCongestion cc = c.congestion;
        if (c.loss.undoOffset >= 0) {
            undoSpuriousTimeout(c, seg, ack);
        }
        final boolean newlySacked = c.sackOk && seg.sackBlocks() > 0 && ack - max <= 0 && absorbSack(c, seg, una, max);
        if (ack - una > 0 && ack - max <= 0) {
            long newUna = c.sndUna + (ack - una);
            if (c.finSent && ack == max) {
                c.finAcked = true;
                c.finInFlight = false;
                newUna = c.sndMax;
            }
            final long acked = newUna - c.sndUna;
            if (c.rttOffset >= 0 && newUna >= c.rttOffset) {
                cc.sample(now - c.rttStart);
                c.rttOffset = -1;
            }
            c.send.acknowledge(newUna);
            c.loss.acknowledge(newUna);
            c.sndUna = newUna;
            if (c.sndNxt < newUna) {
                c.sndNxt = newUna;
            }
            c.retries = 0;
            cc.backoff = 0;
            final boolean partial = cc.onNewAck(acked, newUna, c.flight());
            c.rtoDeadline = c.sndUna == c.sndMax && (!c.finSent || c.finAcked) ? 0 : now + cc.currentRto();
            out.armProbe(c, now);
            if (partial) {
                // RFC 6582 resends the first unacknowledged segment; with SACK it may be in flight already
                if (!c.sackOk || c.loss.highRxt <= c.sndUna) {
                    out.retransmitFirst(c, now);
                } else {
                    out.retransmitNextHole(c, now);
                }
            }
            endpoint.touched(c);
        } else if (ack == una) {
            // a duplicate ACK (RFC 5681 2): no data, no FIN, the same window; with SACK, any ACK that SACKs new
            // bytes (RFC 6675 2), as a receiver holding bytes out of order may shrink its window meanwhile
            if (length == 0 && (flags & Tcp.FIN) == 0 && c.sndMax > c.sndUna
                && (newlySacked || ((long) seg.window() << c.sndWscale) == c.sndWnd)) {
                if (c.sackOk && resendLost(c)) {
                    out.retransmitFirst(c, now);
                } else if (cc.inRecovery && c.sackOk && out.retransmitNextHole(c, now)) {
                    c.count(Counter.TCP_SACK_RETRANSMITS); // this duplicate's segment is a repaired hole, not new data
                } else if (cc.onDuplicateAck(c.sndMax - c.sndUna, c.sndMax, newlySacked && lostAtUna(c))) {
                    c.count(Counter.TCP_FAST_RETRANSMITS);
                    c.loss.highRxt = c.sndUna;
                    out.retransmitFirst(c, now);
                }
            }
            if (c.sndMax > c.sndUna) {
                endpoint.touched(c); // limited transmit, or the inflated window in recovery, may let a new segment go
            }
        } else if (ack - max > 0) {
            out.ack(c); // acknowledges something not yet sent
            return false;
        }
        final int seq = seg.sequence();
        if (c.sndWl1 - seq < 0 || c.sndWl1 == seq && c.sndWl2 - ack <= 0) {
            final long wnd = (long) seg.window() << c.sndWscale;
            if (wnd > c.sndWnd) {
                endpoint.touched(c);
            }
            c.sndWnd = wnd;
            c.sndWl1 = seq;
            c.sndWl2 = ack;
            if (wnd > 0) {
                c.persistDeadline = 0;
                c.persistBackoff = 0;
            }
        }
        if (c.finAcked) {
            switch (c.state) {
                case FIN_WAIT_1 -> c.state = TcpState.FIN_WAIT_2;
                case CLOSING -> timeWait(c, now);
                case LAST_ACK -> {
                    c.closed("closed");
                    return false;
                }
                default -> {
                }
            }
        }
        return true;
    }

    /**
     * Records the peer's SACK blocks in the scoreboard, as stream offsets. A block not wholly above
     * SND.UNA and at most SND.MAX (a D-SACK, RFC 2883, or a stale or forged one) is ignored.
     */
    private static boolean absorbSack(final L2TcpConnection c, final Tcp seg, final int una, final int max) {
        final long before = c.loss.sackedBytes();
        for (int k = 0; k < seg.sackBlocks(); k++) {
            final int left = seg.sackLeft(k);
            final int right = seg.sackRight(k);
            if (left - una > 0 && right - left > 0 && right - max <= 0) {
                c.loss.add(c.sndUna + (left - una), c.sndUna + (right - una));
            }
        }
        return c.loss.sackedBytes() > before;
    }

    /**
     * Undoes a retransmission timeout the peer shows was spurious (RFC 3708 with RFC 2883's D-SACK, the
     * response of RFC 4015): its first SACK block below the ACK is exactly the segment the timeout resent,
     * so the original had arrived and only its ACK was late (a peer's delayed ACK, up to 200 ms on Linux,
     * outlasts our 20 ms floor when an ACK before it is lost). The window and threshold go back to what
     * they were, and what the timeout would have resent is not. An ACK past that segment without the
     * D-SACK ends the chance.
     */
    private static void undoSpuriousTimeout(final L2TcpConnection c, final Tcp seg, final int ack) {
        final int resent = c.seqOf(c.loss.undoOffset);
        if (c.sackOk && seg.sackBlocks() > 0 && seg.sackLeft(0) == resent && seg.sackRight(0) == resent + c.loss.undoLength
            && seg.sackLeft(0) - ack < 0) {
            final TcpCongestion cc = c.congestion;
            cc.cwnd = Math.max(cc.cwnd, c.loss.undoCwnd);
            cc.ssthresh = Math.max(cc.ssthresh, c.loss.undoSsthresh);
            cc.backoff = 0;
            c.sndNxt = Math.max(c.sndNxt, c.sndMax);
            c.loss.undoOffset = -1;
            c.count(Counter.TCP_SPURIOUS_TIMEOUTS_UNDONE);
        } else if (ack - (resent + c.loss.undoLength) >= 0) {
            c.loss.undoOffset = -1;
        }
    }

    /**
     * RFC 6675 IsLost(SND.UNA): the peer holds more than {@code (DupThresh - 1) * SMSS} bytes, or
     * DupThresh separate ranges, above it. A small window, whose few segments past a loss never make
     * three duplicates, still starts fast recovery instead of waiting for the timer.
     */
    private static boolean lostAtUna(final L2TcpConnection c) {
        final long sacked = c.loss.sackedBytes();
        return c.loss.ranges() >= TcpCongestion.DUP_ACK_THRESHOLD
            || sacked > (long) (TcpCongestion.DUP_ACK_THRESHOLD - 1) * c.sendMss
            // early retransmit (RFC 5827): a window too small for three duplicates, all of it past the first segment held
            || sacked >= c.sendMss && sacked >= c.flight() - c.sendMss;
    }

    /**
     * In recovery, the peer SACKed bytes we sent after the first unacknowledged segment was last resent,
     * yet that segment is still unacknowledged: the resend was lost too (the idea of RFC 8985's RACK), and
     * goes again now rather than after a timeout.
     */
    private static boolean resendLost(final L2TcpConnection c) {
        return c.congestion.inRecovery && c.loss.highRxt > c.sndUna && c.loss.highest() > c.loss.rtxMark;
    }

    private void data(final L2TcpConnection c, final Tcp seg, final DirectBuffer frame, final TcpHandler handler, final int limit) {
        final TcpState s = c.state;
        if (s != TcpState.ESTABLISHED && s != TcpState.FIN_WAIT_1 && s != TcpState.FIN_WAIT_2) {
            return; // the peer's FIN came before: nothing after it is data
        }
        final TcpReceiveBuffer r = c.receive;
        final int length = seg.payloadLength();
        final long next = r.nextOffset();
        final long offset = next + (seg.sequence() - c.rcvNxt());
        final boolean hadHole = r.hasOutOfOrder();
        if (c.appClosed) {
            if (offset <= next && offset + length > next) {
                final int n = (int) Math.min(offset + length - next, r.window());
                r.skip(n);
                c.count(Counter.TCP_BYTES_DISCARDED, n);
            }
            ackNow(c);
            return;
        }
        if (handler != null && calls < limit && r.buffered() == 0 && offset <= next && offset + length > next) {
            final int skip = (int) (next - offset);
            final int n = Math.min(length - skip, r.window());
            r.consumedInPlace(n);
            c.count(Counter.TCP_BYTES_IN, n);
            calls++;
            handler.onData(frame, seg.payloadOffset() + skip, n);
            inOrder(c, hadHole);
            return;
        }
        final int result = r.write(offset, frame, seg.payloadOffset(), length);
        if (result > 0) {
            inOrder(c, hadHole);
        } else {
            if (result == 0) {
                c.count(Counter.TCP_OUT_OF_ORDER_SEGMENTS);
            }
            out.ack(c); // a duplicate ACK at once, one per segment, for a hole (RFC 5681 4.2), or the answer to a duplicate
        }
    }

    private void inOrder(final L2TcpConnection c, final boolean hadHole) {
        if (hadHole || !endpoint.delayedAck() || ++c.unackedSegments >= 2) {
            c.ackUrgent |= hadHole; // a filled hole is acknowledged at once (RFC 5681 4.2), never left to the reply
            ackNow(c);
        } else {
            c.ackPending = true;
            if (c.delayedAckDeadline == 0) {
                c.delayedAckDeadline = endpoint.nanoTime() + L2TcpEndpoint.DELAYED_ACK_NANOS;
            }
        }
    }

    /** The ACK goes at the end of this RX burst, once per connection, or with data sent meanwhile. */
    private void ackNow(final L2TcpConnection c) {
        c.ackPending = true;
        endpoint.ackLater(c);
    }

    private void fin(final L2TcpConnection c, final long now) {
        c.finReceived = true;
        c.count(Counter.TCP_FINS_RECEIVED);
        c.ackUrgent = true;
        ackNow(c);
        switch (c.state) {
            case ESTABLISHED -> {
                c.state = TcpState.CLOSE_WAIT;
                if (c.closeReason == null) {
                    c.closeReason = "closed by peer";
                }
            }
            case FIN_WAIT_1 -> {
                if (c.finAcked) {
                    timeWait(c, now);
                } else {
                    c.state = TcpState.CLOSING; // simultaneous close (RFC 9293 3.6, figure 13)
                }
            }
            case FIN_WAIT_2 -> timeWait(c, now);
            default -> {
            }
        }
    }

    private void timeWait(final L2TcpConnection c, final long now) {
        c.state = TcpState.TIME_WAIT;
        c.rtoDeadline = 0;
        c.persistDeadline = 0;
        c.keepAliveDeadline = 0;
        c.timeWaitDeadline = now + Math.max(1, endpoint.timeWaitNanos());
    }
}
