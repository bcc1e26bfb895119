package io.bypass.bench.net;

import io.bypass.Bypass;
import io.bypass.FlowRule;
import io.bypass.FrameClaim;
import io.bypass.FrameHandler;
import io.bypass.FrameMeta;
import io.bypass.Port;
import io.bypass.RxQueue;
import io.bypass.TxQueue;
import io.bypass.UnsupportedByBackendException;
import io.bypass.threads.Affinity;
import io.bypass.udp.DatagramClaim;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.DatagramMeta;
import io.bypass.udp.UdpDestination;
import io.bypass.udp.UdpEndpoint;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.io.IOException;
import java.util.Map;

/**
 * The Java side of every network scenario, run by the harness as its own JVM inside a
 * namespace ({@code ip netns exec}); the same modes, arguments and output as the C
 * baselines ({@code native/bench/bench_common.h}): {@code rx}, {@code tx}, {@code echo},
 * {@code ping}, over the raw {@link Port} ({@code api=l2}) or {@link UdpEndpoint}
 * ({@code api=udp}). The polling thread is pinned with {@code cpu=N}; the JVM's other
 * threads are not. Prints {@code READY}, then {@code RESULT {json}} with, in addition to
 * the C fields, the bytes the polling thread allocated during the measured window.
 *
 * <pre>{@code
 * ip netns exec NS java -cp benchmarks.jar io.bypass.bench.net.JavaWorker mode=rx api=l2 uri=afxdp:veth0?xdp=drv \
 *     local_ip=10.1.1.1 port=9000 cpu=0 warmup_ms=1000 duration_ms=3000
 * }</pre>
 */
public final class JavaWorker {
    private static final long PING_TIMEOUT_NS = 50_000_000L;

    private final Map<String, String> args;
    private final String mode;
    private final int payload;
    private final long warmupNs;
    private final long durationNs;
    private final long idleNs;
    private final int batch;

    // Hot-path state, fields so the handlers are allocation-free and capture nothing.
    private long received;
    private long pingSeq;
    private boolean pingMatched;
    private TxQueue echoTx;
    private final FrameClaim frameClaim = new FrameClaim();
    private final DatagramClaim datagramClaim = new DatagramClaim();
    private UdpEndpoint echoEndpoint;
    private UdpDestination echoDestination;

    private JavaWorker(final Map<String, String> args) {
        this.args = args;
        this.mode = arg("mode", null);
        this.payload = Integer.parseInt(arg("payload", "32"));
        this.warmupNs = Long.parseLong(arg("warmup_ms", "1000")) * 1_000_000L;
        this.durationNs = Long.parseLong(arg("duration_ms", "3000")) * 1_000_000L;
        this.idleNs = Long.parseLong(arg("idle_ms", "10000")) * 1_000_000L;
        this.batch = Integer.parseInt(arg("batch", "64"));
    }

    /**
     * @param argv {@code key=value} arguments as for the C baselines plus {@code uri=} and {@code api=l2|udp}
     * @throws Exception on any failure (reported on stderr, exit code non-zero)
     */
    public static void main(final String[] argv) throws Exception {
        final Map<String, String> args = WorkerSupport.parseArgs(argv);
        WorkerSupport.runUntilStopped("worker-stop", () -> new JavaWorker(args).run());
    }

    private String arg(final String key, final String def) {
        return WorkerSupport.arg(args, key, def);
    }

    private void run() throws IOException {
        allocated(); // the first call may allocate; keep that out of the window
        final String uri = arg("uri", null);
        final int cpu = Integer.parseInt(arg("cpu", "-1"));
        // Pin after opening: the DPDK EAL sets the affinity of the thread that initialises it
        // (to all CPUs of its floating lcore), which would undo an earlier pin.
        if ("udp".equals(arg("api", "l2"))) {
            try (UdpEndpoint ep = Bypass.openUdp(uri)) {
                if (!"feed".equals(mode)) { // feed joins its group instead (FeedReceiver)
                    ep.bind(Integer.parseInt(arg("port", "9000")));
                }
                pin(cpu);
                runUdp(ep);
            }
        } else {
            try (Port port = Bypass.open(uri)) {
                try {
                    port.addFlow(0, new FlowRule(Frames.parseIp(arg("local_ip", null)), Integer.parseInt(arg("port", "9000"))));
                } catch (final UnsupportedByBackendException e) {
                    // the backend receives every frame on the queue anyway (DPDK)
                }
                pin(cpu);
                runL2(port);
            }
        }
    }

