package io.bypass.samples.feed;

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
import io.bypass.samples.codec.MoldUdp64;
import io.bypass.threads.HiccupRecorder;
import io.bypass.udp.UdpEndpoint;
import org.agrona.concurrent.IdleStrategy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.bypass.samples.cli.Summary.refreshed;

/**
 * {@code bypass feed}: a MoldUDP64 market-data feed handler. Receives the A and B lines,
 * arbitrates (first copy wins), reports each gap, counts malformed packets without
 * stopping, and measures wire-to-handler latency from the publisher's send stamps.
 *
 * <pre>
 * bypass feed --uri afxdp:veth1 --a 239.1.1.1:30001 --b 239.1.1.2:30002 --expect 1000000 --json
 * </pre>
 *
 * The summary also has the polling loop's stalls ({@code poll_gap_*}): the gaps between
 * consecutive polls, where a packet burst waits in the ring.
 *
 * <p>Stops on {@code --expect} messages, {@code --duration}, end of session on every line,
 * or Ctrl-C. Exit status 1 with {@code --fail-on-loss} when messages were lost.
 */
public final class FeedCommand implements Command {
    /** Default A line. */
    public static final String DEFAULT_A = "239.1.1.1:30001";
    /** Default B line. */
    public static final String DEFAULT_B = "239.1.1.2:30002";
    private static final int MAX_GAPS_LISTED = 100;

    /** Creates the command. */
    public FeedCommand() {
    }

    @Override
    public String name() {
        return "feed";
    }

    @Override
    public Options options() {
        return Context.common(new Options("feed", "receive a MoldUDP64 feed on A and B lines: arbitration, gaps, latency"), true, null)
            .value("--a", "GROUP:PORT", "A line (a unicast ADDRESS:PORT binds the port instead)", DEFAULT_A)
            .value("--b", "GROUP:PORT|none", "B line", DEFAULT_B)
            .value("--uri-b", "URI", "receive the B line through a second endpoint (another NIC)", null)
            .value("--expect", "N", "stop after N messages (0 = no limit)", "0")
            .value("--first-sequence", "N", "sequence expected first; 0 = take it from the first packet", "1")
            .value("--gap-timeout", "TIME", "how long a gap may wait for the other line before it is reported", "20ms")
            .value("--eos-grace", "TIME", "after end of session on one line, wait this long for the other", "200ms")
            .value("--batch", "N", "datagrams per poll", "64")
            .value("--warm-up", "N", "before reporting ready, push N synthetic packets through the receive path (0 = none)",
                String.valueOf(FeedWarmUp.DEFAULT_DATAGRAMS))
            .flag("--fail-on-loss", "exit 1 if any message was lost");
    }

