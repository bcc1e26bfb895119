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
import io.bypass.net.Ipv4;
import io.bypass.udp.UdpDestination;
import io.bypass.udp.UdpEndpoint;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static io.bypass.samples.cli.Summary.refreshed;

/**
 * {@code bypass replay}: sends the UDP payloads of a pcap or pcapng capture through any
 * backend's transmit path, keeping the captured gaps divided by {@code --speed}, and
 * reports the achieved rate and how late packets went out against the schedule.
 *
 * <pre>
 * bypass replay --uri afxdp:veth0 --file feed.pcap --speed 10 --json
 * </pre>
 *
 * Each packet goes to its captured destination (group or unicast address and port)
 * unless {@code --dest} overrides it. A captured gap longer than {@code --max-gap} is
 * reported and shortened to it; while waiting for a packet the loop still prints progress
 * and ends at once on Ctrl-C, SIGTERM or {@code --duration}. The capture is read into memory first so the send
 * loop only reads arrays.
 */
public final class ReplayCommand implements Command {
    private static final long SEND_TIMEOUT = 1_000_000_000L;
    private static final long LEAD_NANOS = 2_000_000L;

    /** Creates the command. */
    public ReplayCommand() {
    }

    @Override
    public String name() {
        return "replay";
    }

    @Override
    public Options options() {
        return Context.common(new Options("replay", "replay the UDP datagrams of a pcap/pcapng capture"), true, null)
            .value("--file", "CAPTURE", "pcap (us or ns) or pcapng file", null)
            .value("--speed", "1|10|20|max|X", "divide captured gaps by X; max sends back to back", "1")
            .value("--dest", "ADDRESS:PORT", "send every datagram here instead of its captured destination", null)
            .value("--loops", "N", "replay the capture N times", "1")
            .value("--batch", "N", "with --speed max, flush every N datagrams", "32")
            .value("--max-gap", "TIME", "shorten a captured gap longer than TIME to TIME (0 = keep every gap)", "10s");
    }

    @Override
    public int run(final Args args, final Context ctx) throws UsageException, IOException {
        final Path file = Path.of(args.required("--file"));
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new UsageException("--file: " + file + (Files.isDirectory(file) ? " is a directory" : " is not a readable file"));
        }
        final String speedText = args.required("--speed");
        final double speed = "max".equals(speedText) ? 0 : args.doubleValue("--speed", 1e-6, 1e9);
        final GroupPort dest = args.groupPort("--dest");
        final int loops = args.intValue("--loops", 1, 1_000_000);
        final int batch = args.intValue("--batch", 1, 4096);
        final long maxGap = args.durationNanos("--max-gap");
        final Capture cap;
        try {
            cap = PcapReader.read(file);
        } catch (final PcapFormatException e) {
            ctx.err().println("bypass replay: " + file + ": " + e.getMessage());
            return 1;
        }
        if (cap.size() == 0) {
            ctx.err().println("bypass replay: " + file + " (" + cap.format() + ") has no UDP-over-IPv4 datagrams ("
                + cap.frames() + " frames)");
            return 1;
        }
        if (ctx.progress()) {
            ctx.err().println("replay: " + cap.size() + " UDP datagrams of " + cap.frames() + " frames in " + file + " (" + cap.format() + ")"
                + (cap.truncatedFile() ? "; file ends mid-record (capture was cut short)" : ""));
        }
        // Destinations made up front: the loop only indexes an array.
        final int[] destIndex = new int[cap.size()];
        final Map<Long, Integer> seen = new HashMap<>();
        final java.util.List<UdpDestination> dests = new java.util.ArrayList<>();
        for (int i = 0; i < cap.size(); i++) {
            final int addr = dest != null ? dest.address() : cap.dstAddress(i);
            final int port = dest != null ? dest.port() : cap.dstPort(i);
            if (port == 0) {
                throw new UsageException("--file: datagram " + i + " goes to port 0; give --dest ADDRESS:PORT");
            }
            final long key = ((long) addr << 16) | port;
            final Integer idx = seen.get(key);
            if (idx == null) {
                seen.put(key, dests.size());
                destIndex[i] = dests.size();
                dests.add(UdpDestination.of(addr, port));
            } else {
                destIndex[i] = idx;
            }
        }
        final UdpDestination[] destinations = dests.toArray(new UdpDestination[0]);
        final UnsafeBuffer payload = new UnsafeBuffer(cap.data());
        final Histogram lateness = new Histogram(3_600_000_000_000L, 3);
        final long span = cap.timestampNanos(cap.size() - 1) - cap.timestampNanos(0);

