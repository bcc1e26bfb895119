package io.bypass.samples.pingpong;

import io.bypass.samples.cli.Allocations;
import io.bypass.samples.cli.Args;
import io.bypass.samples.cli.Context;
import io.bypass.samples.cli.Progress;
import io.bypass.samples.cli.Summary;
import io.bypass.samples.cli.Tcp;
import io.bypass.samples.cli.UsageException;
import io.bypass.samples.codec.SockperfHeader;
import io.bypass.samples.codec.SockperfStream;
import io.bypass.tcp.TcpClaim;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.tcp.TcpHandler;
import io.bypass.tcp.TcpListener;
import io.bypass.tcp.TcpState;
import io.bypass.threads.HiccupRecorder;
import io.bypass.udp.DutyCycle;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * {@code bypass pingpong server --tcp}: answers {@code sockperf ping-pong --tcp} (and {@code under-load})
 * exactly as {@code sockperf server --tcp} does. Each accepted connection's stream is framed by the
 * length in sockperf's header ({@link SockperfStream}); a client pong request goes back whole with the
 * client bit cleared, written straight into the send queue with {@code tryClaim}/{@code commit} during
 * the poll and sent with one {@code flush} per connection per poll batch. Replies that find the send
 * queue full wait in a fixed backlog, in order, and go first next time. No allocation per message
 * once connections are accepted.
 */
final class TcpPingPongServer {
    /** Most connections served at once (sockperf opens one per client). */
    static final int MAX_CONNECTIONS = 64;
    private static final int BACKLOG_BYTES = 1 << 20;
    /**
     * Replies after which the allocation reading starts: the loop is compiled, its objects made, and the
     * JDK's one-off work behind the backend's hot calls (such as customising an FFM downcall's method
     * handle, a few hundred KB once it is hot) is done, as the backends' own allocation tests warm up.
     */
    private static final long STEADY_AFTER = 20_000;
    /**
     * How often the listener is asked for new connections: on nio each ask is an accept(2) syscall
     * (and a few JDK objects), which need not sit in every turn of a loop measured in microseconds.
     */
    private static final long ACCEPT_INTERVAL_NANOS = 1_000_000L;

    private TcpPingPongServer() {
    }

    static int run(final Args args, final Context ctx) throws UsageException {
        final int port = args.intValue("--port", 1, 65535);
        final long count = args.has("--count") ? args.longValue("--count", 0, Long.MAX_VALUE) : 0;
        final int batch = args.intValue("--batch", 1, 1024);
        final int warmUp = args.intValue("--warm-up", 0, 100_000_000);
        final HiccupRecorder pollGaps = new HiccupRecorder();
        ctx.pinCurrentThread();
        try (TcpEndpoint tcp = Tcp.open(ctx.uri(), ctx.err(), !ctx.progress())) {
            final TcpListener listener = tcp.listen(port);
            final Loop loop = new Loop(tcp, listener, batch, ctx.idleStrategy(), pollGaps);
            if (warmUp > 0) {
                warmUp(warmUp, ctx);
            }
            final Progress progress = ctx.newProgress();
            final long start = System.nanoTime();
            ctx.ready();
            long lastReplies = 0;
            long steadyFrom = -1;
            long steadyReplies = 0;
            long acceptsBefore = 0;
            long endsBefore = 0;
            while (!ctx.isStopped()) {
                loop.doWork();
                final long now = loop.lastPollNanos;
                if (steadyFrom < 0 && loop.replies >= STEADY_AFTER) {
                    steadyFrom = Allocations.currentThread();
                    steadyReplies = loop.replies;
                    acceptsBefore = loop.acceptAllocated;
                    endsBefore = loop.endAllocated;
                }
                if ((count > 0 && loop.replies >= count) || ctx.expired(start, now)) {
                    break;
                }
                if (progress.due(now)) {
                    final double secs = progress.elapsedSeconds(now);
                    progress.print(now, String.format("pingpong server --tcp: %,.0f replies/s  connections=%d open=%d warmup=%d",
                        (loop.replies - lastReplies) / secs, loop.accepted, loop.open, loop.warmupMessages));
                    lastReplies = loop.replies;
                }
            }
            // what the loop allocated after warming up, less the listener's checks, new connections and ended ones (not per message)
            final long steadyBytes = steadyFrom < 0 ? -1
                : Allocations.currentThread() - steadyFrom - (loop.acceptAllocated - acceptsBefore) - (loop.endAllocated - endsBefore);
            listener.close();
            new Summary()
                .put("command", "pingpong-server")
                .put("transport", "tcp")
                .put("backend", tcp.backend())
                .put("uri", ctx.uri())
                .put("port", port)
                .put("connections", loop.accepted)
                .put("connections_refused", loop.refused)
                .put("sockperf_replies", loop.replies)
                .put("sockperf_warmup", loop.warmupMessages)
                .put("sockperf_no_reply", loop.noReply)
                .put("gathered", loop.gathered())
                .put("unframed_streams", loop.unframed)
                .put("backlogged", loop.backlogged)
                .put("backlog_full", loop.backlogFull)
                .put("send_failures", loop.failures)
                .put("bytes_in", loop.bytesIn)
                .put("bytes_replied", loop.bytesReplied)
                .put("steady_replies", steadyFrom < 0 ? 0 : loop.replies - steadyReplies)
                .put("steady_allocated_bytes", steadyBytes)
                .put("listener_allocated_bytes", loop.acceptAllocated)
                .put("teardown_allocated_bytes", loop.endAllocated)
                .put("tcp", Tcp.counters(tcp.counters()))
                .drops(tcp.counters())
                .put("elapsed_s", (System.nanoTime() - start) / 1e9)
                .pollGaps(pollGaps)
                .print(ctx);
            return 0;
        }
    }

