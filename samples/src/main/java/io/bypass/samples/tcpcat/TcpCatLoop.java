package io.bypass.samples.tcpcat;

import io.bypass.tcp.TcpClaim;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.tcp.TcpHandler;
import io.bypass.tcp.TcpState;
import io.bypass.threads.HiccupRecorder;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.IdleStrategy;

/**
 * tcpcat's polling loop over one connection: input chunks go into the send queue with
 * {@code tryClaim}/{@code commit} and one flush per turn, the peer's bytes go into output chunks
 * for the writer thread. Both directions end on their own: the input at end of file, the peer's at
 * its FIN. At end of input the loop half-closes ({@link TcpConnection#shutdownOutput()}: the FIN
 * follows every queued byte) and goes on receiving until the peer's FIN, as {@code nc -N} does,
 * then closes. No allocation per turn.
 */
final class TcpCatLoop implements TcpHandler {
    /** Most bytes per claim: a slice of a chunk that fits a send queue with other bytes in it. */
    static final int CLAIM_BYTES = 16 * 1024;
    private static final int POLL_LIMIT = 16;
    /** Runs taken from the connection per turn: few, so one turn's bytes fit the output chunks kept free. */
    private static final int RECEIVE_LIMIT = 4;
    /** Free output chunks needed before taking more of the peer's bytes. */
    private static final int FREE_CHUNKS_TO_RECEIVE = 16;

    private final TcpEndpoint tcp;
    private final TcpConnection connection;
    private final ChunkPipe in;
    private final ChunkPipe out;
    private final IdleStrategy idle;
    private final HiccupRecorder pollGaps;
    private final TcpClaim claim = new TcpClaim();
    private ChunkPipe.Chunk sending;
    private int sendingAt;
    private ChunkPipe.Chunk receiving;
    private boolean inputEnded;
    private boolean peerEnded;
    private boolean outputShut;
    private boolean closed;
    private String failure;
    long bytesSent;
    long bytesReceived;
    long outputWaits;
    long lastPollNanos;

    TcpCatLoop(final TcpEndpoint tcp, final TcpConnection connection, final ChunkPipe in, final ChunkPipe out,
        final IdleStrategy idle, final HiccupRecorder pollGaps) {
        this.tcp = tcp;
        this.connection = connection;
        this.in = in;
        this.out = out;
        this.idle = idle;
        this.pollGaps = pollGaps;
    }

    /** One turn: the stack, the peer's bytes, the input's bytes, one flush, the close when both ended. */
    int doWork() {
        int work = tcp.poll(POLL_LIMIT);
        work += receive();
        if (!inputEnded) {
            work += send();
        }
        if (connection.queuedBytes() > 0) {
            connection.flush();
        }
        if (!outputShut && !closed && inputEnded) {
            outputShut = connection.shutdownOutput() == TcpConnection.OK; // the FIN after every queued byte
            work++;
        }
        if (!closed && outputShut && peerEnded) {
            connection.close(); // both directions have ended
            closed = true;
            work++;
        }
        if (!closed && connection.state() == TcpState.CLOSED) {
            closed = true;
            // "closed" after our FIN: both FINs went and every byte was delivered before the peer's, which may
            // end the connection between two of our polls; anything else (reset, timed out) is a failure
            if (!outputShut || !"closed".equals(connection.closeReason())) {
                failure = connection.closeReason();
            }
            endOutput();
        }
        final long now = System.nanoTime();
        lastPollNanos = now;
        pollGaps.onPoll(now);
        idle.idle(work);
        return work;
    }

    private int receive() {
        if (peerEnded) {
            return Math.max(0, connection.poll(this, POLL_LIMIT)); // carries our close through
        }
        if (receiving == null && out.freeChunks() < FREE_CHUNKS_TO_RECEIVE) {
            return 0; // the writer is behind: leave the bytes below, whose window then closes
        }
        final int n = connection.poll(this, RECEIVE_LIMIT);
        if (receiving != null && receiving.length > 0) {
            out.put(receiving); // hand each turn's bytes over now: tcpcat is interactive too
            receiving = null;
        }
        if (n == TcpConnection.CLOSED || n == 0 && peerHasFinished(connection.state())) {
            endOutput();
        }
        return Math.max(0, n);
    }

    private static boolean peerHasFinished(final TcpState s) {
        return s == TcpState.CLOSE_WAIT || s == TcpState.LAST_ACK || s == TcpState.CLOSING || s == TcpState.TIME_WAIT || s == TcpState.CLOSED;
    }

    private void endOutput() {
        if (!peerEnded) {
            peerEnded = true;
            if (receiving != null) {
                out.put(receiving);
                receiving = null;
            }
            out.end();
        }
    }

    @Override
    public void onData(final DirectBuffer buffer, final int offset, final int length) {
        int at = 0;
        while (at < length) {
            if (receiving == null) {
                receiving = out.takeFree();
                if (receiving == null) {
                    outputWaits++; // more came in one poll than the free chunks hold: wait for the writer
                    receiving = out.awaitFree(() -> false);
                }
            }
            final int n = Math.min(length - at, out.chunkSize() - receiving.length);
            receiving.view.putBytes(receiving.length, buffer, offset + at, n);
            receiving.length += n;
            at += n;
            if (receiving.length == out.chunkSize()) {
                out.put(receiving);
                receiving = null;
            }
        }
        bytesReceived += length;
    }

    private int send() {
        int work = 0;
        while (true) {
            if (sending == null) {
                sending = in.take();
                sendingAt = 0;
                if (sending == null) {
                    if (in.isDrained()) {
                        inputEnded = true;
                    }
                    return work;
                }
            }
            final int length = Math.min(sending.length - sendingAt, Math.min(CLAIM_BYTES, connection.maxClaimLength()));
            final int status = connection.tryClaim(length, claim);
            if (status != TcpConnection.OK) {
                if (status == TcpConnection.CLOSED) {
                    inputEnded = true; // the connection ended under us: what is left of the input goes nowhere
                    failure = failure == null ? "connection ended with input unsent: " + connection.closeReason() : failure;
                }
                return work;
            }
            claim.buffer().putBytes(claim.offset(), sending.view, sendingAt, length);
            claim.commit();
            sendingAt += length;
            bytesSent += length;
            work++;
            if (sendingAt == sending.length) {
                in.recycle(sending);
                sending = null;
            }
        }
    }

    /** @return true once this side closed and the connection has ended */
    boolean isDone() {
        final TcpState s = connection.state();
        return closed && (s == TcpState.CLOSED || s == TcpState.TIME_WAIT);
    }

    /** @return true once this side has closed */
    boolean isClosed() {
        return closed;
    }

    /** Ends the run early (Ctrl-C, --duration): the FIN after what is queued, nothing more read. */
    void stop() {
        inputEnded = true;
        if (!closed) {
            connection.close();
            closed = true;
        }
        endOutput();
    }

    /** @return why the connection ended badly, or null */
    String failure() {
        return failure;
    }

    /** @return true once the peer's FIN (or the end of the connection) has been seen */
    boolean peerEnded() {
        return peerEnded;
    }

    /** @return true once the input has ended and all of it was queued */
    boolean inputEnded() {
        return inputEnded;
    }
}