    /**
     * The measured window of a sender, the same for the Port and UdpEndpoint paths: frames
     * sent after the warm-up and before the window closes are counted, and the polling
     * thread's allocation is taken from the first counted batch to the report.
     */
    private final class TxWindow {
        private final long open;
        private final long close;
        private long counted;
        private long total;
        private long allocatedAtOpen;

        TxWindow(final long start) {
            open = start + warmupNs;
            close = open + durationNs;
        }

        /** @return true once the window has closed and the sender should stop */
        boolean sent(final int frames) {
            final long now = System.nanoTime();
            total += frames;
            if (now >= open && now < close) {
                if (allocatedAtOpen == 0) {
                    allocatedAtOpen = allocated();
                }
                counted += frames;
            }
            return now >= close;
        }

        void report() {
            WorkerSupport.result("tx", counted, durationNs, "total", total, allocated() - allocatedAtOpen);
        }
    }

    /**
     * The measured window of a receiver, the same for the Port and UdpEndpoint paths: it
     * opens a warm-up after the first packet, counts for the duration, and takes the polling
     * thread's allocation over the window; with no packet at all it gives up after idle_ms.
     */
    private final class RxWindow {
        private final long start = System.nanoTime();
        private long open;
        private long close;
        private boolean started;
        private long counted;
        private long allocatedAtOpen;

        /** @return true once the window has closed (or nothing came) and the receiver should stop */
        boolean polled(final long packets) {
            final long now = System.nanoTime();
            if (packets > 0 && !started) {
                started = true;
                open = now + warmupNs;
                close = open + durationNs;
            }
            if (started && now >= open && now < close) {
                if (allocatedAtOpen == 0) {
                    allocatedAtOpen = allocated();
                }
                counted += packets;
            }
            return started ? now >= close : now - start > idleNs;
        }

        void report() {
            final long allocatedInWindow = allocatedAtOpen == 0 ? 0 : allocated() - allocatedAtOpen;
            WorkerSupport.result("rx", counted, started ? durationNs : 0, "total", received, allocatedInWindow);
        }
    }

    /** One side of the ping loop: what differs between the Port and UdpEndpoint paths. */
    private interface Pinger {
        /** Sends ping {@code seq} stamped {@code t0} and flushes it. */
        void send(long seq, long t0);

        /** Polls once; the handler sets {@code pingMatched} on the echo of {@code pingSeq}. */
        void poll();
    }

    /**
     * The ping loop, the same for both paths: one ping in flight, the round trip recorded from
     * before the claim to the poll that saw the echo, 50 ms timeout, samples after the warm-up.
     */
    private void ping(final Pinger pinger) throws IOException {
        final long[] samples = new long[Integer.parseInt(arg("count", "1000000"))];
        int count = 0;
        long lost = 0;
        ready();
        final long start = System.nanoTime();
        final long open = start + warmupNs;
        final long close = open + durationNs;
        long a0 = 0;
        while (!WorkerSupport.stopping && count < samples.length) {
            final long t0 = System.nanoTime();
            if (t0 >= close) {
                break;
            }
            if (a0 == 0 && t0 >= open) {
                a0 = allocated();
            }
            pingSeq++;
            pingMatched = false;
            pinger.send(pingSeq, t0);
            while (true) {
                pinger.poll();
                final long t1 = System.nanoTime();
                if (pingMatched) {
                    if (t0 >= open) {
                        samples[count++] = t1 - t0;
                    }
                    break;
                }
                if (t1 - t0 > PING_TIMEOUT_NS) {
                    lost++;
                    break;
                }
            }
        }
        final long alloc = a0 == 0 ? 0 : allocated() - a0;
        writeSamples(samples, count);
        WorkerSupport.result("ping", count, System.nanoTime() - open, "lost", lost, alloc, count);
    }

    /** Pins the polling thread to {@code cpu}; -1 (no --cpus given) leaves it unpinned. */
    private static void pin(final int cpu) {
        if (cpu >= 0) {
            Affinity.pinCurrentThread(cpu);
        }
    }

    private static long allocated() {
        return WorkerSupport.allocated();
    }

    // ---------------------------------------------------------------- raw frames (Port)

    private final FrameHandler countFrames = this::countFrame;
    private final FrameHandler matchFrame = this::matchFrame;
    private final FrameHandler echoFrame = this::echoFrame;

    private void countFrame(final DirectBuffer buffer, final int offset, final int length, final FrameMeta meta) {
        received++;
    }

