package io.bypass.samples.trade;

import io.bypass.samples.cli.Args;
import io.bypass.samples.cli.Command;
import io.bypass.samples.cli.Context;
import io.bypass.samples.cli.GroupPort;
import io.bypass.samples.cli.Options;
import io.bypass.samples.cli.Progress;
import io.bypass.samples.cli.Summary;
import io.bypass.samples.cli.Udp;
import io.bypass.samples.cli.UsageException;
import io.bypass.samples.codec.EnterOrder;
import io.bypass.samples.codec.MoldUdp64Encoder;
import io.bypass.samples.feed.FeedCommand;
import io.bypass.samples.feed.Publisher;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.DatagramMeta;
import io.bypass.udp.UdpEndpoint;
import org.HdrHistogram.Histogram;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.IdleStrategy;

/**
 * {@code bypass exchange}: an exchange simulator for tick-to-trade. Publishes the
 * synthetic feed on the A and B lines with every Nth packet a trigger, remembers when
 * each trigger was sent, receives the Enter Orders that {@code trade} sends back, and
 * reports tick-to-trade (trigger sent to order received, one clock: this process's).
 *
 * <pre>
 * bypass exchange --uri afxdp:veth0 --rate 10000 --count 100000 --trigger-every 100 --json
 * </pre>
 */
public final class ExchangeCommand implements Command {
    private static final int TRIGGER_SLOTS = 1 << 16;

    /** Creates the command. */
    public ExchangeCommand() {
    }

    @Override
    public String name() {
        return "exchange";
    }

    @Override
    public Options options() {
        return Context.common(new Options("exchange", "exchange simulator: feed with triggers out, orders in, tick-to-trade"), true, null)
            .value("--a", "GROUP:PORT", "feed A line", FeedCommand.DEFAULT_A)
            .value("--b", "GROUP:PORT|none", "feed B line", FeedCommand.DEFAULT_B)
            .value("--port", "PORT", "UDP port orders arrive on", "40000")
            .value("--rate", "PPS", "feed packets per second", "10000")
            .value("--count", "N", "feed packets to send", "20000")
            .value("--trigger-every", "N", "every Nth packet is a trigger", "100")
            .value("--messages-per-packet", "N", "messages in each packet", "1")
            .value("--wait", "TIME", "after the last packet, wait this long for orders", "500ms")
            .value("--start-delay", "TIME", "wait before publishing (lets trade join)", "0")
            .flag("--fail-on-missing", "exit 1 if any trigger got no order");
    }

    @Override
    public int run(final Args args, final Context ctx) throws UsageException, InterruptedException {
        final GroupPort a = args.groupPort("--a");
        final String bText = args.string("--b");
        final GroupPort b = "none".equals(bText) ? null : GroupPort.parse("--b", bText);
        final int port = args.intValue("--port", 1, 65535);
        final double rate = args.doubleValue("--rate", 1, 1e8);
        final long count = args.longValue("--count", 1, Long.MAX_VALUE);
        final long every = args.longValue("--trigger-every", 1, Long.MAX_VALUE);
        final int mpp = args.intValue("--messages-per-packet", 1, 1000);
        final long wait = args.durationNanos("--wait");
        final long startDelay = args.durationNanos("--start-delay");
        final Orders orders = new Orders();
        ctx.pinCurrentThread();
        try (UdpEndpoint udp = Udp.open(ctx.uri(), ctx.err(), !ctx.progress())) {
            udp.bind(port);
            final IdleStrategy idle = ctx.idleStrategy();
            final Publisher pub;
            try {
                pub = new Publisher(udp, a.destination(), b == null ? null : b.destination(),
                    MoldUdp64Encoder.session("EXCHANGE01"), 1, mpp, idle);
            } catch (final IllegalArgumentException e) {
                throw new UsageException("--messages-per-packet: " + e.getMessage());
            }
            ctx.ready();
            if (startDelay > 0) {
                Thread.sleep(startDelay / 1_000_000, (int) (startDelay % 1_000_000));
            }
            final Progress progress = ctx.newProgress();
            final long period = (long) (1e9 / rate);
            final long start = System.nanoTime();
            long due = start;
            long i = 0;
            long triggers = 0;
            while (i < count && !ctx.isStopped()) {
                long now = System.nanoTime();
                if (ctx.expired(start, now)) {
                    break;
                }
                if (now < due) {
                    idle.idle(udp.poll(orders, 16));
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
                udp.poll(orders, 16);
                if (progress.due(now)) {
                    progress.print(now, String.format("exchange: packets=%d triggers=%d orders=%d t2t p50=%.1fus p99=%.1fus",
                        pub.packets(), triggers, orders.matched, orders.t2t.getValueAtPercentile(50) / 1e3,
                        orders.t2t.getValueAtPercentile(99) / 1e3));
                }
            }
            for (int k = 0; k < 3; k++) {
                pub.sendEndOfSession();
            }
            final long waitUntil = System.nanoTime() + wait;
            while (orders.matched < triggers && System.nanoTime() < waitUntil && !ctx.isStopped()) {
                idle.idle(udp.poll(orders, 16));
            }
            final long missing = triggers - orders.matched;
            new Summary()
                .put("command", "exchange")
                .put("backend", udp.backend())
                .put("uri", ctx.uri())
                .put("packets", pub.packets())
                .put("messages", pub.messages())
                .put("triggers", triggers)
                .put("orders", orders.matched)
                .put("missing_orders", missing)
                .put("unknown_orders", orders.unknown)
                .put("malformed", orders.malformed)
                .put("send_failures", pub.failures())
                .put("idle", ctx.idleName())
                .percentiles("tick_to_trade", orders.t2t)
                .print(ctx);
            return args.flag("--fail-on-missing") && missing > 0 ? 1 : 0;
        }
    }

    /** Matches orders to triggers by token and records tick-to-trade. */
    private static final class Orders implements DatagramHandler {
        private final long[] refs = new long[TRIGGER_SLOTS];
        private final long[] sentNanos = new long[TRIGGER_SLOTS];
        private final Histogram t2t = new Histogram(60_000_000_000L, 3);
        private long matched;
        private long unknown;
        private long malformed;

        @Override
        public void onDatagram(final DirectBuffer buffer, final int offset, final int length, final DatagramMeta meta) {
            final long now = System.nanoTime();
            if (!EnterOrder.isEnterOrder(buffer, offset, length)) {
                malformed++;
                return;
            }
            final long token = EnterOrder.token(buffer, offset);
            final int slot = (int) (token & (TRIGGER_SLOTS - 1));
            if (token < 0 || refs[slot] != token) {
                unknown++;
                return;
            }
            refs[slot] = -1;   // one order per trigger; a repeat is unknown
            t2t.recordValue(Math.min(now - sentNanos[slot], t2t.getHighestTrackableValue()));
            matched++;
        }
    }
}
