package io.bypass.samples.pingpong;

import io.bypass.PortUri;
import io.bypass.samples.cli.AppCounters;
import io.bypass.samples.cli.Args;
import io.bypass.samples.cli.Command;
import io.bypass.samples.cli.Context;
import io.bypass.samples.cli.GroupPort;
import io.bypass.samples.cli.Options;
import io.bypass.samples.cli.Progress;
import io.bypass.samples.cli.Summary;
import io.bypass.samples.cli.Udp;
import io.bypass.samples.cli.UsageException;
import io.bypass.samples.codec.PingMessage;
import io.bypass.samples.codec.SockperfHeader;
import io.bypass.spi.RxStallBudget;
import io.bypass.threads.HiccupRecorder;
import io.bypass.udp.DatagramClaim;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.DatagramMeta;
import io.bypass.udp.DutyCycle;
import io.bypass.udp.UdpDestination;
import io.bypass.udp.UdpEndpoint;
import org.HdrHistogram.Histogram;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;

import static io.bypass.samples.cli.Summary.refreshed;

/**
 * {@code bypass pingpong client|server}: order/ack round trips with a fixed 32-byte
 * message, warm-up excluded, percentiles from HdrHistogram. The server also answers
 * {@code sockperf ping-pong} clients exactly as a sockperf server does, so Bypass can be
 * measured with the tool used for Onload and VMA. Both roles report the polling loop's
 * stalls ({@code poll_gap_*}), the gaps between consecutive polls; the client's include the
 * send between round trips.
 *
 * <pre>
 * bypass pingpong server --uri afxdp:veth1 --port 11111
 * bypass pingpong client --uri afxdp:veth0 --server 10.0.0.2:11111 --count 100000 --json
 * sockperf ping-pong -i 10.0.0.2 -p 11111 --time 5
 * </pre>
 *
 * <p>Every role sizes its receive buffering for request/response ({@code rxStallMs=10}, see
 * {@link #REQUEST_RESPONSE_STALL_MS}) unless the URI gives {@code rxStallMs} or {@code rxStallPps} (with
 * {@code --tcp}: on {@code afxdp:} and {@code dpdk:}, whose TCP is Bypass's own); the URI it prints and
 * reports shows what it opened.
 *
 * <p>With {@code --tcp} both roles speak sockperf's TCP framing over Bypass TCP ({@link TcpPingPongServer},
 * {@link TcpPingPongClient}): {@code sockperf ping-pong --tcp} measures the server, and the client measures
 * {@code sockperf server --tcp}.
 */
public final class PingPongCommand implements Command {
    /** Default server port: sockperf's default. */
    public static final String DEFAULT_PORT = "11111";
    /**
     * The receive budget every role asks for when its URI gives none ({@code rxStallMs}, at the
     * default 200,000 pps: 2,000 frames, a 2048-deep ring on afxdp). A ping-pong endpoint never has
     * more requests waiting than its peers have in flight, so it does not need the library's default
     * budget (50 ms, 10,000 frames), which is sized for a feed that keeps coming while the poller
     * stalls. Depth costs such an endpoint latency: the kernel writes each request into the frame
     * given back a ring's depth of requests earlier, colder the deeper the ring (sockperf against the
     * server on a veth, spinning client: 5.8% slower than a C reflector with 2048-deep rings at the
     * default depth, 0.2-4% at this one over ten runs; docs/benchmarks.md).
     */
    static final int REQUEST_RESPONSE_STALL_MS = 10;
    private static final long SEND_TIMEOUT = 1_000_000_000L;
    private static final int MAX_LOST_IN_A_ROW = 100;

    /** Creates the command. */
    public PingPongCommand() {
    }

    @Override
    public String name() {
        return "pingpong";
    }