        ctx.pinCurrentThread();
        try (UdpEndpoint udp = Udp.open(ctx.uri(), ctx.err(), !ctx.progress())) {
            final IdleStrategy idle = ctx.idleStrategy();
            final Progress progress = ctx.newProgress();
            long sent = 0;
            long failures = 0;
            long tooLong = 0;
            long bytes = 0;
            long lastSent = 0;
            long outOfOrder = 0;
            long gapsClamped = 0;
            long gapSkipped = 0;
            // The schedule starts LEAD_NANOS ahead (time to settle); the rate counts from now.
            final long opened = System.nanoTime();
            final long start = opened + LEAD_NANOS;
            long loopStart = start;
            long scheduledEnd = start;
            boolean stopped = false;
            outer:
            for (int loop = 0; loop < loops; loop++) {
                final long t0 = cap.timestampNanos(0);
                long shift = 0;   // captured time cut out of over-long gaps so far in this loop
                for (int i = 0; i < cap.size(); i++) {
                    if (maxGap > 0 && i > 0) {
                        final long gap = cap.timestampNanos(i) - cap.timestampNanos(i - 1);
                        if (gap > maxGap) {
                            shift += gap - maxGap;
                            gapSkipped += gap - maxGap;
                            if (gapsClamped++ < 10 && ctx.progress()) {
                                ctx.err().printf("replay: captured gap of %.3f s before datagram %d shortened to --max-gap %.3f s%n",
                                    gap / 1e9, i, maxGap / 1e9);
                            }
                        }
                    }
                    long offset = cap.timestampNanos(i) - t0 - shift;
                    if (offset < 0) {
                        // Captures can hold slightly out-of-order stamps; never schedule backwards.
                        outOfOrder++;
                        offset = 0;
                    }
                    final long due = speed == 0 ? 0 : loopStart + (long) (offset / speed);
                    scheduledEnd = Math.max(scheduledEnd, due);
                    long now = System.nanoTime();
                    if (speed != 0) {
                        idle.reset();
                        while (now < due) {
                            // A long wait must still end on a stop or --duration, and keep reporting.
                            if (ctx.isStopped() || ctx.expired(start, now)) {
                                stopped = true;
                                break outer;
                            }
                            if (progress.due(now)) {
                                progress.print(now, String.format("replay: waiting %.1f s for datagram %d  sent=%d/%d failures=%d",
                                    (due - now) / 1e9, i + 1, sent, (long) cap.size() * loops, failures));
                                lastSent = sent;
                            }
                            idle.idle();
                            now = System.nanoTime();
                        }
                        lateness.recordValue(Math.min(now - due, lateness.getHighestTrackableValue()));
                    }
                    final int rc = Udp.send(udp, destinations[destIndex[i]], payload, cap.payloadOffset(i), cap.payloadLength(i),
                        idle, SEND_TIMEOUT, Udp.IGNORE);
                    if (rc == UdpEndpoint.OK) {
                        sent++;
                        bytes += cap.payloadLength(i);
                    } else if (rc == UdpEndpoint.TOO_LONG) {
                        tooLong++;
                    } else {
                        failures++;
                    }
                    if (speed != 0 || sent % batch == 0) {
                        udp.flush();
                    }
                    if (progress.due(now)) {
                        final double secs = progress.elapsedSeconds(now);
                        progress.print(now, String.format("replay: %,.0f pkt/s  sent=%d/%d failures=%d late p99=%.1fus",
                            (sent - lastSent) / secs, sent, (long) cap.size() * loops, failures,
                            lateness.getValueAtPercentile(99) / 1000.0));
                        lastSent = sent;
                    }
                    if (ctx.isStopped() || ctx.expired(start, now)) {
                        stopped = true;
                        break outer;
                    }
                }
                udp.flush();
                loopStart = System.nanoTime();
            }
            udp.flush();
            final long end = System.nanoTime();
            // From open (--speed max starts at once) or from the schedule's start, whichever came later.
            final long elapsed = Math.max(0, end - (speed == 0 ? opened : Math.min(start, end)));
            final boolean timed = elapsed >= 1_000;   // below a microsecond a rate says nothing
            final Summary s = new Summary()
                .put("command", "replay")
                .put("backend", udp.backend())
                .put("uri", ctx.uri())
                .put("file", file.toString())
                .put("format", cap.format())
                .put("frames", cap.frames())
                .put("datagrams", cap.size())
                .put("skipped_not_udp", cap.skippedNotUdp())
                .put("skipped_fragments", cap.skippedFragment())
                .put("skipped_truncated", cap.skippedTruncated())
                .put("skipped_link_type", cap.skippedLinkType())
                .put("destinations", destinations.length == 1 ? destinations[0].toString() : destinations.length + " distinct")
                .put("speed", speed == 0 ? "max" : speed)
                .put("loops", loops)
                .put("packets", sent)
                .put("bytes", bytes)
                .put("send_failures", failures)
                .put("too_long", tooLong)
                .put("out_of_order_stamps", outOfOrder)
                .put("truncated_file", cap.truncatedFile())
                .put("max_gap_s", maxGap == 0 ? null : maxGap / 1e9)
                .put("gaps_clamped", gapsClamped)
                .put("gap_skipped_s", gapSkipped / 1e9)
                .put("stopped_early", stopped)
                .put("capture_span_s", span / 1e9)
                .put("scheduled_s", speed == 0 ? null : (scheduledEnd - start) / 1e9)
                .put("elapsed_s", elapsed / 1e9)
                .put("rate_pps", timed ? sent * 1e9 / elapsed : null)
                .put("rate_mbps", timed ? bytes * 8e3 / elapsed : null)
                .put("end_drift_us", speed == 0 ? null : (end - scheduledEnd) / 1e3)
                .drops(refreshed(udp));
            if (speed != 0) {
                s.put("late_p50_us", lateness.getValueAtPercentile(50) / 1e3)
                    .put("late_p99_us", lateness.getValueAtPercentile(99) / 1e3)
                    .put("late_p99_9_us", lateness.getValueAtPercentile(99.9) / 1e3)
                    .put("late_max_us", lateness.getMaxValue() / 1e3);
            }
            s.print(ctx);
            if (ctx.progress() && dest == null && destinations.length > 0 && !Ipv4.isMulticast(destinations[0].address())) {
                ctx.err().println("note: replayed to captured unicast destinations; use --dest to redirect");
            }
            return failures > 0 ? 1 : 0;
        }
    }
}