    private void matchFrame(final DirectBuffer buffer, final int offset, final int length, final FrameMeta meta) {
        if (length >= Frames.HEADER_LENGTH + 8 && buffer.getLong(offset + Frames.HEADER_LENGTH) == pingSeq) {
            pingMatched = true;
        }
    }

    private void echoFrame(final DirectBuffer buffer, final int offset, final int length, final FrameMeta meta) {
        if (echoTx.tryClaim(length, frameClaim)) {
            Frames.copySwapped(buffer, offset, length, frameClaim.buffer());
            frameClaim.commit();
            received++;
        }
    }

    private byte[] template() {
        return Frames.template(Frames.parseMac(arg("src_mac", null)), Frames.parseMac(arg("dst_mac", null)),
            Frames.parseIp(arg("src_ip", null)), Frames.parseIp(arg("dst_ip", null)),
            Integer.parseInt(arg("sport", "9000")), Integer.parseInt(arg("dport", "9000")), payload);
    }

    private void runL2(final Port port) throws IOException {
        final RxQueue rx = port.rxQueue(0);
        final TxQueue tx = port.txQueue(0);
        switch (mode) {
            case "rx" -> {
                ready();
                final RxWindow window = new RxWindow();
                while (!WorkerSupport.stopping) {
                    final long before = received;
                    rx.poll(countFrames, batch);
                    if (window.polled(received - before)) {
                        break;
                    }
                }
                window.report();
            }
            case "tx" -> {
                final byte[] frame = template();
                final int len = frame.length;
                ready();
                final TxWindow window = new TxWindow(System.nanoTime());
                long seq = 0;
                while (!WorkerSupport.stopping) {
                    int n = 0;
                    for (; n < batch; n++) {
                        if (!tx.tryClaim(len, frameClaim)) {
                            break;
                        }
                        final MutableDirectBuffer b = frameClaim.buffer();
                        b.putBytes(0, frame, 0, len);
                        b.putLong(Frames.HEADER_LENGTH, ++seq);
                        frameClaim.commit();
                    }
                    tx.flush();
                    if (window.sent(n)) {
                        break;
                    }
                }
                window.report();
            }
            case "echo" -> {
                echoTx = tx;
                ready();
                final long start = System.nanoTime();
                while (!WorkerSupport.stopping && System.nanoTime() - start < warmupNs + durationNs + idleNs) {
                    if (rx.poll(echoFrame, batch) > 0) {
                        tx.flush();
                    }
                }
                WorkerSupport.result("echo", received, System.nanoTime() - start, "total", received, 0);
            }
            case "ping" -> {
                final byte[] frame = template();
                final int len = frame.length;
                ping(new Pinger() {
                    @Override
                    public void send(final long seq, final long t0) {
                        while (!tx.tryClaim(len, frameClaim)) {
                            tx.flush();
                        }
                        final MutableDirectBuffer b = frameClaim.buffer();
                        b.putBytes(0, frame, 0, len);
                        b.putLong(Frames.HEADER_LENGTH, seq);
                        b.putLong(Frames.HEADER_LENGTH + 8, t0);
                        frameClaim.commit();
                        tx.flush();
                    }

                    @Override
                    public void poll() {
                        rx.poll(matchFrame, batch);
                    }
                });
            }
            default -> throw new IllegalArgumentException("unknown mode " + mode + " (rx, tx, echo, ping)");
        }
    }

    // ---------------------------------------------------------------- datagrams (UdpEndpoint)

    private final DatagramHandler countDatagrams = this::countDatagram;
    private final DatagramHandler matchDatagram = this::matchDatagram;
    private final DatagramHandler echoDatagram = this::echoDatagram;

    private void countDatagram(final DirectBuffer buffer, final int offset, final int length, final DatagramMeta meta) {
        received++;
    }

    private void matchDatagram(final DirectBuffer buffer, final int offset, final int length, final DatagramMeta meta) {
        if (length >= 8 && buffer.getLong(offset) == pingSeq) {
            pingMatched = true;
        }
    }

    private void echoDatagram(final DirectBuffer buffer, final int offset, final int length, final DatagramMeta meta) {
        UdpDestination d = echoDestination;
        if (d == null || d.address() != meta.sourceAddress() || d.port() != meta.sourcePort()) {
            d = UdpDestination.of(meta.sourceAddress(), meta.sourcePort()); // once per peer, not per datagram
            echoDestination = d;
        }
        if (echoEndpoint.tryClaim(d, length, datagramClaim) == UdpEndpoint.OK) {
            datagramClaim.buffer().putBytes(0, buffer, offset, length);
            datagramClaim.commit();
            received++;
        }
    }

