package io.bypass.samples.trade;

import io.bypass.samples.cli.Args;
import io.bypass.samples.cli.Command;
import io.bypass.samples.cli.Context;
import io.bypass.samples.cli.GroupPort;
import io.bypass.samples.cli.Options;
import io.bypass.samples.cli.Progress;
import io.bypass.samples.cli.Summary;
import io.bypass.samples.cli.Tcp;
import io.bypass.samples.cli.Udp;
import io.bypass.samples.cli.UsageException;
import io.bypass.samples.codec.EnterOrder;
import io.bypass.samples.codec.MarketMessage;
import io.bypass.samples.codec.OuchAccepted;
import io.bypass.samples.codec.SoupBinTcp;
import io.bypass.samples.feed.Arbitrator;
import io.bypass.samples.feed.FeedCommand;
import io.bypass.samples.feed.FeedHandler;
import io.bypass.samples.feed.FeedWarmUp;
import io.bypass.udp.DatagramHandler;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.udp.DatagramMeta;
import io.bypass.udp.UdpEndpoint;
import org.HdrHistogram.Histogram;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * {@code bypass trade}: a strategy loop on the feed. It arbitrates the A and B lines like
 * {@code feed}, logs in to the exchange over SoupBinTCP 3.00 ({@link SoupBinClient}: Login
 * Request, Client Heartbeats, a silent exchange detected), and on each trigger message sends an
 * OUCH 4.2 Enter Order as Unsequenced Data; the exchange's Accepted messages come back as
 * Sequenced Data. It measures its own part of tick-to-trade: from the moment the trigger's
 * datagram reached the handler to the moment the order was flushed to the backend. At the end of
 * the feed it sends a Logout Request and waits for the exchange to close.
 *
 * <pre>
 * bypass trade --uri nio:veth1 --exchange 10.0.0.1:40000 --json
 * </pre>
 */
public final class TradeCommand implements Command {
    /** SoupBinTCP username both commands use unless told otherwise. */
    static final String DEFAULT_USERNAME = "BYPASS";
    /** SoupBinTCP password both commands use unless told otherwise. */
    static final String DEFAULT_PASSWORD = "bypass";
    private static final long LOGOUT_NANOS = 5_000_000_000L;
    private static final byte[] FIRM = {'B', 'Y', 'P', 'S'};
    private static final byte[] STOCK = {'B', 'Y', 'P', 'S', ' ', ' ', ' ', ' '};

    /** Creates the command. */
    public TradeCommand() {
    }

    @Override
    public String name() {
        return "trade";
    }

    @Override
    public Options options() {
        return Context.common(new Options("trade", "strategy: on each trigger in the feed send an order to the exchange"), true, null)
            .value("--a", "GROUP:PORT", "feed A line", FeedCommand.DEFAULT_A)
            .value("--b", "GROUP:PORT|none", "feed B line", FeedCommand.DEFAULT_B)
            .value("--exchange", "ADDRESS:PORT", "the exchange's SoupBinTCP order entry port", null)
            .value("--order-uri", "URI", "endpoint orders go out on (default: --uri; an L2 backend needs a port of its own)", null)
            .value("--username", "NAME", "SoupBinTCP username (up to 6 characters)", DEFAULT_USERNAME)
            .value("--password", "TEXT", "SoupBinTCP password (up to 10 characters)", DEFAULT_PASSWORD)
            .value("--heartbeat", "TIME", "send a Client Heartbeat after this long without sending", "1s")
            .value("--timeout", "TIME", "end the session when the exchange is silent this long", "15s")
            .value("--connect-timeout", "TIME", "keep retrying a refused connection this long", "30s")
            .value("--first-sequence", "N", "sequence expected first; 0 = from the first packet", "1")
            .value("--expect-triggers", "N", "stop after answering N triggers (0 = until end of session)", "0")
            .value("--warm-up", "N", "before reporting ready, push N synthetic packets through the receive path (0 = none)",
                String.valueOf(FeedWarmUp.DEFAULT_DATAGRAMS));
    }

