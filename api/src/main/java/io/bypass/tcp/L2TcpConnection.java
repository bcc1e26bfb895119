package io.bypass.tcp;

import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.spi.ClaimOwner;
import io.bypass.spi.HotPathErrors;
import org.agrona.DirectBuffer;

/**
 * One connection of Bypass's own TCP ({@link L2TcpEndpoint}): the transmission control block of
 * RFC 9293 (sequence variables, windows, timers, buffers) and the application's calls. What happens
 * when a segment arrives is {@link TcpInput}'s job, what goes on the wire {@link TcpOutput}'s, the
 * congestion window and RTO {@link TcpCongestion}'s, and timer expiry {@link TcpTimers}'.
 *
 * <p>Received bytes: {@link #poll} first hands over bytes held in the connection's receive ring,
 * then polls the endpoint's RX queue and delivers this connection's in-order segments straight from
 * the received frame (zero copy) while nothing is held before them. Bytes that arrive for this
 * connection while another connection or the endpoint polls, or ahead of a hole, are copied into
 * the receive ring (bounded: its size is the window this side advertises, {@code rcvbuf}).
 *
 * <p>Sent bytes: {@link #tryClaim} points the claim into the send ring (or a scratch area copied in
 * at commit when the claim would wrap); the bytes stay there until acknowledged, for retransmission.
 * {@link #flush()} segments them by MSS within the congestion and peer windows and kicks the TX queue
 * once; what the windows hold back goes out as ACKs open them, while the endpoint is polled.
 */
final class L2TcpConnection implements TcpConnection, ClaimOwner {
    final L2TcpEndpoint endpoint;
    final Counters counters;
    final Counters.Writer localCounters;
    final int localAddress;
    final int localPort;
    final int remoteAddress;
    final int remotePort;
    final long key;
    /** The listener that made this connection (passive open), until it is accepted; else null. */
    L2TcpListener listener;
    /** Position in the endpoint's list of live connections, -1 once removed. */
    int slot = -1;

    TcpState state = TcpState.CLOSED;
    String closeReason;
    boolean appClosed;
    /** {@link #shutdownOutput()} was called: the FIN follows the queued bytes; bytes are still delivered. */
    boolean outputShut;
    boolean released;
    /** The rule steering this connection's segments, where the kernel keeps the address; null elsewhere. */
    io.bypass.FlowRule flow;
    /** Listed in the endpoint's {@link TcpPending} for the end of this burst. */
    boolean pendingListed;

    // send sequence space: stream offsets from 0 at ISS + 1
    int iss;
    long sndUna;
    long sndNxt;
    long sndMax;
    long sndWnd;
    int sndWl1;
    int sndWl2;
    int sndWscale;
    int sendMss;
    boolean finSent;
    boolean finInFlight;
    boolean finAcked;
    /** The application flushed: keep sending what the windows allow while the endpoint is polled. */
    boolean pushing;

    // receive sequence space
    int irs;
    int rcvWscale;
    /** Whether our SYN carries the window scale option: always on an active open, when the peer's did on a passive one. */
    boolean offerScale = true;
    /** Whether our SYN offers SACK: always on an active open, when the peer's did on a passive one. */
    boolean offerSack = true;
    /** Both SYNs offered SACK: our ACKs carry SACK blocks for the bytes held past a hole (RFC 2018). */
    boolean sackOk;
    /** The next ACK's first SACK block is a D-SACK (RFC 2883): a duplicate we received, [dsackLeft, dsackRight). */
    boolean dsackPending;
    int dsackLeft;
    int dsackRight;
    boolean finReceived;
    boolean ackPending;
    /** The pending ACK goes at the end of this burst even to the connection being polled (a filled hole, a FIN). */
    boolean ackUrgent;
    int unackedSegments;

    // timers (nanoseconds on the endpoint's clock, 0: not armed)
    long rtoDeadline;
    /** The tail loss probe's (RFC 8985 7): armed while more than a segment is in flight outside recovery. */
    long probeDeadline;
    long persistDeadline;
    long keepAliveDeadline;
    long timeWaitDeadline;
    long delayedAckDeadline;
    int retries;
    int keepAliveProbes;
    int persistBackoff;
    /** The last SYN could not go (no MAC yet): its retry is not a retransmission. */
    boolean synUnsent;
    long rttOffset = -1;
    long rttStart;

