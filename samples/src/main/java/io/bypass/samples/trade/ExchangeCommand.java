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
import io.bypass.samples.codec.MoldUdp64Encoder;
import io.bypass.samples.codec.OuchAccepted;
import io.bypass.samples.codec.SoupBinTcp;
import io.bypass.samples.feed.FeedCommand;
import io.bypass.samples.feed.Publisher;
import io.bypass.samples.internal.EpochClock;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.udp.UdpEndpoint;
import org.HdrHistogram.Histogram;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.IdleStrategy;

/**
 * {@code bypass exchange}: an exchange simulator for tick-to-trade. Takes order entry as OUCH 4.2
 * over SoupBinTCP 3.00 on a TCP port ({@link SoupBinServer}: logins checked against
 * {@code --username}/{@code --password}, server heartbeats, malformed input counted by reason),
 * waits for {@code --await-logins} sessions, then publishes the synthetic feed on the A and B
 * lines with every Nth packet a trigger. Each Enter Order is matched to the trigger whose order
 * reference its token carries, answered with an OUCH Accepted as Sequenced Data, and timed:
 * tick-to-trade is trigger sent to order received, on one clock (this process's).
 *
 * <pre>
 * bypass exchange --uri nio:veth0 --rate 10000 --count 100000 --trigger-every 100 --json
 * </pre>
 */
public final class ExchangeCommand implements Command {
    private static final int TRIGGER_SLOTS = 1 << 16;
    private static final long DAY_NANOS = 86_400_000_000_000L;
    private static final long CLOSE_NANOS = 1_000_000_000L;

    /** Creates the command. */
    public ExchangeCommand() {
    }

    @Override
    public String name() {
        return "exchange";
    }

    @Override
    public Options options() {
        return Context.common(new Options("exchange", "exchange simulator: feed with triggers out, OUCH orders in over SoupBinTCP, tick-to-trade"),
                true, null)
            .value("--a", "GROUP:PORT", "feed A line", FeedCommand.DEFAULT_A)
            .value("--b", "GROUP:PORT|none", "feed B line", FeedCommand.DEFAULT_B)
            .value("--port", "PORT", "TCP port order entry (SoupBinTCP) listens on", "40000")
            .value("--order-uri", "URI", "endpoint order entry listens on (default: --uri; an L2 backend needs a port of its own)", null)
            .value("--username", "NAME", "SoupBinTCP username logins must give (up to 6 characters)", TradeCommand.DEFAULT_USERNAME)
            .value("--password", "TEXT", "SoupBinTCP password logins must give (up to 10 characters)", TradeCommand.DEFAULT_PASSWORD)
            .value("--session", "NAME", "SoupBinTCP session name sent in Login Accepted (up to 10 characters)", "EXCHANGE01")
            .value("--heartbeat", "TIME", "send a Server Heartbeat after this long without sending", "1s")
            .value("--timeout", "TIME", "drop a client silent this long", "15s")
            .value("--await-logins", "N", "publish only once N sessions have logged in (0 = at once)", "1")
            .value("--login-timeout", "TIME", "give up (exit 1) if the logins have not come by then", "30s")
            .value("--rate", "PPS", "feed packets per second", "10000")
            .value("--count", "N", "feed packets to send", "20000")
            .value("--trigger-every", "N", "every Nth packet is a trigger", "100")
            .value("--messages-per-packet", "N", "messages in each packet", "1")
            .value("--wait", "TIME", "after the last packet, wait this long for orders and for clients to log out", "500ms")
            .value("--start-delay", "TIME", "wait before publishing, after the logins", "0")
            .flag("--fail-on-missing", "exit 1 if any trigger got no order");
    }