    @Override
    public int run(final Args args, final Context ctx) throws UsageException {
        final GroupPort a = args.groupPort("--a");
        final String bText = args.string("--b");
        final GroupPort b = "none".equals(bText) ? null : GroupPort.parse("--b", bText);
        if (b != null && b.equals(a)) {
            throw new UsageException("--a and --b are the same (" + a + "); give two groups or --b none");
        }
        final long expect = args.longValue("--expect", 0, Long.MAX_VALUE);
        final long first = args.longValue("--first-sequence", 0, Long.MAX_VALUE);
        final long grace = args.durationNanos("--eos-grace");
        final long gapTimeout = args.durationNanos("--gap-timeout");
        final int batch = args.intValue("--batch", 1, 4096);
        final int warmUp = args.intValue("--warm-up", 0, 100_000_000);
        final String uriB = args.string("--uri-b");
        if (uriB != null && b == null) {
            throw new UsageException("--uri-b needs a B line (--b GROUP:PORT)");
        }

        final List<Map<String, Object>> gapList = new ArrayList<>();
        final Arbitrator.GapListener onGap = (from, to, line) -> {
            if (gapList.size() < MAX_GAPS_LISTED) {
                final Map<String, Object> g = new LinkedHashMap<>();
                g.put("from", from);
                g.put("to", to);
                g.put("line", line == 0 ? "A" : "B");
                gapList.add(g);
            }
            if (ctx.progress()) {
                ctx.err().println("gap: sequence " + from + ".." + to + " (" + (to - from + 1) + " messages) missing, seen on line " + (line == 0 ? "A" : "B"));
            }
        };
        final Arbitrator.MessageHandler onMessage = (buffer, offset, length, sequence, recovered) -> {
        };
        final Arbitrator arb = new Arbitrator(first, gapTimeout, onMessage, onGap);
        final FeedHandler handler = new FeedHandler(arb, a, b);
        final HiccupRecorder pollGaps = new HiccupRecorder();

        ctx.pinCurrentThread();
        try (UdpEndpoint udp = Udp.open(ctx.uri(), ctx.err(), !ctx.progress());
             UdpEndpoint udpB = uriB == null ? null : Udp.open(uriB, ctx.err(), !ctx.progress());
             AppCounters published = new AppCounters("feed", ctx.uri())
                 .add("packets", () -> arb.packets() + handler.malformed()).add("messages", arb::messages)
                 .add("duplicates", arb::duplicates).add("gaps", arb::gaps).add("lost", arb::lost).add("recovered", arb::recovered)
                 .add("malformed", handler::malformed)
                 .add("malformed_short_header", () -> handler.malformed(MoldUdp64.MALFORMED_SHORT_HEADER))
                 .add("malformed_overrun", () -> handler.malformed(MoldUdp64.MALFORMED_OVERRUN))
                 .add("malformed_trailing", () -> handler.malformed(MoldUdp64.MALFORMED_TRAILING))
                 .add("malformed_control_with_data", () -> handler.malformed(MoldUdp64.MALFORMED_CONTROL_WITH_DATA))
                 .add("session_mismatch", handler::sessionMismatch).add("foreign", handler::foreign)
                 .add("heartbeats", arb::heartbeats).publish()) {
            Udp.subscribe(udp, a);
            if (b != null) {
                Udp.subscribe(udpB != null ? udpB : udp, b);
            }
            final IdleStrategy idle = ctx.idleStrategy();
            final long warmUpNanos = warmUp == 0 ? 0 : FeedWarmUp.run(udp, a, b, warmUp, batch, ctx.idleStrategy(), onMessage);
            if (udpB != null && warmUp > 0) {
                FeedWarmUp.run(udpB, b, null, warmUp, batch, ctx.idleStrategy(), onMessage);
            }
            if (warmUp > 0 && ctx.progress()) {
                ctx.err().printf("warm-up: %,d packets through the receive path in %.0f ms%n", warmUp, warmUpNanos / 1e6);
            }
            final FeedLoop loop = new FeedLoop(udp, udpB, handler, arb, batch, idle, pollGaps);
            final long start = System.nanoTime();
            final Progress progress = ctx.newProgress();
            ctx.ready();
            long eosSeenAt = 0;
            long lastMessages = 0;
            long lastPackets = 0;
            while (!ctx.isStopped()) {
                loop.doWork();
                final long now = loop.lastPollNanos();
                if (expect > 0 && arb.messages() >= expect) {
                    break;
                }
                if (ctx.expired(start, now)) {
                    break;
                }
                if (arb.endOfSession(0) || (b != null && arb.endOfSession(1))) {
                    if (b == null || (arb.endOfSession(0) && arb.endOfSession(1))) {
                        break;
                    }
                    if (eosSeenAt == 0) {
                        eosSeenAt = now;
                    } else if (now - eosSeenAt > grace) {
                        break;
                    }
                }
                if (progress.due(now)) {
                    final double secs = progress.elapsedSeconds(now);
                    progress.print(now, String.format("feed: %,.0f msg/s %,.0f pkt/s  messages=%d dup=%d gaps=%d lost=%d malformed=%d",
                        (arb.messages() - lastMessages) / secs, (arb.packets() - lastPackets) / secs, arb.messages(),
                        arb.duplicates(), arb.gaps(), arb.lost(), handler.malformed()));
                    lastMessages = arb.messages();
                    lastPackets = arb.packets();
                }
            }
            final long end = System.nanoTime();
            arb.finish();
            published.close();
            final long firstPacketNanos = loop.firstPacketNanos();
            final long active = (handler.lastPacketNanos() > firstPacketNanos && firstPacketNanos != 0)
                ? handler.lastPacketNanos() - firstPacketNanos : end - start;
            final long packets = arb.packets() + handler.malformed();
            final Summary s = new Summary()
                .put("command", "feed")
                .put("backend", udp.backend())
                .put("uri", ctx.uri())
                .put("a", a.toString())
                .put("b", b == null ? "none" : b.toString())
                .put("packets", packets)
                .put("packets_a", arb.packets(0))
                .put("packets_b", arb.packets(1))
                .put("wins_a", arb.wins(0))
                .put("wins_b", arb.wins(1))
                .put("messages", arb.messages())
                .put("duplicates", arb.duplicates())
                .put("duplicate_messages", arb.duplicateMessages())
                .put("gaps", arb.gaps())
                .put("lost", arb.lost())
                .put("recovered", arb.recovered())
                .put("malformed", handler.malformed())
                .put("malformed_reasons", malformedReasons(handler))
                .put("session_mismatch", handler.sessionMismatch())
                .put("foreign", handler.foreign())
                .put("heartbeats", arb.heartbeats())
                .put("end_of_session", arb.endOfSession(0) || arb.endOfSession(1))
                .put("next_sequence", arb.nextSequence())
                .drops(refreshed(udp), udpB == null ? null : refreshed(udpB))
                .put("elapsed_s", (end - start) / 1e9)
                .put("rate_pps", packets * 1e9 / Math.max(1, active))
                .put("rate_mps", arb.messages() * 1e9 / Math.max(1, active))
                .put("idle", ctx.idleName())
                .put("warm_up_packets", warmUp)
                .put("warm_up_ms", warmUpNanos / 1e6)
                .percentiles("latency", handler.latency())
                .pollGaps(pollGaps)
                .put("clock_skewed", handler.clockSkewed())
                .put("gap_list", gapList);
            s.print(ctx);
            return args.flag("--fail-on-loss") && arb.lost() > 0 ? 1 : 0;
        }
    }

    private static Map<String, Object> malformedReasons(final FeedHandler h) {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("short_header", h.malformed(MoldUdp64.MALFORMED_SHORT_HEADER));
        m.put("overrun", h.malformed(MoldUdp64.MALFORMED_OVERRUN));
        m.put("trailing", h.malformed(MoldUdp64.MALFORMED_TRAILING));
        m.put("control_with_data", h.malformed(MoldUdp64.MALFORMED_CONTROL_WITH_DATA));
        return m;
    }
}