    final TcpCongestion congestion = new TcpCongestion();
    /** What the sender knows for repairing loss: the peer's SACK blocks, HighRxt, a timeout to undo. */
    final TcpLossRecovery loss = new TcpLossRecovery();
    TcpSendBuffer send;
    TcpReceiveBuffer receive;

    private long claimToken;
    private boolean claimed;
    private int claimLength;

    L2TcpConnection(final L2TcpEndpoint endpoint, final int localAddress, final int localPort, final int remoteAddress,
                    final int remotePort, final TcpSendBuffer send, final TcpReceiveBuffer receive) {
        this.endpoint = endpoint;
        this.counters = new Counters();
        this.localCounters = counters.newWriter();
        this.localAddress = localAddress;
        this.localPort = localPort;
        this.remoteAddress = remoteAddress;
        this.remotePort = remotePort;
        this.key = TcpTable.key(remoteAddress, remotePort, localPort);
        this.send = send;
        this.receive = receive;
    }

    /** Counts in this connection's counters and the endpoint's. */
    void count(final Counter counter) {
        localCounters.increment(counter);
        endpoint.count(counter, 1);
    }

    /** Adds to this connection's counters and the endpoint's. */
    void count(final Counter counter, final long delta) {
        localCounters.add(counter, delta);
        endpoint.count(counter, delta);
    }

    /** @return SND.UNA as a sequence number */
    int sndUnaSeq() {
        return synAcked() ? iss + 1 + (int) sndUna : iss;
    }

    /** @return the sequence number of stream offset {@code offset} */
    int seqOf(final long offset) {
        return iss + 1 + (int) offset;
    }

    /**
     * @return SND.NXT as a sequence number for a segment without data (an ACK, a RST): past our FIN once it
     *     is out or acknowledged, since the FIN takes a sequence number; a segment below that looks old to
     *     the peer, which drops it, ACK and window update included (RFC 9293 3.10.7.4)
     */
    int seqAfterSent() {
        return seqOf(sndNxt) + (finInFlight || finAcked ? 1 : 0);
    }

    /** @return SND.MAX as a sequence number: everything ever sent, SYN and FIN included */
    int sndMaxSeq() {
        return iss + 1 + (int) sndMax + (finSent ? 1 : 0);
    }

    /** @return RCV.NXT */
    int rcvNxt() {
        return irs + 1 + (int) receive.nextOffset() + (finReceived ? 1 : 0);
    }

    boolean synAcked() {
        return state != TcpState.SYN_SENT && state != TcpState.SYN_RECEIVED && state != TcpState.CLOSED
            || sndMax > 0 || finSent;
    }

    /** @return bytes sent and not acknowledged */
    long flight() {
        return sndNxt - sndUna;
    }

    /** The window to advertise, scaled. */
    int advertisedWindow() {
        return Math.min(0xFFFF, receive.window() >>> rcvWscale);
    }

    /** Moves to CLOSED for {@code reason} (unless a reason was already given) and leaves the endpoint. */
    void closed(final String reason) {
        if (closeReason == null) {
            closeReason = reason;
        }
        if (state != TcpState.CLOSED) {
            state = TcpState.CLOSED;
            count(Counter.TCP_CLOSED);
        }
        rtoDeadline = 0;
        probeDeadline = 0;
        persistDeadline = 0;
        keepAliveDeadline = 0;
        timeWaitDeadline = 0;
        delayedAckDeadline = 0;
        endpoint.release(this);
    }

    /** {@inheritDoc} */
    @Override
    public TcpState state() {
        return state;
    }

    /** {@inheritDoc} */
    @Override
    public int poll(final TcpHandler handler, final int limit) {
        if (state == TcpState.CLOSED && (released || receive.buffered() == 0)) {
            return CLOSED;
        }
        int calls = 0;
        if (!appClosed && receive.buffered() > 0) {
            calls = deliverHeld(handler, limit);
        }
        if (!endpoint.isClosed()) {
            calls += endpoint.pollFor(this, handler, Math.max(0, limit - calls));
        }
        if (!appClosed && !released && calls < limit && receive.buffered() > 0) {
            calls += deliverHeld(handler, limit - calls); // bytes held past a hole this poll's segment filled
        }
        return calls;
    }

