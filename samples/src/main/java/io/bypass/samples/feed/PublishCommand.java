package io.bypass.samples.feed;

import io.bypass.samples.cli.Args;
import io.bypass.samples.cli.Command;
import io.bypass.samples.cli.Context;
import io.bypass.samples.cli.GroupPort;
import io.bypass.samples.cli.Options;
import io.bypass.samples.cli.Progress;
import io.bypass.samples.cli.Summary;
import io.bypass.samples.cli.Udp;
import io.bypass.samples.cli.UsageException;
import io.bypass.samples.codec.MoldUdp64Encoder;
import io.bypass.udp.UdpEndpoint;
import org.agrona.concurrent.IdleStrategy;

import static io.bypass.samples.cli.Summary.refreshed;

/**
 * {@code bypass publish}: sends a synthetic MoldUDP64 market-data stream to the A and B
 * lines at a fixed packet rate (or as fast as the backend goes), ending with an end of
 * session. Test options inject gaps, A-line drops and malformed packets.
 *
 * <pre>
 * bypass publish --uri afxdp:veth0 --rate 100000 --count 1000000 --messages-per-packet 3
 * </pre>
 */
public final class PublishCommand implements Command {
    /** Creates the command. */
    public PublishCommand() {
    }

    @Override
    public String name() {
        return "publish";
    }

    @Override
    public Options options() {
        return Context.common(new Options("publish", "send a synthetic MoldUDP64 feed to the A and B lines"), true, null)
            .value("--a", "GROUP:PORT", "A line", FeedCommand.DEFAULT_A)
            .value("--b", "GROUP:PORT|none", "B line", FeedCommand.DEFAULT_B)
            .value("--rate", "PPS|max", "packets per second", "10000")
            .value("--count", "N", "packets to send (0 = until --duration or Ctrl-C)", "10000")
            .value("--messages-per-packet", "N", "messages in each packet", "1")
            .value("--session", "NAME", "MoldUDP64 session (10 characters)", "BYPASS0001")
            .value("--first-sequence", "N", "sequence number of the first message", "1")
            .value("--trigger-every", "N", "mark every Nth packet as a trigger (0 = never)", "0")
            .value("--gap-every", "N", "test: skip every Nth packet on both lines (a real gap)", "0")
            .value("--drop-a-every", "N", "test: skip every Nth packet on the A line only (B fills it)", "0")
            .value("--malformed-every", "N", "test: after every Nth packet send a malformed one on A", "0")
            .value("--start-delay", "TIME", "wait before the first packet", "0");
    }

    @Override
    public int run(final Args args, final Context ctx) throws UsageException, InterruptedException {
        final GroupPort a = args.groupPort("--a");
        final String bText = args.string("--b");
        final GroupPort b = "none".equals(bText) ? null : GroupPort.parse("--b", bText);
        final String rateText = args.required("--rate");
        final double rate = "max".equals(rateText) ? 0 : args.doubleValue("--rate", 1, 1e9);
        final long count = args.longValue("--count", 0, Long.MAX_VALUE);
        final int mpp = args.intValue("--messages-per-packet", 1, 1000);
        final String sessionText = args.required("--session");
        if (sessionText.length() > 10) {
            throw new UsageException("--session: at most 10 characters, got '" + sessionText + "'");
        }
        final long firstSeq = args.longValue("--first-sequence", 1, Long.MAX_VALUE / 2);
        final long triggerEvery = args.longValue("--trigger-every", 0, Long.MAX_VALUE);
        final long gapEvery = args.longValue("--gap-every", 0, Long.MAX_VALUE);
        final long dropAEvery = args.longValue("--drop-a-every", 0, Long.MAX_VALUE);
        final long malformedEvery = args.longValue("--malformed-every", 0, Long.MAX_VALUE);
        final long startDelay = args.durationNanos("--start-delay");
        if (count == 0 && ctx.durationNanos() == 0) {
            ctx.err().println("note: --count 0 without --duration runs until Ctrl-C");
        }

        ctx.pinCurrentThread();
        try (UdpEndpoint udp = Udp.open(ctx.uri(), ctx.err(), !ctx.progress())) {
            final IdleStrategy idle = ctx.idleStrategy();
            final Publisher pub;
            try {
                pub = new Publisher(udp, a.destination(), b == null ? null : b.destination(),
                    MoldUdp64Encoder.session(sessionText), firstSeq, mpp, idle);
            } catch (final IllegalArgumentException e) {
                throw new UsageException("--messages-per-packet: " + e.getMessage());
            }
            if (startDelay > 0) {
                Thread.sleep(startDelay / 1_000_000, (int) (startDelay % 1_000_000));
            }
            final long periodNanos = rate == 0 ? 0 : (long) (1e9 / rate);
            final long start = System.nanoTime();
            final Progress progress = ctx.newProgress();
            long i = 0;
            long skipped = 0;
            long droppedA = 0;
            long malformed = 0;
            long lastPackets = 0;
            long due = start;
            while (!ctx.isStopped() && (count == 0 || i < count)) {
                long now = System.nanoTime();
                if (ctx.expired(start, now)) {
                    break;
                }
                if (periodNanos > 0 && now < due) {
                    idle.idle();
                    continue;
                }
                idle.reset();
                i++;
                if (gapEvery > 0 && i % gapEvery == 0) {
                    pub.skip();
                    skipped++;
                } else {
                    final boolean dropA = dropAEvery > 0 && i % dropAEvery == 0;
                    if (dropA) {
                        droppedA++;
                    }
                    pub.send(triggerEvery > 0 && i % triggerEvery == 0, !dropA, true);
                }
                if (malformedEvery > 0 && i % malformedEvery == 0) {
                    pub.sendMalformed();
                    malformed++;
                }
                due += periodNanos;
                if (progress.due(now)) {
                    final double secs = progress.elapsedSeconds(now);
                    progress.print(now, String.format("publish: %,.0f pkt/s  packets=%d messages=%d failures=%d",
                        (pub.packets() - lastPackets) / secs, pub.packets(), pub.messages(), pub.failures()));
                    lastPackets = pub.packets();
                }
            }
            final long end = System.nanoTime();
            for (int k = 0; k < 3; k++) {
                pub.sendEndOfSession();
            }
            final Summary s = new Summary()
                .put("command", "publish")
                .put("backend", udp.backend())
                .put("uri", ctx.uri())
                .put("a", a.toString())
                .put("b", b == null ? "none" : b.toString())
                .put("packets", pub.packets())
                .put("messages", pub.messages())
                .put("next_sequence", pub.sequence())
                .put("skipped_packets", skipped)
                .put("dropped_on_a", droppedA)
                .put("malformed_sent", malformed)
                .put("send_failures", pub.failures())
                .drops(refreshed(udp))
                .put("elapsed_s", (end - start) / 1e9)
                .put("rate_pps", pub.packets() * 1e9 / Math.max(1, end - start))
                .put("target_pps", rate == 0 ? "max" : rate);
            s.print(ctx);
            return pub.failures() > 0 ? 1 : 0;
        }
    }
}