    /**
     * Pushes synthetic sockperf requests, split and coalesced, through the framing and reply encoding
     * before the server reports ready, so the first live requests do not meet them interpreted.
     */
    private static void warmUp(final int messages, final Context ctx) {
        final SockperfStream stream = new SockperfStream();
        final UnsafeBuffer run = new UnsafeBuffer(new byte[3 * 64]);
        final UnsafeBuffer reply = new UnsafeBuffer(new byte[SockperfStream.MAX_MESSAGE]);
        for (int i = 0; i < 3; i++) {
            SockperfHeader.encode(run, i * 64, i, SockperfHeader.FLAG_CLIENT | SockperfHeader.FLAG_PONG_REQUEST, 64);
        }
        final SockperfStream.MessageHandler echo = (b, o, l) -> {
            if (SockperfHeader.wantsReply(b, o, l)) {
                reply.putBytes(0, b, o, l);
                SockperfHeader.toReply(reply, 0);
            }
        };
        final long t = System.nanoTime();
        for (int i = 0; i < messages / 3; i++) {
            final int split = 1 + i % 100;
            stream.onData(run, 0, split, echo);
            stream.onData(run, split, run.capacity() - split, echo);
        }
        if (ctx.progress()) {
            ctx.err().printf("warm-up: %,d sockperf requests through the TCP framing and reply encoding in %.0f ms%n", messages,
                (System.nanoTime() - t) / 1e6);
        }
    }

    /** The server's loop: the endpoint, its listener and every accepted connection, polled in turn. */
    private static final class Loop implements DutyCycle {
        private final TcpEndpoint tcp;
        private final TcpListener listener;
        private final int batch;
        private final IdleStrategy idle;
        private final HiccupRecorder pollGaps;
        private final Session[] sessions = new Session[MAX_CONNECTIONS];
        private long lastPollNanos;
        private long accepted;
        private long lastAcceptNanos;
        private long acceptAllocated;
        private long endAllocated;
        private long refused;
        private int open;
        private long replies;
        private long warmupMessages;
        private long noReply;
        private long gathered;
        private long unframed;
        private long backlogged;
        private long backlogFull;
        private long failures;
        private long bytesIn;
        private long bytesReplied;

        Loop(final TcpEndpoint tcp, final TcpListener listener, final int batch, final IdleStrategy idle, final HiccupRecorder pollGaps) {
            this.tcp = tcp;
            this.listener = listener;
            this.batch = batch;
            this.idle = idle;
            this.pollGaps = pollGaps;
        }

        @Override
        public int doWork() {
            int work = tcp.poll(batch);
            if (lastPollNanos - lastAcceptNanos >= ACCEPT_INTERVAL_NANOS) {
                lastAcceptNanos = lastPollNanos;
                // counted apart: accepting a connection allocates its objects (an idle accept() allocates nothing)
                final long before = Allocations.currentThread();
                final TcpConnection c = listener.accept();
                if (c != null) {
                    accept(c);
                    work++;
                }
                acceptAllocated += Allocations.currentThread() - before;
            }
            for (int i = 0; i < sessions.length; i++) {
                final Session s = sessions[i];
                if (s != null) {
                    final long before = Allocations.currentThread();
                    work += s.doWork();
                    if (s.ended) {
                        endAllocated += Allocations.currentThread() - before; // a connection's end: not per message
                        gathered += s.stream.gathered();
                        sessions[i] = null;
                        open--;
                    }
                }
            }
            final long now = System.nanoTime();
            lastPollNanos = now;
            pollGaps.onPoll(now);
            idle.idle(work);
            return work;
        }

