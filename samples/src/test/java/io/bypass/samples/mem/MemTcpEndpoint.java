package io.bypass.samples.mem;

import io.bypass.Counters;
import io.bypass.PortUri;
import io.bypass.samples.codec.EnterOrder;
import io.bypass.samples.codec.OuchAccepted;
import io.bypass.samples.codec.SoupBinTcp;
import io.bypass.samples.codec.SoupBinTcpStream;
import io.bypass.tcp.TcpClaim;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.tcp.TcpHandler;
import io.bypass.tcp.TcpListener;
import io.bypass.tcp.TcpState;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * An in-memory TCP endpoint whose every connection is a SoupBinTCP exchange: it answers a Login
 * Request with Login Accepted, each Enter Order with an OUCH Accepted as Sequenced Data, and a
 * Logout Request by closing. So {@code trade}'s whole order path (client session, send, receive)
 * runs in the allocation test without a network. Allocation-free once connected.
 */
public final class MemTcpEndpoint implements TcpEndpoint {
    /** Enter Orders received by any mem connection since {@link #reset()}. */
    public static volatile long orders;

    private final PortUri uri;
    private final Counters counters = new Counters();
    private boolean closed;

    MemTcpEndpoint(final PortUri uri) {
        this.uri = uri;
    }

    /** Clears the count before a test. */
    public static void reset() {
        orders = 0;
    }

    @Override
    public String backend() {
        return "mem";
    }

    @Override
    public PortUri uri() {
        return uri;
    }

    @Override
    public TcpConnection connect(final int remoteAddress, final int remotePort) {
        return new Connection(remoteAddress, remotePort);
    }

    @Override
    public TcpListener listen(final int localPort) {
        throw new UnsupportedOperationException("mem connects only");
    }

    @Override
    public int poll(final int limit) {
        return 0;
    }

    @Override
    public Counters counters() {
        return counters;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
    }

    /** The exchange's end of one connection, answering as it reads. */
    private final class Connection implements TcpConnection, SoupBinTcpStream.PacketHandler {
        private final int remoteAddress;
        private final int remotePort;
        private final SoupBinTcpStream stream = new SoupBinTcpStream(this);
        private final SoupBinTcp packet = new SoupBinTcp();
        private final UnsafeBuffer replies = new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 16));
        private final byte[] session = SoupBinTcp.session("MEM");
        private int replyLength;
        private TcpState state = TcpState.ESTABLISHED;
        private String closeReason;
        private long orderRef;

        Connection(final int remoteAddress, final int remotePort) {
            this.remoteAddress = remoteAddress;
            this.remotePort = remotePort;
        }

        @Override
        public void onPacket(final DirectBuffer buffer, final int offset, final int length) {
            if (packet.wrap(buffer, offset, length) != SoupBinTcp.VALID) {
                throw new IllegalStateException("trade sent a malformed packet");
            }
            switch (packet.type()) {
                case SoupBinTcp.LOGIN_REQUEST -> replyLength += SoupBinTcp.putLoginAccepted(replies, replyLength, session, 1);
                case SoupBinTcp.UNSEQUENCED_DATA -> {
                    if (!EnterOrder.isEnterOrder(buffer, packet.payloadOffset(), packet.payloadLength())) {
                        throw new IllegalStateException("not an Enter Order");
                    }
                    orders++;
                    if (replyLength + 3 + OuchAccepted.LENGTH <= replies.capacity()) {
                        final int h = SoupBinTcp.putHeader(replies, replyLength, SoupBinTcp.SEQUENCED_DATA, OuchAccepted.LENGTH);
                        replyLength += h + OuchAccepted.encode(replies, replyLength + h, buffer, packet.payloadOffset(), 0, ++orderRef,
                            OuchAccepted.STATE_DEAD);
                    }
                }
                case SoupBinTcp.LOGOUT_REQUEST -> {
                    state = TcpState.CLOSED;
                    closeReason = "closed by peer";
                }
                default -> {
                }
            }
        }

        @Override
        public TcpState state() {
            return state;
        }

        @Override
        public int poll(final TcpHandler handler, final int limit) {
            if (replyLength == 0) {
                return state == TcpState.CLOSED ? CLOSED : 0;
            }
            handler.onData(replies, 0, replyLength);
            replyLength = 0;
            return 1;
        }

        @Override
        public int tryClaim(final int length, final TcpClaim claim) {
            throw new UnsupportedOperationException("the samples send with send()");
        }

        @Override
        public int send(final DirectBuffer buffer, final int offset, final int length) {
            if (!state.canSend()) {
                return CLOSED;
            }
            stream.onData(buffer, offset, length);
            return OK;
        }

        @Override
        public int flush() {
            return state.canSend() ? 0 : CLOSED;
        }

        @Override
        public int queuedBytes() {
            return 0;
        }

        @Override
        public int maxClaimLength() {
            return 1 << 16;
        }

        @Override
        public int localAddress() {
            return 0x0A090901;
        }

        @Override
        public int localPort() {
            return 40001;
        }

        @Override
        public int remoteAddress() {
            return remoteAddress;
        }

        @Override
        public int remotePort() {
            return remotePort;
        }

        @Override
        public String closeReason() {
            return closeReason;
        }

        @Override
        public Counters counters() {
            return counters;
        }

        @Override
        public void close() {
            state = TcpState.CLOSED;
            if (closeReason == null) {
                closeReason = "closed";
            }
        }

        @Override
        public int shutdownOutput() {
            if (state == TcpState.CLOSED) {
                return CLOSED;
            }
            state = TcpState.FIN_WAIT_1; // the in-memory exchange never sends after this
            return OK;
        }

        @Override
        public void abort() {
            state = TcpState.CLOSED;
            closeReason = "aborted";
        }
    }
}
