package io.bypass.samples.pcap;

import io.bypass.samples.cli.Args;
import io.bypass.samples.cli.Command;
import io.bypass.samples.cli.Context;
import io.bypass.samples.cli.GroupPort;
import io.bypass.samples.cli.Options;
import io.bypass.samples.cli.Progress;
import io.bypass.samples.cli.Summary;
import io.bypass.samples.cli.Udp;
import io.bypass.samples.cli.UsageException;
import io.bypass.samples.internal.EpochClock;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.DatagramMeta;
import io.bypass.udp.UdpEndpoint;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.IdleStrategy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * {@code bypass capture}: records the UDP datagrams received on one or two groups (or a
 * bound port) to a pcap or pcapng file, rebuilding Ethernet/IPv4/UDP headers from the
 * datagram's addresses. A way to make replayable captures through any backend, without
 * tcpdump. Not a full packet capture: only datagrams the endpoint delivers.
 *
 * <pre>
 * bypass capture --uri nio:lo --a 239.1.1.1:30001 --count 10000 --out feed.pcap
 * </pre>
 */
public final class CaptureCommand implements Command {
    /** Creates the command. */
    public CaptureCommand() {
    }

    @Override
    public String name() {
        return "capture";
    }

    @Override
    public Options options() {
        return Context.common(new Options("capture", "record received UDP datagrams to a pcap/pcapng file"), true, null)
            .value("--out", "FILE", "the capture to write", null)
            .value("--a", "GROUP:PORT", "group to join (or unicast ADDRESS:PORT to bind)", null)
            .value("--b", "GROUP:PORT", "a second group", null)
            .value("--count", "N", "stop after N datagrams (0 = until --duration or Ctrl-C)", "0")
            .value("--format", "pcap|pcap-ns|pcapng", "file format", "pcap-ns");
    }

    @Override
    public int run(final Args args, final Context ctx) throws UsageException, IOException {
        final Path out = Path.of(args.required("--out"));
        final GroupPort a = args.groupPort("--a");
        if (a == null) {
            throw new UsageException("missing required option --a");
        }
        final GroupPort b = args.groupPort("--b");
        final long count = args.longValue("--count", 0, Long.MAX_VALUE);
        final PcapWriter.Format format = switch (args.choice("--format", "pcap", "pcap-ns", "pcapng")) {
            case "pcap" -> PcapWriter.Format.PCAP_MICROS;
            case "pcapng" -> PcapWriter.Format.PCAPNG;
            default -> PcapWriter.Format.PCAP_NANOS;
        };
        ctx.pinCurrentThread();
        try (UdpEndpoint udp = Udp.open(ctx.uri(), ctx.err(), !ctx.progress());
             PcapWriter writer = PcapWriter.open(out, format)) {
            Udp.subscribe(udp, a);
            if (b != null) {
                Udp.subscribe(udp, b);
            }
            final byte[] scratch = new byte[65536];
            final DatagramHandler handler = new DatagramHandler() {
                @Override
                public void onDatagram(final DirectBuffer buffer, final int offset, final int length, final DatagramMeta meta) {
                    buffer.getBytes(offset, scratch, 0, length);
                    try {
                        writer.writeUdp(EpochClock.nanos(), meta.sourceAddress(), meta.sourcePort(), meta.destinationAddress(),
                            meta.destinationPort(), scratch, 0, length);
                    } catch (final IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            };
            final IdleStrategy idle = ctx.idleStrategy();
            final Progress progress = ctx.newProgress();
            final long start = System.nanoTime();
            ctx.ready();
            while (!ctx.isStopped() && (count == 0 || writer.written() < count)) {
                final int limit = count == 0 ? 64 : (int) Math.min(64, count - writer.written());
                final int n = udp.poll(handler, limit);
                final long now = System.nanoTime();
                if (ctx.expired(start, now)) {
                    break;
                }
                if (progress.due(now)) {
                    progress.print(now, "capture: " + writer.written() + " datagrams written to " + out);
                }
                idle.idle(n);
            }
            new Summary().put("command", "capture").put("backend", udp.backend()).put("file", out.toString())
                .put("format", format.name().toLowerCase(java.util.Locale.ROOT)).put("packets", writer.written())
                .put("elapsed_s", (System.nanoTime() - start) / 1e9)
                .print(ctx);
            return 0;
        }
    }
}
