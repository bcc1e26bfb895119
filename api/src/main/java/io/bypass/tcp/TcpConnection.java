package io.bypass.tcp;

import io.bypass.Counters;
import org.agrona.DirectBuffer;

/**
 * One TCP connection, from {@link TcpEndpoint#connect(int, int)} or {@link TcpListener#accept()}.
 *
 * <pre>{@code
 * TcpConnection order = tcp.connect(Ipv4.parse("10.0.0.2"), 9000);    // returns at once: SYN_SENT
 * TcpClaim claim = new TcpClaim();                                      // reused
 * while (running) {
 *     int work = order.poll(onBytes, 16);                               // completes the open, delivers bytes
 *     if (order.state() == TcpState.ESTABLISHED && haveOrder
 *             && order.tryClaim(OrderEncoder.LENGTH, claim) == TcpConnection.OK) {
 *         encoder.wrap(claim.buffer(), claim.offset()).price(price).quantity(qty);
 *         claim.commit();
 *         order.flush();                                                // one syscall (nio) or one kick
 *     }
 *     idle.idle(work);
 * }
 * }</pre>
 *
 * <p>Use from one thread (the endpoint's). The hot-path methods ({@link #poll}, {@link #tryClaim},
 * {@link #send}, {@link #flush}) allocate nothing in steady state and never throw for what the
 * network does: a refused open, a reset, a timeout or the peer's FIN show as {@link #state()}, a
 * {@link #closeReason()} and a counter; on a connection that has ended they return {@link #CLOSED}.
 * They throw only for programming errors ({@link IllegalArgumentException}: a negative length).
 */
public interface TcpConnection extends AutoCloseable {
    /** Claimed, queued or sent. */
    int OK = 0;
    /** The send queue is full (claims), or the bytes below it did not all go out (flush): flush and retry. */
    int BACK_PRESSURED = -1;
    /** The connection is still opening ({@link TcpState#SYN_SENT}); poll until it is established. */
    int NOT_CONNECTED = -2;
    /** Longer than {@link #maxClaimLength()}: split it. */
    int TOO_LONG = -3;
    /** The connection has ended, or this side has closed it: nothing more can be sent (or received). */
    int CLOSED = -4;

    /**
     * @return where the connection is, by RFC 9293's names; see each backend for the states it can observe
     *         ({@code nio:} reports {@link TcpState#CLOSED} as soon as both FINs are exchanged, since the
     *         kernel keeps TIME_WAIT and LAST_ACK to itself)
     */
    TcpState state();

    /**
     * Delivers the bytes received, in order, and advances the connection: completes an active open,
     * notices the peer's FIN ({@link TcpState#CLOSE_WAIT}), a reset or a timeout ({@link TcpState#CLOSED}),
     * and, after {@link #close()}, sends the queued bytes and the FIN. An application that polls only its
     * connection needs nothing else.
     *
     * @param handler called once per contiguous run of bytes; a view, valid only during the call
     * @param limit   most calls to {@code handler}, at least 1
     * @return calls made to {@code handler} (0 when nothing arrived), or {@link #CLOSED} once the
     *         connection has ended and nothing is left to deliver
     */
    int poll(TcpHandler handler, int limit);

    /**
     * Claims {@code length} bytes of room in the send queue.
     *
     * @param length bytes, 0..{@link #maxClaimLength()}
     * @param claim  the flyweight to point at the room
     * @return {@link #OK}; {@link #BACK_PRESSURED} if the queue has less room (flush first; counted as
     *         {@code TX_BACK_PRESSURED}); {@link #NOT_CONNECTED} while opening; {@link #TOO_LONG};
     *         {@link #CLOSED} once the connection ended or {@link #close()} was called
     * @throws IllegalArgumentException if {@code length} is negative
     */
    int tryClaim(int length, TcpClaim claim);