    @Override
    public int run(final Args args, final Context ctx) throws UsageException {
        final GroupPort a = args.groupPort("--a");
        final String bText = args.string("--b");
        final GroupPort b = "none".equals(bText) ? null : GroupPort.parse("--b", bText);
        final int port = args.intValue("--port", 1, 65535);
        final byte[] username = TradeCommand.alpha(args, "--username", SoupBinTcp.USERNAME_LENGTH);
        final byte[] password = TradeCommand.alpha(args, "--password", SoupBinTcp.PASSWORD_LENGTH);
        TradeCommand.alpha(args, "--session", SoupBinTcp.SESSION_LENGTH);
        final byte[] session = SoupBinTcp.session(args.string("--session"));
        final long heartbeat = Math.max(1, args.durationNanos("--heartbeat"));
        final long timeout = Math.max(1, args.durationNanos("--timeout"));
        final int awaitLogins = args.intValue("--await-logins", 0, SoupBinServer.MAX_SESSIONS);
        final long loginTimeout = args.durationNanos("--login-timeout");
        final double rate = args.doubleValue("--rate", 1, 1e8);
        final long count = args.longValue("--count", 1, Long.MAX_VALUE);
        final long every = args.longValue("--trigger-every", 1, Long.MAX_VALUE);
        final int mpp = args.intValue("--messages-per-packet", 1, 1000);
        final long wait = args.durationNanos("--wait");
        final long startDelay = args.durationNanos("--start-delay");
        final String orderUri = args.string("--order-uri") != null ? args.string("--order-uri") : ctx.uri();
        final Orders orders = new Orders();
        ctx.pinCurrentThread();
        try (UdpEndpoint udp = Udp.open(ctx.uri(), ctx.err(), !ctx.progress());
             TcpEndpoint tcp = Tcp.open(orderUri, ctx.err(), !ctx.progress())) {
            final IdleStrategy idle = ctx.idleStrategy();
            final Publisher pub;
            try {
                pub = new Publisher(udp, a.destination(), b == null ? null : b.destination(),
                    MoldUdp64Encoder.session("EXCHANGE01"), 1, mpp, idle);
            } catch (final IllegalArgumentException e) {
                throw new UsageException("--messages-per-packet: " + e.getMessage());
            }
            final SoupBinServer server = new SoupBinServer(tcp, port, username, password, session, heartbeat, timeout, orders);
            orders.server = server;
            ctx.ready();
            final long loginStart = System.nanoTime();
            long now = loginStart;
            // Triggers sent before the strategy is logged in could not be answered: wait for it.
            while (server.logins() < awaitLogins && !ctx.isStopped()) {
                if (loginTimeout > 0 && now - loginStart > loginTimeout) {
                    ctx.err().println("exchange: " + server.logins() + " of " + awaitLogins + " logins after " + loginTimeout / 1_000_000 + " ms");
                    summary(ctx, udp, tcp, pub, server, orders, 0, orderUri);
                    return 1;
                }
                idle.idle(server.doWork(now) + udp.poll(Udp.IGNORE, 16));
                now = System.nanoTime();
            }
            final long loggedIn = now;
            while (now - loggedIn < startDelay && !ctx.isStopped()) {
                idle.idle(server.doWork(now) + udp.poll(Udp.IGNORE, 16));
                now = System.nanoTime();
            }
            final Progress progress = ctx.newProgress();
            final long period = (long) (1e9 / rate);
            final long start = System.nanoTime();
            long due = start;
            long i = 0;
            long triggers = 0;
            while (i < count && !ctx.isStopped()) {
                now = System.nanoTime();
                if (ctx.expired(start, now)) {
                    break;
                }
                if (now < due) {
                    idle.idle(server.doWork(now) + udp.poll(Udp.IGNORE, 16));
                    continue;
                }
                i++;
                final boolean trigger = i % every == 0;
                pub.send(trigger);
                if (trigger) {
                    final long ref = pub.lastTriggerRef();
                    final int slot = (int) (ref & (TRIGGER_SLOTS - 1));
                    orders.refs[slot] = ref;
                    orders.sentNanos[slot] = pub.lastSendNanos();
                    triggers++;
                }
                due += period;
                server.doWork(now);
                if (progress.due(now)) {
                    progress.print(now, String.format("exchange: packets=%d triggers=%d orders=%d t2t p50=%.1fus p99=%.1fus",
                        pub.packets(), triggers, orders.matched, orders.t2t.getValueAtPercentile(50) / 1e3,
                        orders.t2t.getValueAtPercentile(99) / 1e3));
                }
            }
            for (int k = 0; k < 3; k++) {
                pub.sendEndOfSession();
            }
            // the feed has ended: wait for the last orders, and for the clients, which log out when they see the
            // feed's end, before ending the session for whoever is still there (End of Session crossing a
            // client's Logout Request ends its session without the logout)
            final long waitUntil = System.nanoTime() + wait;
            while ((orders.matched < triggers || server.openSessions() > 0) && System.nanoTime() < waitUntil && !ctx.isStopped()) {
                idle.idle(server.doWork(System.nanoTime()) + udp.poll(Udp.IGNORE, 16));
            }
            // End of Session, then let the closes go through (a user-space TCP needs polling for its FIN).
            server.endOfSession();
            server.closeListener();
            final long closeUntil = System.nanoTime() + CLOSE_NANOS;
            while (server.openSessions() > 0 && System.nanoTime() < closeUntil) {
                idle.idle(server.doWork(System.nanoTime()) + udp.poll(Udp.IGNORE, 16));
            }
            final long missing = summary(ctx, udp, tcp, pub, server, orders, triggers, orderUri);
            return args.flag("--fail-on-missing") && missing > 0 ? 1 : 0;
        }
    }

