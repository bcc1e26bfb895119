package io.bypass.samples.pingpong;

import io.bypass.net.Ipv4;
import io.bypass.samples.cli.Allocations;
import io.bypass.samples.cli.Args;
import io.bypass.samples.cli.Context;
import io.bypass.samples.cli.GroupPort;
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
import io.bypass.tcp.TcpState;
import io.bypass.threads.HiccupRecorder;
import org.HdrHistogram.Histogram;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.IdleStrategy;

/**
 * {@code bypass pingpong client --tcp}: round trips of sockperf ping-pong messages over one TCP
 * connection, so it measures against {@code sockperf server --tcp} (or our own server) as
 * {@code sockperf ping-pong --tcp} would: each message carries sockperf's header (sequence, client and
 * pong-request bits, length) and the client waits for the whole reply of that sequence, framed out of
 * the stream by {@link SockperfStream}. The request is written in place with {@code tryClaim}, one
 * flush per request; nothing is allocated per round trip.
 */
final class TcpPingPongClient {
    private static final long CONNECT_MILLIS = 5_000;
    private static final long CLOSE_NANOS = 2_000_000_000L;
    private static final int MAX_LATE_IN_A_ROW = 100;

    private TcpPingPongClient() {
    }

    static int run(final Args args, final Context ctx) throws UsageException {
        final GroupPort server = args.groupPort("--server");
        if (server == null) {
            throw new UsageException("client needs --server ADDRESS:PORT");
        }
        final long count = args.has("--count") ? args.longValue("--count", 1, Long.MAX_VALUE) : 100_000;
        final long warmup = args.longValue("--warmup", 0, Long.MAX_VALUE);
        final long timeout = args.durationNanos("--timeout");
        final int size = args.intValue("--msg-size", SockperfHeader.LENGTH, SockperfStream.MAX_MESSAGE);
        if (timeout <= 0) {
            throw new UsageException("--timeout must be positive");
        }
        final Histogram rtt = new Histogram(60_000_000_000L, 3);
        final HiccupRecorder pollGaps = new HiccupRecorder();
        final Replies replies = new Replies();
        final TcpClaim claim = new TcpClaim();
        ctx.pinCurrentThread();
        try (TcpEndpoint tcp = Tcp.open(ctx.uri(), ctx.err(), !ctx.progress())) {
            final IdleStrategy idle = ctx.idleStrategy();
            final TcpConnection c = tcp.connect(server.address(), server.port());
            if (Tcp.awaitEstablished(tcp, c, CONNECT_MILLIS, idle, ctx) != TcpState.ESTABLISHED) {
                ctx.err().println("pingpong client --tcp: could not connect to " + server + ": " + c.state() + " "
                    + (c.closeReason() == null ? "no answer in " + CONNECT_MILLIS + " ms" : c.closeReason()));
                c.abort();
                return 1;
            }
            if (size > c.maxClaimLength()) {
                ctx.err().println("pingpong client --tcp: --msg-size " + size + " is longer than the send queue (" + c.maxClaimLength() + " bytes)");
                c.abort();
                return 1;
            }
            if (ctx.progress()) {
                ctx.err().println("connected " + Ipv4.toString(c.localAddress()) + ":" + c.localPort() + " -> " + server);
            }
            final Progress progress = ctx.newProgress();
            final long start = System.nanoTime();
            long seq = 0;
            long measured = 0;
            long late = 0;
            long lateInARow = 0;
            long failures = 0;
            long lastMeasured = 0;
            boolean expired = false;
            String ended = null;
            long steadyFrom = -1;
            while (measured < count && !ctx.isStopped()) {
                if (seq == warmup) {
                    steadyFrom = Allocations.currentThread(); // the measured round trips allocate nothing
                }
                seq++;
                final long t0 = System.nanoTime();
                final int status = c.tryClaim(size, claim);
                if (status != TcpConnection.OK) {
                    failures++;
                    if (status == TcpConnection.CLOSED) {
                        ended = c.closeReason();
                        break;
                    }
                    c.flush();
                    idle.idle(Math.max(0, c.poll(replies, 16)));
                    continue;
                }
                SockperfHeader.encode(claim.buffer(), claim.offset(), seq, SockperfHeader.FLAG_CLIENT | SockperfHeader.FLAG_PONG_REQUEST, size);
                claim.buffer().setMemory(claim.offset() + SockperfHeader.LENGTH, size - SockperfHeader.LENGTH, (byte) 0);
                claim.commit();
                c.flush();
                replies.expect(seq);
                idle.reset();
                long now = t0;
                while (!replies.matched) {
                    final int n = c.poll(replies, 16);
                    now = System.nanoTime();
                    pollGaps.onPoll(now);
                    if (replies.matched || now - t0 > timeout || n == TcpConnection.CLOSED) {
                        break;
                    }
                    idle.idle(n);
                }
                if (!replies.matched) {
                    if (c.state() == TcpState.CLOSED || replies.stream.isBroken()) {
                        ended = replies.stream.isBroken() ? "reply stream lost its framing" : c.closeReason();
                        break;
                    }
                    late++; // TCP loses nothing: the reply is late, and is counted when it comes
                    if (++lateInARow == MAX_LATE_IN_A_ROW) {
                        ctx.err().println("pingpong client --tcp: no reply for " + MAX_LATE_IN_A_ROW + " requests in a row from " + server);
                        break;
                    }
                } else {
                    lateInARow = 0;
                    if (seq > warmup) {
                        rtt.recordValue(Math.min(replies.receivedNanos - t0, rtt.getHighestTrackableValue()));
                        measured++;
                    }
                }
                if (ctx.expired(start, now)) {
                    expired = true;
                    break;
                }
                if (progress.due(now)) {
                    final double secs = progress.elapsedSeconds(now);
                    progress.print(now, String.format("pingpong client --tcp: %,.0f rt/s  measured=%d late=%d p50=%.1fus p99=%.1fus",
                        (measured - lastMeasured) / secs, measured, late, rtt.getValueAtPercentile(50) / 1e3, rtt.getValueAtPercentile(99) / 1e3));
                    lastMeasured = measured;
                }
            }
            final long elapsed = System.nanoTime() - start;
            final long steadyBytes = steadyFrom < 0 ? -1 : Allocations.currentThread() - steadyFrom;
            c.close();
            final long closeBy = System.nanoTime() + CLOSE_NANOS;
            while (c.state() != TcpState.CLOSED && c.state() != TcpState.TIME_WAIT && System.nanoTime() < closeBy) {
                idle.idle(tcp.poll(16) + Math.max(0, c.poll(replies, 16)));
            }
            if (ended != null) {
                ctx.err().println("pingpong client --tcp: the connection ended: " + ended);
            }
            new Summary()
                .put("command", "pingpong-client")
                .put("transport", "tcp")
                .put("backend", tcp.backend())
                .put("uri", ctx.uri())
                .put("server", server.toString())
                .put("msg_size", size)
                .put("round_trips", measured)
                .put("warmup", Math.min(warmup, seq))
                .put("steady_allocated_bytes", steadyBytes)
                .put("late", late)
                .put("late_replies", replies.stale)
                .put("unexpected", replies.unexpected)
                .put("send_failures", failures)
                .put("ended", ended == null ? "" : ended)
                .put("stopped_by_duration", expired)
                .put("elapsed_s", elapsed / 1e9)
                .put("rate_rtps", (measured + Math.min(warmup, seq)) * 1e9 / Math.max(1, elapsed))
                .put("idle", ctx.idleName())
                .put("tcp", Tcp.counters(c.counters()))
                .percentiles("rtt", rtt)
                .pollGaps(pollGaps)
                .print(ctx);
            return measured == 0 || ended != null ? 1 : 0;
        }
    }

    /** Frames replies out of the stream and matches them to the outstanding request. */
    private static final class Replies implements TcpHandler, SockperfStream.MessageHandler {
        private final SockperfStream stream = new SockperfStream();
        private long expected;
        private boolean matched;
        private long receivedNanos;
        private long stale;
        private long unexpected;

        void expect(final long seq) {
            expected = seq;
            matched = false;
        }

        @Override
        public void onData(final DirectBuffer buffer, final int offset, final int length) {
            stream.onData(buffer, offset, length, this);
        }

        @Override
        public void onMessage(final DirectBuffer buffer, final int offset, final int length) {
            if (SockperfHeader.isClient(buffer, offset)) {
                unexpected++; // a server's reply has the client bit cleared
            } else if (SockperfHeader.sequence(buffer, offset) == expected) {
                receivedNanos = System.nanoTime();
                matched = true;
            } else {
                stale++;
            }
        }
    }
}