    /**
     * Copies bytes into the send queue ({@link #tryClaim}, copy, commit); {@link #flush()} sends them.
     *
     * @param buffer the bytes
     * @param offset where they start
     * @param length how many
     * @return as {@link #tryClaim}
     */
    int send(DirectBuffer buffer, int offset, int length);

    /**
     * Sends queued bytes: at most one syscall (nio: one {@code write}) or one kick. Bytes that do
     * not fit below (the kernel's socket buffer is full, or the peer's window closed) stay queued,
     * never lost, and go with a later flush.
     *
     * @return bytes sent by this call (0 if none were queued); {@link #BACK_PRESSURED} if bytes were
     *         queued and none could go (counted as {@code TCP_SEND_BACK_PRESSURED}, as is a flush
     *         that sends only part); {@link #NOT_CONNECTED} while opening; {@link #CLOSED} once ended
     */
    int flush();

    /**
     * @return bytes committed and not yet sent by a flush
     */
    int queuedBytes();

    /**
     * @return the longest claim: the send queue's size
     */
    int maxClaimLength();

    /** @return this side's IPv4 address (big-endian int), 0 before it is known */
    int localAddress();

    /** @return this side's port, 0 before it is known */
    int localPort();

    /** @return the peer's IPv4 address (big-endian int) */
    int remoteAddress();

    /** @return the peer's port */
    int remotePort();

    /**
     * @return null while the connection is open; once it is closing or has ended, why: {@code "refused"},
     *         {@code "unreachable"}, {@code "timed out"}, {@code "reset by peer"}, {@code "closed by peer"}
     *         (the peer's FIN came first; this side may still send), {@code "closed"} ({@link #close()}),
     *         {@code "aborted"} ({@link #abort()}), {@code "endpoint closed"}, or {@code "error: "} and the
     *         kernel's or stack's words
     */
    String closeReason();

    /**
     * @return this connection's counters ({@code TCP_*}, {@code TX_BACK_PRESSURED}); the endpoint's
     *         {@link TcpEndpoint#counters()} add up every connection's
     */
    Counters counters();

    /**
     * Closes in order: the FIN goes after every queued byte, and the state walks
     * {@link TcpState#FIN_WAIT_1} (or {@link TcpState#LAST_ACK} from {@link TcpState#CLOSE_WAIT}) to
     * {@link TcpState#CLOSED}. Returns at once; the endpoint's {@link TcpEndpoint#poll(int)} (or this
     * connection's {@link #poll}) carries the close through. Bytes that arrive meanwhile are discarded
     * and counted ({@code TCP_BYTES_DISCARDED}): close when you have read what you need. Idempotent.
     */
    @Override
    void close();

    /**
     * Half-closes (RFC 9293's CLOSE, {@code shutdown(SHUT_WR)}): the FIN goes after every queued byte,
     * and this side goes on receiving, through {@link #poll}, until the peer's FIN. Claims then return
     * {@link #CLOSED}. The state walks {@link TcpState#FIN_WAIT_1} (or {@link TcpState#LAST_ACK} from
     * {@link TcpState#CLOSE_WAIT}) to {@link TcpState#CLOSED}; on Bypass's own TCP a connection in
     * TIME_WAIT keeps bytes not yet read until they are. {@link #close()} afterwards discards what is
     * still unread. Idempotent. For example, netcat's end of input:
     * <pre>{@code
     * connection.shutdownOutput();                         // the peer reads end of stream
     * while (connection.poll(handler, 16) != TcpConnection.CLOSED) { }  // its last bytes, then its FIN
     * }</pre>
     *
     * @return {@link #OK}; {@link #NOT_CONNECTED} while opening (nothing done); {@link #CLOSED} once the
     *     connection ended or {@link #close()} was called
     */
    int shutdownOutput();

    /**
     * Ends the connection at once with a RST; queued bytes are dropped. {@link #state()} is
     * {@link TcpState#CLOSED}, {@link #closeReason()} {@code "aborted"}. Idempotent.
     */
    void abort();
}