    private void runUdp(final UdpEndpoint ep) throws IOException {
        switch (mode) {
            case "rx" -> {
                ready();
                final RxWindow window = new RxWindow();
                while (!WorkerSupport.stopping) {
                    final long before = received;
                    ep.poll(countDatagrams, batch);
                    if (window.polled(received - before)) {
                        break;
                    }
                }
                window.report();
            }
            case "tx" -> {
                final UdpDestination dest = UdpDestination.of(arg("dst_ip", null), Integer.parseInt(arg("dport", "9000")));
                awaitNeighbour(ep, dest);
                ready();
                final TxWindow window = new TxWindow(System.nanoTime());
                long seq = 0;
                while (!WorkerSupport.stopping) {
                    int n = 0;
                    for (; n < batch; n++) {
                        if (ep.tryClaim(dest, payload, datagramClaim) != UdpEndpoint.OK) {
                            break;
                        }
                        datagramClaim.buffer().putLong(0, ++seq);
                        datagramClaim.commit();
                    }
                    ep.flush();
                    if (window.sent(n)) {
                        break;
                    }
                }
                window.report();
            }
            case "echo" -> {
                echoEndpoint = ep;
                ready();
                final long start = System.nanoTime();
                while (!WorkerSupport.stopping && System.nanoTime() - start < warmupNs + durationNs + idleNs) {
                    if (ep.poll(echoDatagram, batch) > 0) {
                        ep.flush();
                    }
                }
                WorkerSupport.result("echo", received, System.nanoTime() - start, "total", received, 0);
            }
            case "ping" -> {
                final UdpDestination dest = UdpDestination.of(arg("dst_ip", null), Integer.parseInt(arg("dport", "9000")));
                awaitNeighbour(ep, dest);
                ping(new Pinger() {
                    @Override
                    public void send(final long seq, final long t0) {
                        while (ep.tryClaim(dest, payload, datagramClaim) != UdpEndpoint.OK) {
                            ep.flush();
                            ep.poll(matchDatagram, batch); // NEIGHBOUR_PENDING needs the ARP reply polled in
                        }
                        datagramClaim.buffer().putLong(0, seq);
                        datagramClaim.buffer().putLong(8, t0);
                        datagramClaim.commit();
                        ep.flush();
                    }

                    @Override
                    public void poll() {
                        ep.poll(matchDatagram, batch);
                    }
                });
            }
            case "feed" -> {
                final long trials = new FeedReceiver(ep, new io.bypass.samples.cli.GroupPort(Frames.parseIp(arg("group", null)),
                    Integer.parseInt(arg("port", "30001"))), batch, Long.parseLong(arg("idle_gap_ms", "300")), durationNs / 1_000_000L,
                    () -> WorkerSupport.stopping).run();
                WorkerSupport.result("feed", trials, 0, "trials", trials, 0);
            }
            case "sink" -> {
                ready();
                final long start = System.nanoTime();
                while (!WorkerSupport.stopping && System.nanoTime() - start < durationNs) {
                    ep.poll(countDatagrams, batch);
                }
                WorkerSupport.result("sink", received, System.nanoTime() - start, "total", received, 0);
            }
            default -> throw new IllegalArgumentException("unknown mode " + mode + " (rx, tx, echo, ping, sink, feed)");
        }
    }

    /** Resolves the peer before the window opens, so ARP is not measured (L2 backends). */
    private void awaitNeighbour(final UdpEndpoint ep, final UdpDestination dest) {
        final long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            final int rc = ep.tryClaim(dest, payload, datagramClaim);
            if (rc == UdpEndpoint.OK) {
                datagramClaim.abort();
                return;
            }
            if (rc == UdpEndpoint.TOO_LONG) {
                throw new IllegalStateException("payload " + payload + " too long for " + ep.uri());
            }
            ep.flush();
            ep.poll(countDatagrams, batch);
            Thread.onSpinWait();
        }
        throw new IllegalStateException("no neighbour for " + dest + " after 5 s on " + ep.uri());
    }

    private void writeSamples(final long[] samples, final int count) throws IOException {
        WorkerSupport.writeSamples(args.get("samples"), samples, count);
    }

    /** Tells the harness the worker is open and listening. */
    static void ready() {
        System.out.println("READY");
        System.out.flush();
    }
}