    @Override
    public int run(final Args args, final Context ctx) throws UsageException {
        final GroupPort a = args.groupPort("--a");
        final String bText = args.string("--b");
        final GroupPort b = "none".equals(bText) ? null : GroupPort.parse("--b", bText);
        final GroupPort exchange = args.groupPort("--exchange");
        if (exchange == null) {
            throw new UsageException("missing required option --exchange ADDRESS:PORT");
        }
        final byte[] username = alpha(args, "--username", SoupBinTcp.USERNAME_LENGTH);
        final byte[] password = alpha(args, "--password", SoupBinTcp.PASSWORD_LENGTH);
        final long heartbeat = Math.max(1, args.durationNanos("--heartbeat"));
        final long timeout = Math.max(1, args.durationNanos("--timeout"));
        final long connectTimeout = args.durationNanos("--connect-timeout");
        final String orderUri = args.string("--order-uri") != null ? args.string("--order-uri") : ctx.uri();
        final long first = args.longValue("--first-sequence", 0, Long.MAX_VALUE);
        final long expectTriggers = args.longValue("--expect-triggers", 0, Long.MAX_VALUE);
        final int warmUp = args.intValue("--warm-up", 0, 100_000_000);
        final Strategy strategy = new Strategy();
        final Arbitrator arb = new Arbitrator(first, 20_000_000L, strategy, (from, to, line) -> {
            if (ctx.progress()) {
                ctx.err().println("gap: sequence " + from + ".." + to + " missing");
            }
        });
        final FeedHandler feed = new FeedHandler(arb, a, b);
        strategy.feed = feed;
        ctx.pinCurrentThread();
        try (UdpEndpoint udp = Udp.open(ctx.uri(), ctx.err(), !ctx.progress());
             TcpEndpoint tcp = Tcp.open(orderUri, ctx.err(), !ctx.progress())) {
            Udp.subscribe(udp, a);
            if (b != null) {
                Udp.subscribe(udp, b);
            }
            if (warmUp > 0) {
                FeedWarmUp.run(udp, a, b, warmUp);
            }
            final SoupBinClient client = new SoupBinClient(tcp, exchange.address(), exchange.port(), username, password,
                heartbeat, timeout, strategy);
            final IdleStrategy idle = ctx.idleStrategy();
            final Progress progress = ctx.newProgress();
            final long start = System.nanoTime();
            ctx.ready();
            client.start(start, connectTimeout);
            boolean loggedIn = false;
            while (!ctx.isStopped()) {
                // One datagram per poll: a trigger's order goes out before the next packet is read.
                final int n = udp.poll(strategy, 1);
                if (strategy.pending > 0) {
                    for (int i = 0; i < strategy.pending; i++) {
                        if (!client.sendUnsequenced(strategy.orders[i], 0, EnterOrder.LENGTH)) {
                            strategy.failures++;
                        }
                    }
                    client.flush();
                    final long sent = System.nanoTime();
                    for (int i = 0; i < strategy.pending; i++) {
                        strategy.internal.recordValue(Math.min(sent - strategy.rxNanos[i], strategy.internal.getHighestTrackableValue()));
                    }
                    strategy.ordersSent += strategy.pending;
                    strategy.pending = 0;
                }
                final long now = System.nanoTime();
                final int work = client.doWork(now);
                loggedIn |= client.state() == SoupBinClient.State.LOGGED_IN;
                arb.checkGaps(now);
                if (client.state() == SoupBinClient.State.ENDED) {
                    break;
                }
                if (ctx.expired(start, now) || (expectTriggers > 0 && strategy.ordersSent >= expectTriggers)) {
                    break;
                }
                if (arb.endOfSession(0) && (b == null || arb.endOfSession(1))) {
                    break;
                }
                if (progress.due(now)) {
                    progress.print(now, String.format("trade: messages=%d triggers=%d orders=%d accepted=%d gaps=%d internal p50=%.1fus",
                        arb.messages(), strategy.triggers, strategy.ordersSent, strategy.accepted, arb.gaps(),
                        strategy.internal.getValueAtPercentile(50) / 1e3));
                }
                idle.idle(n + work);
            }
            // Accepted messages still in flight arrive before the exchange closes on our logout.
            client.logout();
            // bounded below Main's 10 s wait on Ctrl-C, whatever --timeout says
            final long logoutUntil = System.nanoTime() + Math.min(timeout, LOGOUT_NANOS);
            while (client.state() != SoupBinClient.State.ENDED) {
                final long t = System.nanoTime();
                if (t - logoutUntil > 0) {
                    client.abandon("logged out; the exchange never closed");
                    break;
                }
                idle.idle(client.doWork(t) + udp.poll(Udp.IGNORE, 16));
            }
            arb.finish();
            final String end = client.endReason();
            final boolean clean = loggedIn && end != null && (end.startsWith("logged out") || "end of session".equals(end));
            if (!clean && !ctx.isStopped()) {
                ctx.err().println("trade: session with the exchange ended: " + end);
            }
            new Summary()
                .put("command", "trade")
                .put("backend", udp.backend())
                .put("uri", ctx.uri())
                .put("order_backend", tcp.backend())
                .put("order_uri", orderUri)
                .put("exchange", exchange.toString())
                .put("packets", arb.packets() + feed.malformed())
                .put("messages", arb.messages())
                .put("duplicates", arb.duplicates())
                .put("gaps", arb.gaps())
                .put("lost", arb.lost())
                .put("malformed", feed.malformed())
                .put("triggers", strategy.triggers)
                .put("orders_sent", strategy.ordersSent)
                .put("accepted", strategy.accepted)
                .put("sequenced", client.sequenced())
                .put("next_sequence", client.nextSequence())
                .put("logged_in", loggedIn)
                .put("session_end", end)
                .put("connect_attempts", client.connectAttempts())
                .put("heartbeats_sent", client.heartbeatsSent())
                .put("heartbeats_received", client.heartbeatsReceived())
                .put("exchange_malformed", client.malformed().total() + strategy.badMessages)
                .put("exchange_malformed_reasons", client.malformed().toMap())
                .put("send_failures", strategy.failures)
                .put("tcp", Tcp.counters(tcp.counters()))
                .put("idle", ctx.idleName())
                .percentiles("internal", strategy.internal)
                .percentiles("feed_latency", feed.latency())
                .print(ctx);
            return strategy.failures > 0 || !clean && !ctx.isStopped() ? 1 : 0;
        }
    }

