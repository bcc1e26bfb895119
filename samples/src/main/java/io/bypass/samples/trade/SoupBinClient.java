package io.bypass.samples.trade;

import io.bypass.samples.codec.SoupBinTcp;
import io.bypass.samples.codec.SoupBinTcpStream;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.tcp.TcpState;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * The client side of a SoupBinTCP 3.00 session, as {@code trade} runs it to the exchange: connect
 * (retrying a refused open until a deadline), Login Request, wait for Login Accepted (or Rejected),
 * then Unsequenced Data out and Sequenced Data in, a Client Heartbeat after each second with
 * nothing sent, and the link taken for dead when the server is silent past a timeout. Logout
 * Request at the end, then wait for the server's close or End of Session.
 *
 * <p>Driven by {@link #doWork(long)} from the polling thread; allocation-free once logged in.
 */
final class SoupBinClient implements SoupBinTcpStream.PacketHandler {
    /** Receives each Sequenced Data message. */
    @FunctionalInterface
    interface SequencedHandler {
        /**
         * @param buffer   the message's bytes, valid only during the call
         * @param offset   where the message starts (after the SoupBinTCP header)
         * @param length   its length
         * @param sequence its sequence number in the session
         */
        void onSequenced(DirectBuffer buffer, int offset, int length, long sequence);
    }

    /** Where the session is. */
    enum State {
        /** Not connected yet, or retrying a refused open. */
        CONNECTING,
        /** Login Request sent, no answer yet. */
        LOGIN_SENT,
        /** Login Accepted: data flows. */
        LOGGED_IN,
        /** Logout Request sent; waiting for the server to end the session. */
        LOGOUT_SENT,
        /** Over; see {@link #endReason()}. */
        ENDED
    }

    private static final long RETRY_NANOS = 100_000_000L;
    private static final int POLL_LIMIT = 16;

    private final TcpEndpoint tcp;
    private final int address;
    private final int port;
    private final byte[] username;
    private final byte[] password;
    private final long heartbeatNanos;
    private final long timeoutNanos;
    private final SequencedHandler handler;
    private final SoupBinTcpStream stream = new SoupBinTcpStream(this);
    private final SoupBinTcp packet = new SoupBinTcp();
    private final UnsafeBuffer out = new UnsafeBuffer(ByteBuffer.allocateDirect(256));
    private final Malformed malformed = new Malformed();
    private TcpConnection conn;
    private State state = State.CONNECTING;
    private String endReason;
    private long connectDeadline;
    private long retryAt;
    private long lastSent;
    private long lastReceived;
    private long now;
    private long nextSequence;
    private long sequenced;
    private long heartbeatsSent;
    private long heartbeatsReceived;
    private long sendFailures;
    private long connectAttempts;

    /**
     * @param tcp            the endpoint to connect from
     * @param address        the server's IPv4 address, big-endian int
     * @param port           the server's port
     * @param username       6 bytes, {@link SoupBinTcp#alpha}
     * @param password       10 bytes, {@link SoupBinTcp#alpha}
     * @param heartbeatNanos send a Client Heartbeat after this long without sending
     * @param timeoutNanos   end the session when nothing arrived for this long
     * @param handler        receives Sequenced Data
     */
    SoupBinClient(final TcpEndpoint tcp, final int address, final int port, final byte[] username, final byte[] password,
                  final long heartbeatNanos, final long timeoutNanos, final SequencedHandler handler) {
        this.tcp = tcp;
        this.address = address;
        this.port = port;
        this.username = username;
        this.password = password;
        this.heartbeatNanos = heartbeatNanos;
        this.timeoutNanos = timeoutNanos;
        this.handler = handler;
    }

    /**
     * Starts connecting; a refused open is retried every 100 ms until {@code connectTimeoutNanos}.
     *
     * @param nowNanos            {@link System#nanoTime()}
     * @param connectTimeoutNanos how long to keep trying
     */
    void start(final long nowNanos, final long connectTimeoutNanos) {
        connectDeadline = nowNanos + connectTimeoutNanos;
        openConnection(nowNanos);
    }

    private void openConnection(final long nowNanos) {
        connectAttempts++;
        conn = tcp.connect(address, port);
        lastReceived = nowNanos;
    }

    /**
     * Polls the connection and runs the session's timers.
     *
     * @param nowNanos {@link System#nanoTime()}
     * @return work done (0 when idle)
     */
    int doWork(final long nowNanos) {
        now = nowNanos;
        if (state == State.ENDED) {
            return 0;
        }
        if (conn == null) {
            if (nowNanos - retryAt >= 0) {
                openConnection(nowNanos);
            }
            return 0;
        }
        final int n = conn.poll(stream, POLL_LIMIT);
        final int work = Math.max(n, 0);
        final TcpState tcpState = conn.state();
        switch (state) {
            case CONNECTING -> {
                if (tcpState == TcpState.ESTABLISHED) {
                    final int len = SoupBinTcp.putLoginRequest(out, 0, username, password, SoupBinTcp.alpha("", SoupBinTcp.SESSION_LENGTH), 1);
                    if (send(out, 0, len)) {
                        state = State.LOGIN_SENT;
                        lastReceived = nowNanos;
                    }
                } else if (tcpState == TcpState.CLOSED) {
                    if (nowNanos - connectDeadline < 0) {
                        conn.close();
                        conn = null;
                        retryAt = nowNanos + RETRY_NANOS;
                    } else {
                        end("connect failed: " + conn.closeReason());
                    }
                }
            }
            case LOGIN_SENT, LOGGED_IN -> {
                if (tcpState != TcpState.ESTABLISHED && state != State.ENDED) {
                    end(state == State.LOGIN_SENT ? "closed before login: " + conn.closeReason() : "closed by exchange: " + conn.closeReason());
                } else if (nowNanos - lastReceived > timeoutNanos && state != State.ENDED) {
                    conn.abort();
                    end(state == State.LOGIN_SENT ? "no answer to login" : "exchange silent");
                } else if (state == State.LOGGED_IN && nowNanos - lastSent >= heartbeatNanos) {
                    if (send(out, 0, SoupBinTcp.putEmpty(out, 0, SoupBinTcp.CLIENT_HEARTBEAT))) {
                        heartbeatsSent++;
                    }
                }
            }
            case LOGOUT_SENT -> {
                if (tcpState != TcpState.ESTABLISHED) {
                    conn.close();
                    end(endReason == null ? "logged out" : endReason);
                } else if (nowNanos - lastSent > timeoutNanos) {
                    conn.close();
                    end("logged out; the exchange never closed");
                }
            }
            default -> {
            }
        }
        return work;
    }

    @Override
    public void onPacket(final DirectBuffer buffer, final int offset, final int length) {
        lastReceived = now;
        final int rc = packet.wrap(buffer, offset, length);
        if (rc != SoupBinTcp.VALID) {
            malformed.add(rc);
            return;
        }
        switch (packet.type()) {
            case SoupBinTcp.SEQUENCED_DATA -> {
                if (state != State.LOGGED_IN && state != State.LOGOUT_SENT) {
                    malformed.add(Malformed.OUT_OF_ORDER);
                    return;
                }
                sequenced++;
                handler.onSequenced(buffer, packet.payloadOffset(), packet.payloadLength(), nextSequence++);
            }
            case SoupBinTcp.SERVER_HEARTBEAT -> heartbeatsReceived++;
            case SoupBinTcp.LOGIN_ACCEPTED -> {
                final long seq = packet.acceptedSequence();
                if (state != State.LOGIN_SENT) {
                    malformed.add(Malformed.OUT_OF_ORDER);
                } else if (seq < 0) {
                    malformed.add(Malformed.BAD_FIELD);
                } else {
                    nextSequence = seq;
                    state = State.LOGGED_IN;
                }
            }
            case SoupBinTcp.LOGIN_REJECTED -> {
                conn.close();
                end("login rejected: " + (packet.rejectReason() == SoupBinTcp.REJECT_NOT_AUTHORIZED ? "not authorized" : "session not available"));
            }
            case SoupBinTcp.END_OF_SESSION -> {
                conn.close();
                end("end of session");
            }
            case SoupBinTcp.DEBUG -> {
            }
            default -> malformed.add(Malformed.WRONG_DIRECTION);
        }
    }

    /**
     * Queues one Unsequenced Data packet; {@link #flush()} sends.
     *
     * @param payload the message
     * @param offset  where it starts
     * @param length  its length
     * @return true if queued (logged in and room in the send queue)
     */
    boolean sendUnsequenced(final DirectBuffer payload, final int offset, final int length) {
        if (state != State.LOGGED_IN) {
            sendFailures++;
            return false;
        }
        // header and message in one contiguous packet: a split packet costs the server a copy
        final int h = SoupBinTcp.putHeader(out, 0, SoupBinTcp.UNSEQUENCED_DATA, length);
        out.putBytes(h, payload, offset, length);
        final int rc = conn.send(out, 0, h + length);
        if (rc != TcpConnection.OK) {
            sendFailures++;
            return false;
        }
        lastSent = now;
        return true;
    }

    /** Sends what is queued: one syscall or one kick. */
    void flush() {
        if (conn != null && conn.state().canSend()) {
            conn.flush();
        }
    }

    /** Sends a Logout Request; the session ends when the server closes, or after the timeout. */
    void logout() {
        if (state == State.LOGGED_IN || state == State.LOGIN_SENT) {
            send(out, 0, SoupBinTcp.putEmpty(out, 0, SoupBinTcp.LOGOUT_REQUEST));
            state = State.LOGOUT_SENT;
        } else if (state == State.CONNECTING) {
            if (conn != null) {
                conn.close();
            }
            end("never logged in");
        }
    }

    /**
     * Ends the session now: closes the connection (FIN after what is queued).
     *
     * @param reason why, for {@link #endReason()}
     */
    void abandon(final String reason) {
        if (conn != null) {
            conn.close();
        }
        end(reason);
    }

    private boolean send(final DirectBuffer b, final int offset, final int length) {
        if (conn.send(b, offset, length) != TcpConnection.OK || conn.flush() < 0) {
            sendFailures++;
            return false;
        }
        lastSent = now;
        return true;
    }

    private void end(final String reason) {
        state = State.ENDED;
        endReason = reason;
    }

    /** @return the session's state */
    State state() {
        return state;
    }

    /** @return why the session ended, null while it has not */
    String endReason() {
        return endReason;
    }

    /** @return the sequence number the next Sequenced Data will carry */
    long nextSequence() {
        return nextSequence;
    }

    /** @return Sequenced Data received */
    long sequenced() {
        return sequenced;
    }

    /** @return Client Heartbeats sent */
    long heartbeatsSent() {
        return heartbeatsSent;
    }

    /** @return Server Heartbeats received */
    long heartbeatsReceived() {
        return heartbeatsReceived;
    }

    /** @return packets that could not be queued or flushed */
    long sendFailures() {
        return sendFailures;
    }

    /** @return connection attempts (a refused open is retried) */
    long connectAttempts() {
        return connectAttempts;
    }

    /** @return malformed packets received, by reason */
    Malformed malformed() {
        return malformed;
    }

    /** @return the connection, null before the first attempt or between retries */
    TcpConnection connection() {
        return conn;
    }
}
