package io.bypass.samples.trade;

import io.bypass.samples.codec.SoupBinTcp;
import io.bypass.samples.codec.SoupBinTcpStream;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.tcp.TcpListener;
import io.bypass.tcp.TcpState;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * The server side of SoupBinTCP 3.00, as {@code exchange} runs it: listens on a port, takes up to
 * {@link #MAX_SESSIONS} connections, answers each Login Request with Login Accepted (or Login
 * Rejected 'A' for a wrong username or password, then closes), hands Unsequenced Data to the
 * application, which answers with Sequenced Data, sends a Server Heartbeat after each second with
 * nothing sent, and drops a client silent past the timeout. A Logout Request closes the connection.
 * Malformed input is counted by reason ({@link Malformed}), never thrown.
 *
 * <p>Driven by {@link #doWork(long)} from the polling thread; allocation-free once sessions are up
 * (accepting a connection allocates its objects).
 */
final class SoupBinServer {
    /** Most sessions at once. */
    static final int MAX_SESSIONS = 8;

    /** Receives each Unsequenced Data message of a logged-in session. */
    @FunctionalInterface
    interface UnsequencedHandler {
        /**
         * @param session the session it came on; answer with {@link SoupBinServer#sendSequenced}
         * @param buffer  the message's bytes, valid only during the call
         * @param offset  where it starts (after the SoupBinTCP header)
         * @param length  its length
         */
        void onUnsequenced(Session session, DirectBuffer buffer, int offset, int length);
    }

    private final TcpEndpoint tcp;
    private final TcpListener listener;
    private final byte[] username;
    private final byte[] password;
    private final byte[] sessionName;
    private final long heartbeatNanos;
    private final long timeoutNanos;
    private final UnsequencedHandler handler;
    private final Session[] sessions = new Session[MAX_SESSIONS];
    private final SoupBinTcp packet = new SoupBinTcp();
    private final UnsafeBuffer out = new UnsafeBuffer(ByteBuffer.allocateDirect(SoupBinTcp.MAX_PACKET_LENGTH));
    private final Malformed malformed = new Malformed();
    private long now;
    private long logins;
    private long rejectedLogins;
    private long refusedConnections;
    private long heartbeatsSent;
    private long heartbeatsReceived;
    private long logouts;
    private long timeouts;
    private long sequencedSent;
    private long sendFailures;

    /** One client's session. */
    final class Session implements SoupBinTcpStream.PacketHandler {
        private final TcpConnection conn;
        private final SoupBinTcpStream stream = new SoupBinTcpStream(this);
        private boolean loggedIn;
        private boolean ended;
        private long lastSent;
        private long lastReceived;
        private long nextSequence = 1;

        Session(final TcpConnection conn) {
            this.conn = conn;
            lastSent = now;
            lastReceived = now;
        }

        @Override
        public void onPacket(final DirectBuffer buffer, final int offset, final int length) {
            lastReceived = now;
            if (ended) {
                return;
            }
            final int rc = packet.wrap(buffer, offset, length);
            if (rc != SoupBinTcp.VALID) {
                malformed.add(rc);
                return;
            }
            switch (packet.type()) {
                case SoupBinTcp.LOGIN_REQUEST -> onLogin();
                case SoupBinTcp.UNSEQUENCED_DATA -> {
                    if (!loggedIn) {
                        malformed.add(Malformed.OUT_OF_ORDER);
                    } else {
                        handler.onUnsequenced(this, buffer, packet.payloadOffset(), packet.payloadLength());
                    }
                }
                case SoupBinTcp.CLIENT_HEARTBEAT -> heartbeatsReceived++;
                case SoupBinTcp.LOGOUT_REQUEST -> {
                    logouts++;
                    end();
                }
                case SoupBinTcp.DEBUG -> {
                }
                default -> malformed.add(Malformed.WRONG_DIRECTION);
            }
        }

        private void onLogin() {
            if (loggedIn) {
                malformed.add(Malformed.OUT_OF_ORDER);
                return;
            }
            if (packet.requestedSequence() < 0) {
                malformed.add(Malformed.BAD_FIELD);
            }
            if (!packet.usernameEquals(username) || !packet.passwordEquals(password)) {
                rejectedLogins++;
                send(out, 0, SoupBinTcp.putLoginRejected(out, 0, SoupBinTcp.REJECT_NOT_AUTHORIZED));
                end();
                return;
            }
            // Sequenced messages are not kept for replay: every login starts at the next one.
            loggedIn = true;
            logins++;
            send(out, 0, SoupBinTcp.putLoginAccepted(out, 0, sessionName, nextSequence));
        }

        private boolean send(final DirectBuffer b, final int offset, final int length) {
            if (conn.send(b, offset, length) != TcpConnection.OK || conn.flush() < 0) {
                sendFailures++;
                return false;
            }
            lastSent = now;
            return true;
        }

        private void end() {
            ended = true;
            conn.close();
        }

        /** @return true once logged in */
        boolean loggedIn() {
            return loggedIn && !ended;
        }
    }

    /**
     * @param tcp            the endpoint
     * @param port           the port to listen on
     * @param username       6 bytes, {@link SoupBinTcp#alpha}
     * @param password       10 bytes, {@link SoupBinTcp#alpha}
     * @param sessionName    10 bytes, {@link SoupBinTcp#session}
     * @param heartbeatNanos send a Server Heartbeat after this long without sending
     * @param timeoutNanos   drop a client silent this long
     * @param handler        receives Unsequenced Data
     */
    SoupBinServer(final TcpEndpoint tcp, final int port, final byte[] username, final byte[] password, final byte[] sessionName,
                  final long heartbeatNanos, final long timeoutNanos, final UnsequencedHandler handler) {
        this.tcp = tcp;
        this.listener = tcp.listen(port);
        this.username = username;
        this.password = password;
        this.sessionName = sessionName;
        this.heartbeatNanos = heartbeatNanos;
        this.timeoutNanos = timeoutNanos;
        this.handler = handler;
    }

    /**
     * Accepts connections, polls every session and runs the timers.
     *
     * @param nowNanos {@link System#nanoTime()}
     * @return work done
     */
    int doWork(final long nowNanos) {
        now = nowNanos;
        int work = tcp.poll(16);
        for (TcpConnection c = listener.accept(); c != null; c = listener.accept()) {
            work++;
            if (!add(c)) {
                refusedConnections++;
                c.abort();
            }
        }
        for (int i = 0; i < MAX_SESSIONS; i++) {
            final Session s = sessions[i];
            if (s == null) {
                continue;
            }
            final int n = s.conn.poll(s.stream, 16);
            work += Math.max(n, 0);
            final TcpState st = s.conn.state();
            if (s.ended) {
                if (st == TcpState.CLOSED || st == TcpState.TIME_WAIT) {
                    sessions[i] = null;
                }
            } else if (st != TcpState.ESTABLISHED) {
                // the client closed or reset without logging out
                s.end();
            } else if (nowNanos - s.lastReceived > timeoutNanos) {
                timeouts++;
                s.ended = true;
                s.conn.abort();
            } else if (s.loggedIn && nowNanos - s.lastSent >= heartbeatNanos) {
                if (s.send(out, 0, SoupBinTcp.putEmpty(out, 0, SoupBinTcp.SERVER_HEARTBEAT))) {
                    heartbeatsSent++;
                }
            }
        }
        return work;
    }

    private boolean add(final TcpConnection c) {
        for (int i = 0; i < MAX_SESSIONS; i++) {
            if (sessions[i] == null) {
                sessions[i] = new Session(c);
                return true;
            }
        }
        return false;
    }

    /**
     * Writes a Sequenced Data header in the scratch buffer; put the message after it and call
     * {@link #sendSequenced}.
     *
     * @return the scratch buffer; the message goes at {@link SoupBinTcp#HEADER_LENGTH}
     */
    MutableDirectBuffer scratch() {
        return out;
    }

    /**
     * Sends the message written at {@link SoupBinTcp#HEADER_LENGTH} in {@link #scratch()} as
     * Sequenced Data, and flushes.
     *
     * @param session the session
     * @param length  the message's length
     * @return true if sent (queued and flushed)
     */
    boolean sendSequenced(final Session session, final int length) {
        SoupBinTcp.putHeader(out, 0, SoupBinTcp.SEQUENCED_DATA, length);
        if (!session.send(out, 0, SoupBinTcp.HEADER_LENGTH + length)) {
            return false;
        }
        session.nextSequence++;
        sequencedSent++;
        return true;
    }

    /** Sends End of Session to every logged-in session and closes every connection. */
    void endOfSession() {
        for (final Session s : sessions) {
            if (s != null && !s.ended) {
                if (s.loggedIn) {
                    s.send(out, 0, SoupBinTcp.putEmpty(out, 0, SoupBinTcp.END_OF_SESSION));
                }
                s.end();
            }
        }
    }

    /** @return sessions open now (logged in or not) */
    int openSessions() {
        int n = 0;
        for (final Session s : sessions) {
            if (s != null && !s.ended) {
                n++;
            }
        }
        return n;
    }

    /** @return logins accepted */
    long logins() {
        return logins;
    }

    /** @return logins rejected */
    long rejectedLogins() {
        return rejectedLogins;
    }

    /** @return connections refused because {@link #MAX_SESSIONS} were open */
    long refusedConnections() {
        return refusedConnections;
    }

    /** @return Server Heartbeats sent */
    long heartbeatsSent() {
        return heartbeatsSent;
    }

    /** @return Client Heartbeats received */
    long heartbeatsReceived() {
        return heartbeatsReceived;
    }

    /** @return Logout Requests received */
    long logouts() {
        return logouts;
    }

    /** @return clients dropped for silence */
    long timeouts() {
        return timeouts;
    }

    /** @return Sequenced Data sent */
    long sequencedSent() {
        return sequencedSent;
    }

    /** @return packets that could not be queued or flushed */
    long sendFailures() {
        return sendFailures;
    }

    /** @return malformed packets received, by reason */
    Malformed malformed() {
        return malformed;
    }

    /** Stops listening. */
    void closeListener() {
        listener.close();
    }
}