    /**
     * Reads a SoupBinTCP alpha option.
     *
     * @param args  the arguments
     * @param name  the option
     * @param width the field's width
     * @return the value padded on the right with spaces
     * @throws UsageException if too long or not printable ASCII
     */
    static byte[] alpha(final Args args, final String name, final int width) throws UsageException {
        try {
            return SoupBinTcp.alpha(args.required(name), width);
        } catch (final IllegalArgumentException e) {
            throw new UsageException(name + ": " + e.getMessage());
        }
    }

    /**
     * The strategy: stamps each datagram's arrival, lets the feed handler arbitrate, and
     * turns each new trigger message into an order, encoded at once and sent after poll.
     */
    private static final class Strategy implements DatagramHandler, Arbitrator.MessageHandler, SoupBinClient.SequencedHandler {
        private static final int MAX_PENDING = 64;
        private final UnsafeBuffer[] orders = new UnsafeBuffer[MAX_PENDING];
        private final long[] rxNanos = new long[MAX_PENDING];
        private final Histogram internal = new Histogram(60_000_000_000L, 3);
        private FeedHandler feed;
        private long datagramNanos;
        private int pending;
        private long triggers;
        private long ordersSent;
        private long failures;
        private long accepted;
        private long badMessages;

        Strategy() {
            for (int i = 0; i < MAX_PENDING; i++) {
                orders[i] = new UnsafeBuffer(ByteBuffer.allocateDirect(EnterOrder.LENGTH));
            }
        }

        @Override
        public void onSequenced(final DirectBuffer buffer, final int offset, final int length, final long sequence) {
            if (OuchAccepted.isAccepted(buffer, offset, length)) {
                accepted++;
            } else {
                badMessages++;
            }
        }

        @Override
        public void onDatagram(final DirectBuffer buffer, final int offset, final int length, final DatagramMeta meta) {
            datagramNanos = System.nanoTime();
            feed.onDatagram(buffer, offset, length, meta);
        }

        @Override
        public void onMessage(final DirectBuffer buffer, final int offset, final int length, final long sequence,
                              final boolean recovered) {
            if (!MarketMessage.isAddOrder(buffer, offset, length) || !MarketMessage.isTrigger(buffer, offset)) {
                return;
            }
            triggers++;
            if (pending == MAX_PENDING) {
                failures++;
                return;
            }
            // Cross the displayed order: buy what was offered, sell what was bid.
            final byte side = MarketMessage.side(buffer, offset) == 'S' ? (byte) 'B' : (byte) 'S';
            EnterOrder.encode(orders[pending], 0, MarketMessage.orderRef(buffer, offset), side,
                MarketMessage.shares(buffer, offset), STOCK, MarketMessage.price(buffer, offset), FIRM);
            rxNanos[pending] = datagramNanos;
            pending++;
        }
    }
}