    @Override
    public Options options() {
        return Context.common(new Options("pingpong",
            "order/ack round trips; the server also answers sockperf ping-pong (--tcp: sockperf over TCP both ways)"), true, null)
            .positional("ROLE", "client", "server")
            .flag("--tcp", "over TCP (Bypass TCP, sockperf's TCP framing) instead of UDP: answers or measures sockperf --tcp")
            .value("--port", "PORT", "server: UDP (or with --tcp, TCP) port to answer on", DEFAULT_PORT)
            .value("--server", "ADDRESS:PORT", "client: the server", null)
            .value("--bind", "PORT", "client: local UDP port for acks", "11112")
            .value("--count", "N", "client: measured round trips; server: stop after N replies (0 = no limit)", null)
            .value("--warmup", "N", "client: round trips before measuring", "10000")
            .value("--timeout", "TIME", "client: give up on one ack after TIME (counted lost; with --tcp counted late)", "200ms")
            .value("--msg-size", "BYTES", "client --tcp: sockperf message size, header included (sockperf -m)", "64")
            .value("--batch", "N", "server: datagrams per poll (--tcp: runs of bytes per connection per poll)", "32")
            .value("--warm-up", "N", "server: before reporting ready, push N synthetic orders through the receive and send paths "
                + "(--tcp: sockperf requests through the framing; 0 = none)",
                String.valueOf(io.bypass.samples.feed.FeedWarmUp.DEFAULT_DATAGRAMS));
    }

    @Override
    public int run(final Args args, final Context ctx) throws UsageException {
        final boolean tcp = args.flag("--tcp");
        // Bypass's TCP runs on afxdp's and dpdk's rings; nio's is the kernel's, whose window holds the sender
        // back, and takes no receive budget (auto: may pick it)
        final String scheme = PortUri.parse(ctx.uri()).scheme();
        if (!tcp || scheme.equals("afxdp") || scheme.equals("dpdk")) {
            ctx.defaultUriParam(RxStallBudget.STALL_MS_PARAM_NAME, String.valueOf(REQUEST_RESPONSE_STALL_MS),
                RxStallBudget.RATE_PPS_PARAM_NAME);
        }
        if (tcp) {
            return "server".equals(args.positional(0)) ? TcpPingPongServer.run(args, ctx) : TcpPingPongClient.run(args, ctx);
        }
        return "server".equals(args.positional(0)) ? server(args, ctx) : client(args, ctx);
    }

    private int server(final Args args, final Context ctx) throws UsageException {
        final int port = args.intValue("--port", 1, 65535);
        final long count = args.has("--count") ? args.longValue("--count", 0, Long.MAX_VALUE) : 0;
        final int batch = args.intValue("--batch", 1, 1024);
        final int warmUp = args.intValue("--warm-up", 0, 100_000_000);
        final HiccupRecorder pollGaps = new HiccupRecorder();
        ctx.pinCurrentThread();
        try (UdpEndpoint udp = Udp.open(ctx.uri(), ctx.err(), !ctx.progress())) {
            udp.bind(port);
            final IdleStrategy idle = ctx.idleStrategy();
            final Server server = new Server(udp, batch, idle, pollGaps, 0);
            final AppCounters published = new AppCounters("pingpong-server", ctx.uri()).add("replies", server::replies)
                .add("orders", () -> server.orders).add("sockperf_replies", () -> server.sockperf).add("ignored", server::ignored)
                .add("send_failures", () -> server.failures).publish();
            if (warmUp > 0) {
                warmUp(udp, batch, warmUp, ctx);
            }
            server.progress(ctx.newProgress());
            final long start = System.nanoTime();
            ctx.ready();
            while (!ctx.isStopped()) {
                server.doWork();
                final long now = server.lastPollNanos;
                if ((count > 0 && server.replies() >= count) || ctx.expired(start, now)) {
                    break;
                }
            }
            published.close();
            new Summary()
                .put("command", "pingpong-server")
                .put("backend", udp.backend())
                .put("uri", ctx.uri())
                .put("port", port)
                .put("orders", server.orders)
                .put("sockperf_replies", server.sockperf)
                .put("sockperf_warmup", server.sockperfWarmup)
                .put("sockperf_no_reply", server.sockperfNoReply)
                .put("unknown", server.unknown)
                .put("backlog_full", server.backlogFull)
                .put("send_failures", server.failures)
                .drops(refreshed(udp))
                .put("elapsed_s", (System.nanoTime() - start) / 1e9)
                .pollGaps(pollGaps)
                .print(ctx);
            return 0;
        }
    }

    // The warm-up's reply-address cache misses once in this many requests, as the live one does for a new client.
    private static final int WARM_UP_FORGET_EVERY = 1024;
    // The warm-up prints a progress line this often, into a stream that discards it.
    private static final long WARM_UP_PROGRESS_NANOS = 4_000_000L;

