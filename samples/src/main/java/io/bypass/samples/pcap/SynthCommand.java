package io.bypass.samples.pcap;

import io.bypass.samples.cli.Args;
import io.bypass.samples.cli.Command;
import io.bypass.samples.cli.Context;
import io.bypass.samples.cli.GroupPort;
import io.bypass.samples.cli.Options;
import io.bypass.samples.cli.Summary;
import io.bypass.samples.cli.UsageException;
import io.bypass.samples.feed.FeedCommand;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bypass synth}: writes a synthetic MoldUDP64 A/B capture ({@link FeedCapture}) for
 * replay tests with a third-party sender, and prints what a feed handler should make of it.
 *
 * <pre>
 * bypass synth --out feed.pcap --packets 100000 --rate 2500
 * tcpreplay -i veth0 --multiplier=20 feed.pcap         # into: bypass feed --uri afxdp:veth1
 * </pre>
 */
public final class SynthCommand implements Command {
    /** Creates the command. */
    public SynthCommand() {
    }

    @Override
    public String name() {
        return "synth";
    }

    @Override
    public Options options() {
        final FeedCapture.Config d = new FeedCapture.Config();
        return new Options("synth", "write a synthetic MoldUDP64 A/B capture (gaps on A filled by B, malformed frames) for replays")
            .value("--out", "FILE", "capture to write", null)
            .value("--format", "pcap|pcap-ns|pcapng", "file format", "pcap-ns")
            .value("--a", "GROUP:PORT", "A line", FeedCommand.DEFAULT_A)
            .value("--b", "GROUP:PORT", "B line", FeedCommand.DEFAULT_B)
            .value("--packets", "N", "sequenced packets, each on A and B", String.valueOf(d.packets))
            .value("--messages-per-packet", "N", "messages in each packet", String.valueOf(d.messagesPerPacket))
            .value("--rate", "PPS", "packets per second per line at 1x (replay speed multiplies it)", String.valueOf(d.rate))
            .value("--a-missing", "PERCENT", "A-line copies left out (the B line fills them)", String.valueOf(d.aMissingPercent))
            .value("--malformed", "N", "malformed frames on the A line, one kind after another", String.valueOf(d.malformed))
            .value("--seed", "N", "seed of the A-line misses", String.valueOf(d.seed))
            .flag("--json", "end with the summary as one JSON object on the last line")
            .flag("--quiet", "no progress lines on stderr");
    }

    @Override
    public int run(final Args args, final Context ctx) throws UsageException, IOException {
        final String out = args.required("--out");
        final PcapWriter.Format format = switch (args.choice("--format", "pcap", "pcap-ns", "pcapng")) {
            case "pcap" -> PcapWriter.Format.PCAP_MICROS;
            case "pcap-ns" -> PcapWriter.Format.PCAP_NANOS;
            default -> PcapWriter.Format.PCAPNG;
        };
        final GroupPort a = args.groupPort("--a");
        final GroupPort b = args.groupPort("--b");
        if (a.equals(b)) {
            throw new UsageException("--a and --b are the same (" + a + ")");
        }
        final FeedCapture.Config c = new FeedCapture.Config();
        c.groupA = a.address();
        c.portA = a.port();
        c.groupB = b.address();
        c.portB = b.port();
        c.packets = args.intValue("--packets", 1, 50_000_000);
        c.messagesPerPacket = args.intValue("--messages-per-packet", 1, 30);
        c.rate = args.intValue("--rate", 1, 100_000_000);
        c.aMissingPercent = args.doubleValue("--a-missing", 0, 100);
        c.malformed = args.intValue("--malformed", 0, 1_000_000);
        c.seed = args.longValue("--seed", Long.MIN_VALUE, Long.MAX_VALUE);
        final FeedCapture.Stats s = new FeedCapture(c).write(Path.of(out), format);
        final Map<String, Object> kinds = new LinkedHashMap<>();
        for (final FeedCapture.Malformed k : FeedCapture.Malformed.values()) {
            kinds.put(k.name().toLowerCase(Locale.ROOT), s.malformedByKind()[k.ordinal()]);
        }
        new Summary()
            .put("command", "synth")
            .put("file", out)
            .put("format", format.name().toLowerCase(Locale.ROOT))
            .put("frames", s.frames())
            .put("packets", s.packets())
            .put("messages", s.messages())
            .put("a_missing", s.aMissing())
            .put("malformed", s.malformed())
            .put("malformed_kinds", kinds)
            .put("duration_1x_s", s.durationNanos() / 1e9)
            .print(ctx);
        return 0;
    }
}