        /** @return requests gathered from pieces, on every connection so far */
        long gathered() {
            long sum = gathered;
            for (final Session s : sessions) {
                sum += s == null ? 0 : s.stream.gathered();
            }
            return sum;
        }

        /** A new connection: allocates its session (not steady state). */
        private void accept(final TcpConnection c) {
            accepted++;
            for (int i = 0; i < sessions.length; i++) {
                if (sessions[i] == null) {
                    sessions[i] = new Session(this, c);
                    open++;
                    return;
                }
            }
            refused++; // more than MAX_CONNECTIONS at once: said with a RST
            c.abort();
        }
    }

    /** One connection: frames its stream, answers pong requests, holds replies the send queue refused. */
    private static final class Session implements TcpHandler, SockperfStream.MessageHandler {
        private final Loop loop;
        private final TcpConnection connection;
        private final SockperfStream stream = new SockperfStream();
        private final TcpClaim claim = new TcpClaim();
        private final UnsafeBuffer backlog = new UnsafeBuffer(ByteBuffer.allocateDirect(BACKLOG_BYTES));
        private int backlogStart;
        private int backlogEnd;
        private boolean ended;

        Session(final Loop loop, final TcpConnection connection) {
            this.loop = loop;
            this.connection = connection;
        }

        int doWork() {
            final int n = connection.poll(this, loop.batch);
            if (n == TcpConnection.CLOSED) {
                ended = true;
                return 1;
            }
            if (stream.isBroken() || backlogEnd == BACKLOG_BYTES) {
                connection.abort(); // a stream without framing, or a client that never reads its replies
                ended = true;
                return 1;
            }
            if (backlogEnd > backlogStart) {
                drainBacklog();
            }
            if (connection.queuedBytes() > 0) {
                connection.flush(); // one flush per poll batch; what does not fit goes with a later one
            }
            if (connection.state() == TcpState.CLOSE_WAIT && backlogEnd == backlogStart && connection.queuedBytes() == 0) {
                connection.close(); // the client closed after its last reply went: our FIN; idempotent
            }
            return Math.max(0, n);
        }

        @Override
        public void onData(final DirectBuffer buffer, final int offset, final int length) {
            loop.bytesIn += length;
            if (!stream.onData(buffer, offset, length, this)) {
                loop.unframed++;
            }
        }

        @Override
        public void onMessage(final DirectBuffer buffer, final int offset, final int length) {
            if (!SockperfHeader.wantsReply(buffer, offset, length)) {
                if (SockperfHeader.isClient(buffer, offset) && (SockperfHeader.flags(buffer, offset) & SockperfHeader.FLAG_WARMUP) != 0) {
                    loop.warmupMessages++;
                } else {
                    loop.noReply++;
                }
                return;
            }
            if (backlogEnd == backlogStart) {
                final int status = connection.tryClaim(length, claim);
                if (status == TcpConnection.OK) {
                    claim.buffer().putBytes(claim.offset(), buffer, offset, length);
                    SockperfHeader.toReply(claim.buffer(), claim.offset());
                    claim.commit();
                    loop.replies++;
                    loop.bytesReplied += length;
                    return;
                }
                if (status != TcpConnection.BACK_PRESSURED) {
                    loop.failures++; // the connection has ended: nobody to answer
                    return;
                }
            }
            if (backlogEnd + length > BACKLOG_BYTES) {
                loop.backlogFull++;
                backlogEnd = BACKLOG_BYTES; // doWork aborts: a TCP reply cannot be dropped and the stream go on
                return;
            }
            backlog.putBytes(backlogEnd, buffer, offset, length);
            SockperfHeader.toReply(backlog, backlogEnd);
            backlogEnd += length;
            loop.backlogged++;
        }

        /** Queues held replies in order until the send queue refuses one. */
        private void drainBacklog() {
            while (backlogStart < backlogEnd) {
                final int length = (int) SockperfHeader.messageLength(backlog, backlogStart);
                final int status = connection.tryClaim(length, claim);
                if (status != TcpConnection.OK) {
                    if (status != TcpConnection.BACK_PRESSURED) {
                        loop.failures += 1;
                        backlogStart = backlogEnd;
                    }
                    break;
                }
                claim.buffer().putBytes(claim.offset(), backlog, backlogStart, length);
                claim.commit();
                loop.replies++;
                loop.bytesReplied += length;
                backlogStart += length;
            }
            if (backlogStart == backlogEnd) {
                backlogStart = 0;
                backlogEnd = 0;
            }
        }
    }
}