    /**
     * Runs the server's own duty cycle over synthetic requests before it reports ready: half
     * sockperf ping-pong requests, half orders, answered through the real send path to the
     * warm-up's placeholder sender (nothing reaches the wire). The live loop then starts
     * compiled for requests that arrive and are answered, not for an empty ring.
     */
    private static void warmUp(final UdpEndpoint udp, final int batch, final int datagrams, final Context ctx) {
        final Server scratch = new Server(udp, batch, ctx.idleStrategy(), new HiccupRecorder(), WARM_UP_FORGET_EVERY);
        scratch.progress(new Progress(new PrintStream(OutputStream.nullOutputStream()), true, System.nanoTime(),
            WARM_UP_PROGRESS_NANOS));
        final UnsafeBuffer request = new UnsafeBuffer(new byte[SockperfHeader.LENGTH + 50]);
        SockperfHeader.encode(request, 0, 1, SockperfHeader.FLAG_CLIENT | SockperfHeader.FLAG_PONG_REQUEST, request.capacity());
        final UnsafeBuffer order = new UnsafeBuffer(new byte[PingMessage.LENGTH]);
        PingMessage.encode(order, 0, PingMessage.ORDER, 1, System.nanoTime(), 0);
        final long t = System.nanoTime();
        for (int round = 0; round < 2; round++) {
            udp.warmUpDutyCycle(scratch, request, 0, request.capacity(), datagrams / 4);
            udp.warmUpDutyCycle(scratch, order, 0, PingMessage.LENGTH, datagrams / 4);
        }
        if (ctx.progress()) {
            ctx.err().printf("warm-up: %,d requests through the server's receive-and-reply loop in %.0f ms%n", datagrams,
                (System.nanoTime() - t) / 1e6);
        }
    }

    /**
     * The server's receive path: writes each answer straight into a claimed TX frame during
     * poll (one copy, request to reply) and flushes once after the poll. When it cannot claim
     * (a neighbour still resolving, the TX ring full) or answers are already waiting, the
     * answer goes to a reply slot instead and is sent after the poll, in arrival order, by
     * {@link Udp#send}, which polls while the neighbour resolves; the callback itself never
     * polls.
     */
    private static final class Server implements DatagramHandler, DutyCycle {
        private final UdpEndpoint udp;
        private final int batch;
        private final IdleStrategy idle;
        private final HiccupRecorder pollGaps;
        private final UnsafeBuffer[] slots;
        private final int[] lengths;
        private final UdpDestination[] to;
        private final DestinationCache cache;
        private final DatagramClaim claim = new DatagramClaim();
        private int pending;
        private int claimed;
        private long orders;
        private long sockperf;
        private long sockperfWarmup;
        private long sockperfNoReply;
        private long unknown;
        private long backlogFull;
        private long failures;

        private long lastPollNanos;
        private Progress progress;
        private long lastReplies;

        Server(final UdpEndpoint udp, final int batch, final IdleStrategy idle, final HiccupRecorder pollGaps,
               final int forgetEvery) {
            this.udp = udp;
            this.cache = new DestinationCache(64, forgetEvery);
            this.pollGaps = pollGaps;
            this.batch = batch;
            this.idle = idle;
            // room for the requests sendReplies' polls take in while a neighbour resolves
            final int capacity = batch + 4 * Udp.PENDING_POLL_LIMIT;
            slots = new UnsafeBuffer[capacity];
            lengths = new int[capacity];
            to = new UdpDestination[capacity];
            for (int i = 0; i < capacity; i++) {
                slots[i] = new UnsafeBuffer(ByteBuffer.allocateDirect(65536));
            }
        }