    private static long summary(final Context ctx, final UdpEndpoint udp, final TcpEndpoint tcp, final Publisher pub, final SoupBinServer server,
                                final Orders orders, final long triggers, final String orderUri) {
        final long missing = triggers - orders.matched;
        new Summary()
            .put("command", "exchange")
            .put("backend", udp.backend())
            .put("uri", ctx.uri())
            .put("order_backend", tcp.backend())
            .put("order_uri", orderUri)
            .put("packets", pub.packets())
            .put("messages", pub.messages())
            .put("triggers", triggers)
            .put("orders", orders.matched)
            .put("missing_orders", missing)
            .put("unknown_orders", orders.unknown)
            .put("accepted_sent", server.sequencedSent())
            .put("logins", server.logins())
            .put("rejected_logins", server.rejectedLogins())
            .put("logouts", server.logouts())
            .put("session_timeouts", server.timeouts())
            .put("heartbeats_sent", server.heartbeatsSent())
            .put("heartbeats_received", server.heartbeatsReceived())
            .put("malformed", server.malformed().total())
            .put("malformed_reasons", server.malformed().toMap())
            .put("send_failures", pub.failures() + server.sendFailures())
            .put("tcp", Tcp.counters(tcp.counters()))
            .put("idle", ctx.idleName())
            .percentiles("tick_to_trade", orders.t2t)
            .print(ctx);
        return missing;
    }

    /** Matches orders to triggers by token, records tick-to-trade, and answers each with an Accepted. */
    private static final class Orders implements SoupBinServer.UnsequencedHandler {
        private final long[] refs = new long[TRIGGER_SLOTS];
        private final long[] sentNanos = new long[TRIGGER_SLOTS];
        private final Histogram t2t = new Histogram(60_000_000_000L, 3);
        private SoupBinServer server;
        private long matched;
        private long unknown;
        private long orderRef = 1;

        @Override
        public void onUnsequenced(final SoupBinServer.Session session, final DirectBuffer buffer, final int offset, final int length) {
            final long now = System.nanoTime();
            if (!EnterOrder.isEnterOrder(buffer, offset, length)) {
                server.malformed().add(Malformed.BAD_MESSAGE);
                return;
            }
            final long token = EnterOrder.token(buffer, offset);
            final int slot = (int) (token & (TRIGGER_SLOTS - 1));
            if (token < 0 || refs[slot] != token) {
                unknown++;
            } else {
                refs[slot] = -1;   // one order per trigger; a repeat is unknown
                t2t.recordValue(Math.min(now - sentNanos[slot], t2t.getHighestTrackableValue()));
                matched++;
            }
            // Immediate-or-cancel against nothing resting: accepted, and dead at once.
            OuchAccepted.encode(server.scratch(), SoupBinTcp.HEADER_LENGTH, buffer, offset, EpochClock.nanos() % DAY_NANOS,
                orderRef++, OuchAccepted.STATE_DEAD);
            server.sendSequenced(session, OuchAccepted.LENGTH);
        }
    }
}