    /** Hands held bytes over and, if that opened the window a lot, tells the peer. */
    int deliverHeld(final TcpHandler handler, final int limit) {
        final int before = receive.buffered();
        final int wasWindow = receive.window();
        final int calls = receive.deliver(handler, limit);
        final int taken = before - receive.buffered();
        count(Counter.TCP_BYTES_IN, taken);
        // a window update once the window has grown by two segments or half the ring (RFC 9293 3.8.6.2.2)
        if (taken > 0 && state.ordinal() >= TcpState.ESTABLISHED.ordinal()
            && (wasWindow < sendMss * 2 && receive.window() >= sendMss * 2 || receive.window() - wasWindow >= receive.ring().capacity() / 2)) {
            ackPending = true;
            endpoint.ackLater(this);
        }
        return calls;
    }

    /** {@inheritDoc} */
    @Override
    public int tryClaim(final int length, final TcpClaim claim) {
        if (length < 0) {
            throw HotPathErrors.negativeLength(length);
        }
        final int status = sendable();
        if (status != OK) {
            return status;
        }
        if (length > send.maxClaim()) {
            return TOO_LONG;
        }
        if (length > send.room()) {
            count(Counter.TX_BACK_PRESSURED);
            return BACK_PRESSURED;
        }
        claimed = true;
        claimLength = length;
        claim.wrap(this, ++claimToken, send.claimAddress(length), length);
        return OK;
    }

    private int sendable() {
        if (state == TcpState.SYN_SENT || state == TcpState.SYN_RECEIVED) {
            return NOT_CONNECTED;
        }
        if (appClosed || !state.canSend()) {
            return CLOSED;
        }
        return OK;
    }

    /** {@inheritDoc} */
    @Override
    public void commit(final long token, final int length) {
        if (!claimed || token != claimToken) {
            return;
        }
        claimed = false;
        if (sendable() == OK && length <= claimLength) {
            send.commit(length);
        }
    }

    /** {@inheritDoc} */
    @Override
    public void abort(final long token) {
        if (token == claimToken) {
            claimed = false;
        }
    }

    /** {@inheritDoc} */
    @Override
    public int send(final DirectBuffer buffer, final int offset, final int length) {
        if (length < 0) {
            throw HotPathErrors.negativeLength(length);
        }
        final int status = sendable();
        if (status != OK) {
            return status;
        }
        if (length > send.maxClaim()) {
            return TOO_LONG;
        }
        if (length > send.room()) {
            count(Counter.TX_BACK_PRESSURED);
            return BACK_PRESSURED;
        }
        send.append(buffer, offset, length);
        return OK;
    }

    /** {@inheritDoc} */
    @Override
    public int flush() {
        if (state == TcpState.SYN_SENT || state == TcpState.SYN_RECEIVED) {
            return NOT_CONNECTED;
        }
        if (state == TcpState.CLOSED || released) {
            return CLOSED;
        }
        final long queuedBefore = send.end() - sndMax;
        if (queuedBefore == 0) {
            return 0;
        }
        pushing = true;
        final long before = sndMax;
        endpoint.output().send(this, endpoint.nanoTime());
        endpoint.output().flush();
        final int sent = (int) (sndMax - before);
        if (sent < queuedBefore) {
            count(Counter.TCP_SEND_BACK_PRESSURED);
        }
        return sent == 0 ? BACK_PRESSURED : sent;
    }

    /** {@inheritDoc} */
    @Override
    public int queuedBytes() {
        return (int) (send.end() - sndMax);
    }

    /** {@inheritDoc} */
    @Override
    public int maxClaimLength() {
        return send.maxClaim();
    }

    /** {@inheritDoc} */
    @Override
    public int localAddress() {
        return localAddress;
    }

    /** {@inheritDoc} */
    @Override
    public int localPort() {
        return localPort;
    }

    /** {@inheritDoc} */
    @Override
    public int remoteAddress() {
        return remoteAddress;
    }

    /** {@inheritDoc} */
    @Override
    public int remotePort() {
        return remotePort;
    }