        @Override
        public void onDatagram(final DirectBuffer buffer, final int offset, final int length, final DatagramMeta meta) {
            if (pending == slots.length) {
                // only when requests keep coming while a reply's neighbour resolves: counted, never unseen
                backlogFull++;
                return;
            }
            final boolean order = PingMessage.is(buffer, offset, length, PingMessage.ORDER);
            final int replyLength;
            if (order) {
                replyLength = PingMessage.LENGTH;
                orders++;
            } else if (SockperfHeader.wantsReply(buffer, offset, length)) {
                replyLength = length;
                sockperf++;
            } else {
                if (length >= SockperfHeader.LENGTH && SockperfHeader.isClient(buffer, offset)) {
                    if ((SockperfHeader.flags(buffer, offset) & SockperfHeader.FLAG_WARMUP) != 0) {
                        sockperfWarmup++;
                    } else {
                        sockperfNoReply++;
                    }
                } else {
                    unknown++;
                }
                return;
            }
            final UdpDestination destination = cache.get(meta.sourceAddress(), meta.sourcePort());
            // answers already waiting in slots go first, so a later one never overtakes them
            if (pending == 0) {
                final int rc = udp.tryClaim(destination, replyLength, claim);
                if (rc == UdpEndpoint.OK) {
                    writeReply(buffer, offset, length, order, claim.buffer());
                    claim.commit();
                    claimed++;
                    return;
                }
                if (rc == UdpEndpoint.TOO_LONG) {
                    failures++; // counted by the endpoint as DROP_TOO_LONG too
                    return;
                }
            }
            writeReply(buffer, offset, length, order, slots[pending]);
            lengths[pending] = replyLength;
            to[pending] = destination;
            pending++;
        }

        // an order's ack, or the sockperf request turned into its reply
        private static void writeReply(final DirectBuffer request, final int offset, final int length, final boolean order,
                                       final MutableDirectBuffer reply) {
            if (order) {
                PingMessage.encode(reply, 0, PingMessage.ACK, PingMessage.sequence(request, offset),
                    PingMessage.sendNanos(request, offset), System.nanoTime());
            } else {
                reply.putBytes(0, request, offset, length);
                SockperfHeader.toReply(reply, 0);
            }
        }

        // before the first doWork: where the loop's progress lines go
        void progress(final Progress progress) {
            this.progress = progress;
            lastReplies = replies();
        }

        /**
         * One turn of the server's loop, idling included: take in up to a batch of requests,
         * answer them, record the gap since the last poll, print the progress line when due,
         * idle if there was nothing. All of it runs in the warm-up too (its progress lines
         * discarded), so no branch of it meets live traffic uncompiled.
         */
        @Override
        public int doWork() {
            final int n = udp.poll(this, batch);
            if (pending > 0) {
                sendReplies();
            } else if (claimed > 0) {
                claimed = 0;
                udp.flush();
            }
            final long now = System.nanoTime();
            lastPollNanos = now;
            pollGaps.onPoll(now);
            if (progress.due(now)) {
                printProgress(now);
            }
            idle.idle(n);
            return n;
        }

        private void printProgress(final long now) {
            final double secs = progress.elapsedSeconds(now);
            progress.print(now, String.format("pingpong server: %,.0f replies/s  orders=%d sockperf=%d ignored=%d",
                (replies() - lastReplies) / secs, orders, sockperf, ignored()));
            lastReplies = replies();
        }

        private void sendReplies() {
            for (int i = 0; i < pending; i++) {
                if (Udp.send(udp, to[i], slots[i], 0, lengths[i], idle, SEND_TIMEOUT, this) != UdpEndpoint.OK) {
                    failures++;
                }
                to[i] = null;
            }
            pending = 0;
            claimed = 0;
            udp.flush();
        }

        long replies() {
            return orders + sockperf;
        }

        long ignored() {
            return sockperfWarmup + sockperfNoReply + unknown;
        }
    }

