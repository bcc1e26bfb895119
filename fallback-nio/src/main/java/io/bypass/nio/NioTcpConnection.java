package io.bypass.nio;

import io.bypass.Counter;
import io.bypass.spi.ClaimOwner;
import io.bypass.spi.HotPathErrors;
import io.bypass.tcp.TcpClaim;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpHandler;
import io.bypass.tcp.TcpState;
import org.agrona.DirectBuffer;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A {@link TcpConnection} on a non-blocking {@link SocketChannel}: the kernel's TCP does the
 * protocol, this class keeps the send queue (claims write straight into it), reads into one
 * direct buffer the handler sees as a view, and turns what the kernel says (an error from
 * {@code finishConnect}, {@code read} or {@code write}; end of stream) into states, close reasons
 * and counters.
 *
 * <p>States it reports: {@link TcpState#SYN_SENT} until {@code finishConnect} succeeds,
 * {@link TcpState#ESTABLISHED}, {@link TcpState#CLOSE_WAIT} once {@code read} returns end of stream,
 * {@link TcpState#FIN_WAIT_1} from {@link #close()} until the peer's FIN is read (the kernel does not
 * say when our FIN is acknowledged, so FIN_WAIT_2 is not seen), {@link TcpState#LAST_ACK} from close
 * in CLOSE_WAIT while queued bytes drain, and {@link TcpState#CLOSED} once the socket is closed: the
 * kernel keeps TIME_WAIT and the last ACK to itself.
 *
 * <p>Holds no string constant ({@link NioTcpText} has them), so C2 compiling it allocates nothing.
 */
final class NioTcpConnection extends NioTcpConnectionBase implements ClaimOwner {
    private static final long FIN_TIMEOUT_NANOS = 60_000_000_000L;

    private final NioTcpEndpoint endpoint;
    private final NioTcpTable table;
    private NioTcpBuffers buffers;
    private final NioTcpSendQueue queue = new NioTcpSendQueue();
    private TcpState state;
    private String closeReason;
    /** close() was called: the FIN follows the queued bytes. */
    private boolean closing;
    /** shutdownOutput() was called: the FIN follows the queued bytes, and bytes are still delivered. */
    private boolean outputShut;
    /** The FIN went to the kernel (shutdownOutput). */
    private boolean finSent;
    /** The peer's FIN was read. */
    private boolean peerFin;
    private long finDeadline;
    /** The socket is closed and the buffers are back in the pool. */
    private boolean released;
    /** Index in the endpoint's table of live connections. */
    int slot = -1;

    /**
     * @param endpoint      the owner, for its counters and socket options
     * @param table         the owner's table of live connections and pool of buffers
     * @param channel       connected or connecting, non-blocking, options set
     * @param buffers       this connection's buffers
     * @param state         {@link TcpState#SYN_SENT} or {@link TcpState#ESTABLISHED}
     * @param remoteAddress the peer's address
     * @param remotePort    the peer's port
     */
    NioTcpConnection(final NioTcpEndpoint endpoint, final NioTcpTable table, final SocketChannel channel,
                     final NioTcpBuffers buffers, final TcpState state, final int remoteAddress, final int remotePort) {
        super(channel, endpoint.counters(), remoteAddress, remotePort);
        this.endpoint = endpoint;
        this.table = table;
        this.buffers = buffers;
        queue.attach(buffers);
        this.state = state;
        if (state == TcpState.ESTABLISHED) {
            established(); // reads the local address too
        } else {
            readLocalAddress();
        }
    }

    private void established() {
        state = TcpState.ESTABLISHED;
        count(Counter.TCP_ESTABLISHED, 1);
        readLocalAddress();
        endpoint.onEstablished(channel);
    }

    @Override
    public TcpState state() {
        return state;
    }

    /**
     * One step of whatever the connection is waiting for, without delivering bytes: the open's
     * completion, or a close's queued bytes, FIN and the peer's FIN. For the endpoint's poll.
     *
     * @return 1 if something changed or moved, else 0
     */
    int drive() {
        if (released) {
            return 0;
        }
        if (state == TcpState.SYN_SENT) {
            return finishConnect() ? 1 : 0;
        }
        return closing ? driveClose() : outputShut && !finSent ? sendFinWhenFlushed() : 0;
    }

    private boolean finishConnect() {
        try {
            if (channel.finishConnect()) {
                established();
                return true;
            }
            return false;
        } catch (final IOException e) {
            connectFailed(e);
            return true;
        }
    }

    /**
     * The active open failed: CLOSED, with the reason and its counter.
     *
     * @param e what {@code connect} or {@code finishConnect} threw
     */
    void connectFailed(final IOException e) {
        failed(e, true);
    }

    /** After close(): flush the queue, then send the FIN, then read (and discard) until the peer's FIN. */
    private int driveClose() {
        int work = sendFinWhenFlushed();
        if (released || !finSent) {
            return work;
        }
        return work + discardUntilPeerFin();
    }

    /** Flushes the queue, then sends the FIN (shutdownOutput), or closes the socket if the peer's FIN came first. */
    private int sendFinWhenFlushed() {
        int work = 0;
        if (!finSent) {
            if (queue.queued() > 0) {
                final int n = write();
                if (released) {
                    return 1;
                }
                work += n > 0 ? 1 : 0;
                if (queue.queued() > 0) {
                    return work;
                }
            }
            if (peerFin) {
                // LAST_ACK, or both FINs crossed: closing the socket sends ours; nothing is left unread.
                release(closeReason, false);
                return 1;
            }
            try {
                channel.shutdownOutput();
            } catch (final IOException e) {
                fail(e);
                return 1;
            }
            finSent = true;
            finDeadline = System.nanoTime() + FIN_TIMEOUT_NANOS;
            work++;
        }
        return work;
    }

    /** FIN_WAIT after close(): read what still comes, discarded, until the peer's FIN or the FIN timeout. */
    private int discardUntilPeerFin() {
        int work = 0;
        for (int i = 0; i < 16; i++) {
            buffers.rx.clear();
            final int n;
            try {
                n = channel.read(buffers.rx);
            } catch (final IOException e) {
                fail(e);
                return 1;
            }
            if (n > 0) {
                count(Counter.TCP_BYTES_DISCARDED, n);
                work++;
            } else if (n < 0) {
                count(Counter.TCP_FINS_RECEIVED, 1);
                release(closeReason, false);
                return work + 1;
            } else {
                break;
            }
        }
        if (work == 0 && System.nanoTime() - finDeadline > 0) {
            count(Counter.TCP_TIMEOUTS, 1);
            release(NioTcpText.finTimedOut(), true);
            return 1;
        }
        return work;
    }

    @Override
    public int poll(final TcpHandler handler, final int limit) {
        if (limit < 1) {
            throw HotPathErrors.pollLimit(limit);
        }
        if (released) {
            return CLOSED;
        }
        if (state == TcpState.SYN_SENT) {
            finishConnect();
            if (state != TcpState.ESTABLISHED) {
                return released ? CLOSED : 0;
            }
        }
        if (closing) {
            driveClose();
            return released ? CLOSED : 0;
        }
        if (outputShut && !finSent) {
            sendFinWhenFlushed();
            if (released) {
                return CLOSED;
            }
        }
        if (peerFin) {
            return 0; // CLOSE_WAIT: nothing more will arrive; the application may still send, then close
        }
        final ByteBuffer buf = buffers.rx;
        int delivered = 0;
        while (delivered < limit) {
            buf.clear();
            final int n;
            try {
                n = channel.read(buf);
            } catch (final IOException e) {
                fail(e);
                break;
            }
            if (n > 0) {
                delivered++;
                count(Counter.TCP_BYTES_IN, n);
                handler.onData(buffers.rxView, 0, n);
                if (n < buf.capacity() || closing || released) {
                    break; // drained (a short read), or the handler closed the connection
                }
            } else {
                if (n < 0) {
                    peerFin = true;
                    count(Counter.TCP_FINS_RECEIVED, 1);
                    if (outputShut && finSent) {
                        release(NioTcpText.closed(), false); // both directions have ended; every byte was delivered
                        break;
                    }
                    state = outputShut ? TcpState.CLOSING : TcpState.CLOSE_WAIT;
                    // after shutdownOutput() with bytes still queued, the FIN (and the release) waits for them
                    // (sendFinWhenFlushed): releasing here lost what the kernel had not yet taken
                    closeReason = outputShut ? NioTcpText.closed() : NioTcpText.closedByPeer();
                }
                break;
            }
        }
        return delivered == 0 && released ? CLOSED : delivered;
    }

    @Override
    public int tryClaim(final int length, final TcpClaim claim) {
        final int status = room(length);
        if (status != OK) {
            return status;
        }
        queue.claimed = true;
        claim.wrap(this, queue.tail(), queue.tailAddress(), length);
        return OK;
    }

    /** @return {@link #OK} if {@code length} bytes fit at the queue's tail now, compacting the queue if that helps */
    private int room(final int length) {
        if (length < 0) {
            throw NioTcpText.negativeLength(length);
        }
        if (released || closing) {
            return CLOSED;
        }
        if (queue.claimed) {
            throw NioTcpText.claimOutstanding();
        }
        if (state == TcpState.SYN_SENT) {
            return NOT_CONNECTED;
        }
        if (!state.canSend()) {
            return CLOSED;
        }
        if (length > NioTcpBuffers.TX_CAPACITY) {
            return TOO_LONG;
        }
        if (!queue.fits(length)) {
            count(Counter.TX_BACK_PRESSURED, 1);
            return BACK_PRESSURED;
        }
        return OK;
    }

    @Override
    public void commit(final long token, final int length) {
        queue.claimed = false;
        // After the FIN nothing more can go: a claim committed after close() once the FIN left is dropped.
        if (!released && !finSent) {
            queue.commit(token, length);
        }
    }

    @Override
    public void abort(final long token) {
        queue.claimed = false;
    }

    @Override
    public int send(final DirectBuffer buffer, final int offset, final int length) {
        final int status = room(length);
        if (status == OK) {
            queue.put(buffer, offset, length);
        }
        return status;
    }

    @Override
    public int flush() {
        if (released) {
            return CLOSED;
        }
        if (state == TcpState.SYN_SENT && !finishConnect()) {
            return NOT_CONNECTED;
        }
        if (released || closing) {
            return released ? CLOSED : 0; // a close carries its queued bytes through itself
        }
        if (queue.queued() == 0) {
            return 0;
        }
        final int n = write();
        if (released) {
            return CLOSED;
        }
        return n == 0 ? BACK_PRESSURED : n;
    }

    /** One {@code write} of the queued bytes; a failure ends the connection. @return bytes written */
    private int write() {
        final int n;
        try {
            n = queue.write(channel);
        } catch (final IOException e) {
            fail(e);
            return 0;
        }
        if (n > 0) {
            count(Counter.TCP_BYTES_OUT, n);
        }
        if (queue.queued() > 0) {
            count(Counter.TCP_SEND_BACK_PRESSURED, 1);
        }
        return n;
    }

    /** The kernel reported an error: the connection is over. */
    private void fail(final IOException e) {
        failed(e, false);
    }

    private void failed(final IOException e, final boolean opening) {
        final int kind = NioTcpText.kind(e);
        final Counter counter = NioTcpText.counter(kind, opening);
        if (counter != null) {
            count(counter, 1);
        }
        release(NioTcpText.reason(kind, e), false);
    }

    @Override
    public int queuedBytes() {
        return queue.queued();
    }

    @Override
    public int maxClaimLength() {
        return NioTcpBuffers.TX_CAPACITY;
    }

    @Override
    public String closeReason() {
        return closeReason;
    }

    @Override
    public void close() {
        if (released || closing) {
            return;
        }
        if (state == TcpState.SYN_SENT) {
            release(NioTcpText.closed(), false); // no SYN-ACK yet: the kernel just forgets the open
            return;
        }
        closing = true;
        if (state == TcpState.CLOSE_WAIT) {
            state = TcpState.LAST_ACK;
        } else if (!outputShut) {
            state = TcpState.FIN_WAIT_1;
            closeReason = NioTcpText.closed();
        }
        driveClose();
    }

    @Override
    public int shutdownOutput() {
        if (released || closing) {
            return CLOSED;
        }
        if (state == TcpState.SYN_SENT) {
            return NOT_CONNECTED;
        }
        if (!outputShut) {
            outputShut = true;
            state = state == TcpState.CLOSE_WAIT ? TcpState.LAST_ACK : TcpState.FIN_WAIT_1;
            sendFinWhenFlushed();
        }
        return OK;
    }

    @Override
    public void abort() {
        if (released) {
            return;
        }
        if (state != TcpState.SYN_SENT) {
            count(Counter.TCP_RESETS_SENT, 1);
        }
        release(NioTcpText.aborted(), true);
    }

    /**
     * For the endpoint's close: one last flush of the queued bytes, then the socket goes (the
     * kernel sends FIN, or RST if unread bytes remain).
     */
    void closeWithEndpoint() {
        if (released) {
            return;
        }
        if (queue.queued() > 0 && !finSent) {
            write();
        }
        if (!released) {
            release(closeReason != null ? closeReason : NioTcpText.endpointClosed(), false);
        }
    }

    /**
     * Closes the socket, gives the buffers back and leaves the endpoint's table: CLOSED.
     *
     * @param reason why (an orderly end passes the reason it already has)
     * @param reset  true to send RST (SO_LINGER 0) instead of FIN
     */
    private void release(final String reason, final boolean reset) {
        if (released) {
            return;
        }
        released = true;
        closeReason = reason;
        state = TcpState.CLOSED;
        try {
            if (reset && channel.isOpen()) {
                channel.setOption(StandardSocketOptions.SO_LINGER, 0);
            }
        } catch (final IOException e) {
            // the socket is going anyway
        }
        try {
            channel.close();
        } catch (final IOException e) {
            // the descriptor is released by close even when it reports an error
        }
        count(Counter.TCP_CLOSED, 1);
        table.remove(this, buffers);
        buffers = null;
        queue.detach();
    }
}