    /** {@inheritDoc} */
    @Override
    public String closeReason() {
        return closeReason;
    }

    /** {@inheritDoc} */
    @Override
    public Counters counters() {
        return counters;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Bytes received and not yet read are discarded at once (counted).
     */
    @Override
    public void close() {
        if (appClosed || state == TcpState.CLOSED) {
            return;
        }
        appClosed = true;
        final int unread = receive.buffered();
        if (unread > 0) {
            count(Counter.TCP_BYTES_DISCARDED, unread);
            receive.discard();
        }
        if (closeReason == null) {
            closeReason = "closed";
        }
        switch (state) {
            case SYN_SENT -> closed("closed");
            case SYN_RECEIVED, ESTABLISHED -> state = TcpState.FIN_WAIT_1;
            case CLOSE_WAIT -> state = TcpState.LAST_ACK;
            default -> {
            }
        }
        pushing = true;
        if (!released) {
            endpoint.output().send(this, endpoint.nanoTime());
            endpoint.output().flush();
        }
    }

    /** {@inheritDoc} */
    @Override
    public int shutdownOutput() {
        if (appClosed || state == TcpState.CLOSED) {
            return CLOSED;
        }
        if (state == TcpState.SYN_SENT || state == TcpState.SYN_RECEIVED) {
            return NOT_CONNECTED;
        }
        if (!outputShut) {
            outputShut = true;
            if (state == TcpState.ESTABLISHED) {
                state = TcpState.FIN_WAIT_1;
            } else if (state == TcpState.CLOSE_WAIT) {
                state = TcpState.LAST_ACK;
            }
            pushing = true;
            if (!released) {
                endpoint.output().send(this, endpoint.nanoTime());
                endpoint.output().flush();
            }
        }
        return OK;
    }

    /** {@inheritDoc} */
    @Override
    public void abort() {
        if (state == TcpState.CLOSED) {
            return;
        }
        if (state != TcpState.SYN_SENT && !released) {
            endpoint.output().reset(this);
            endpoint.output().flush();
            count(Counter.TCP_RESETS_SENT);
        }
        closeReason = "aborted";
        closed("aborted");
    }

    /**
     * The endpoint is closing: one last send of what the windows allow, then a FIN (a RST if bytes
     * received were never read), and CLOSED "endpoint closed" - unless {@code linger}, where a connection
     * that sent a FIN stays until the endpoint has waited for its acknowledgement.
     */
    void endpointClosed(final long now, final boolean linger) {
        final TcpState s = state;
        if (s == TcpState.ESTABLISHED || s == TcpState.CLOSE_WAIT || s == TcpState.FIN_WAIT_1 || s == TcpState.LAST_ACK
            || s == TcpState.CLOSING) {
            if (receive.buffered() > 0) {
                endpoint.output().reset(this);
                count(Counter.TCP_RESETS_SENT);
            } else {
                appClosed = true;
                state = s == TcpState.CLOSE_WAIT ? TcpState.LAST_ACK : s == TcpState.ESTABLISHED ? TcpState.FIN_WAIT_1 : s;
                pushing = true;
                endpoint.output().send(this, now);
                closeReason = "endpoint closed";
                if (linger) {
                    return;
                }
            }
        }
        closeReason = "endpoint closed";
        closed("endpoint closed");
    }

    @Override
    public String toString() {
        return "L2TcpConnection[" + io.bypass.net.Ipv4.toString(localAddress) + ":" + localPort + " -> "
            + io.bypass.net.Ipv4.toString(remoteAddress) + ":" + remotePort + " " + state + " una=" + sndUna + " nxt=" + sndNxt
            + " max=" + sndMax + " end=" + send.end() + " wnd=" + sndWnd + " cwnd=" + congestion.cwnd + " ssthresh=" + congestion.ssthresh
            + " recovery=" + congestion.inRecovery + " rto=" + congestion.currentRto() + " rtoAt=" + (rtoDeadline == 0 ? 0 : rtoDeadline - endpoint.nanoTime())
            + " retries=" + retries + " rcvNxt=" + receive.nextOffset() + " read=" + receive.readOffset() + " rwnd=" + receive.window()
            + " ooo=" + receive.describeRanges() + " pushing=" + pushing + "]";
    }
}