    private int client(final Args args, final Context ctx) throws UsageException {
        final GroupPort server = args.groupPort("--server");
        if (server == null) {
            throw new UsageException("client needs --server ADDRESS:PORT");
        }
        final int bindPort = args.intValue("--bind", 1, 65535);
        final long count = args.has("--count") ? args.longValue("--count", 1, Long.MAX_VALUE) : 100_000;
        final long warmup = args.longValue("--warmup", 0, Long.MAX_VALUE);
        final long timeout = args.durationNanos("--timeout");
        if (timeout <= 0) {
            throw new UsageException("--timeout must be positive");
        }
        final UdpDestination dest = server.destination();
        final Histogram rtt = new Histogram(60_000_000_000L, 3);
        final UnsafeBuffer order = new UnsafeBuffer(ByteBuffer.allocateDirect(PingMessage.LENGTH));
        final AckHandler acks = new AckHandler();
        final HiccupRecorder pollGaps = new HiccupRecorder();
        ctx.pinCurrentThread();
        try (UdpEndpoint udp = Udp.open(ctx.uri(), ctx.err(), !ctx.progress())) {
            udp.bind(bindPort);
            final IdleStrategy idle = ctx.idleStrategy();
            final Progress progress = ctx.newProgress();
            final long start = System.nanoTime();
            long seq = 0;
            long measured = 0;
            long lost = 0;
            long failures = 0;
            long lastMeasured = 0;
            long lostInARow = 0;
            boolean expired = false;
            boolean gaveUp = false;
            while (measured < count && !ctx.isStopped()) {
                seq++;
                final long t0 = System.nanoTime();
                PingMessage.encode(order, 0, PingMessage.ORDER, seq, t0, 0);
                if (Udp.send(udp, dest, order, 0, PingMessage.LENGTH, idle, SEND_TIMEOUT, acks) != UdpEndpoint.OK) {
                    failures++;
                    if (failures > 100 && measured == 0) {
                        break;
                    }
                    continue;
                }
                udp.flush();
                acks.expect(seq);
                idle.reset();
                long now = t0;
                while (!acks.matched) {
                    final int n = udp.poll(acks, 16);
                    now = System.nanoTime();
                    pollGaps.onPoll(now);
                    if (acks.matched || now - t0 > timeout) {
                        break;
                    }
                    idle.idle(n);
                }
                if (!acks.matched) {
                    lost++;
                    if (++lostInARow == MAX_LOST_IN_A_ROW) {
                        ctx.err().println("pingpong client: no ack for " + MAX_LOST_IN_A_ROW + " orders in a row; is the server at "
                            + server + " running (and reachable from " + ctx.uri() + ")?");
                        gaveUp = true;
                        break;
                    }
                } else {
                    lostInARow = 0;
                    if (seq > warmup) {
                        rtt.recordValue(Math.min(acks.receivedNanos - t0, rtt.getHighestTrackableValue()));
                        measured++;
                    }
                }
                if (ctx.expired(start, now)) {
                    expired = true;
                    break;
                }
                if (progress.due(now)) {
                    final double secs = progress.elapsedSeconds(now);
                    progress.print(now, String.format("pingpong client: %,.0f rt/s  measured=%d lost=%d p50=%.1fus p99=%.1fus",
                        (measured - lastMeasured) / secs, measured, lost,
                        rtt.getValueAtPercentile(50) / 1e3, rtt.getValueAtPercentile(99) / 1e3));
                    lastMeasured = measured;
                }
            }
            final long elapsed = System.nanoTime() - start;
            new Summary()
                .put("command", "pingpong-client")
                .put("backend", udp.backend())
                .put("uri", ctx.uri())
                .put("server", server.toString())
                .put("round_trips", measured)
                .put("warmup", Math.min(warmup, seq))
                .put("lost", lost)
                .put("late_acks", acks.late)
                .put("send_failures", failures)
                .put("stopped_by_duration", expired)
                .put("gave_up", gaveUp)
                .put("elapsed_s", elapsed / 1e9)
                .put("rate_rtps", (measured + Math.min(warmup, seq)) * 1e9 / Math.max(1, elapsed))
                .put("idle", ctx.idleName())
                .percentiles("rtt", rtt)
                .pollGaps(pollGaps)
                .print(ctx);
            return measured == 0 ? 1 : 0;
        }
    }

    /** Matches acks to the outstanding order; late acks of earlier orders are counted. */
    private static final class AckHandler implements DatagramHandler {
        private long expected;
        private boolean matched;
        private long receivedNanos;
        private long late;

        void expect(final long seq) {
            expected = seq;
            matched = false;
        }

        @Override
        public void onDatagram(final DirectBuffer buffer, final int offset, final int length, final DatagramMeta meta) {
            if (PingMessage.is(buffer, offset, length, PingMessage.ACK)) {
                if (PingMessage.sequence(buffer, offset) == expected) {
                    receivedNanos = System.nanoTime();
                    matched = true;
                } else {
                    late++;
                }
            }
        }
    }
}
