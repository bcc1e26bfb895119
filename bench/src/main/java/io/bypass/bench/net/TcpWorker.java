package io.bypass.bench.net;

import io.bypass.Bypass;
import io.bypass.UnsupportedByBackendException;
import io.bypass.net.Ipv4;
import io.bypass.tcp.TcpClaim;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.tcp.TcpHandler;
import io.bypass.tcp.TcpListener;
import io.bypass.tcp.TcpState;
import io.bypass.threads.Affinity;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Map;

/**
 * The Java side of the tcp-pingpong and tcp-bulk scenarios: Bypass's TCP ({@link Bypass#openTcp}) on
 * the backend of {@code uri=}, run by the harness as its own JVM in a namespace, with the same modes,
 * arguments and output as {@code native/bench/bench_tcp.c}: {@code echo} and {@code sink} accept one
 * connection on {@code port=}; {@code ping} and {@code bulk} connect to {@code dst_ip=:dport=}. Every
 * wait is a busy poll of the connection. Prints {@code READY}, then {@code RESULT {json}}; a backend
 * whose {@code openTcp} refuses prints {@code UNAVAILABLE <why>} instead and exits 0.
 */
public final class TcpWorker {
    private static final long OPEN_TIMEOUT_NS = 10_000_000_000L;
    private static final long END_TIMEOUT_NS = 120_000_000_000L;

    private final Map<String, String> args;
    private final TcpClaim claim = new TcpClaim();
    private final UnsafeBuffer scratch = new UnsafeBuffer(ByteBuffer.allocateDirect(TcpStreamCheck.CHUNK));
    private final TcpStreamCheck check = new TcpStreamCheck();
    // hot-path state in fields so the handlers capture nothing
    private int scratchLength;
    private final TcpHandler copyIn = this::copyIn;
    private final TcpHandler checkIn = this::checkIn;
    private final TcpHandler discard = (buffer, offset, length) -> { };

    private TcpWorker(final Map<String, String> args) {
        this.args = args;
    }

    /**
     * @param argv {@code key=value} arguments as for {@code bench_tcp} plus {@code uri=}
     * @throws Exception on any failure (stderr, non-zero exit)
     */
    public static void main(final String[] argv) throws Exception {
        final Map<String, String> args = WorkerSupport.parseArgs(argv);
        WorkerSupport.runUntilStopped("tcp-worker-stop", () -> new TcpWorker(args).run());
    }

    private String arg(final String key, final String def) {
        return WorkerSupport.arg(args, key, def);
    }

    private long num(final String key, final long def) {
        return Long.parseLong(arg(key, Long.toString(def)));
    }

    private void run() throws IOException {
        allocated();
        final String mode = arg("mode", null);
        final TcpEndpoint ep;
        try {
            ep = Bypass.openTcp(arg("uri", null));
        } catch (final UnsupportedByBackendException e) {
            System.out.println("UNAVAILABLE " + e.getMessage().replace('\n', ' '));
            System.out.flush();
            return;
        }
        try (ep) {
            final int cpu = (int) num("cpu", -1);
            if (cpu >= 0) {
                Affinity.pinCurrentThread(cpu); // after opening: DPDK's EAL re-pins the thread that initialises it
            }
            switch (mode) {
                case "echo" -> echo(ep, accept(ep));
                case "sink" -> sink(ep, accept(ep));
                case "ping" -> ping(ep, connect(ep));
                case "bulk" -> bulk(ep, connect(ep));
                default -> throw new IllegalArgumentException("unknown mode " + mode + " (echo, ping, sink, bulk)");
            }
        }
    }

    private TcpConnection accept(final TcpEndpoint ep) {
        final TcpListener listener = ep.listen((int) num("port", 9000));
        JavaWorker.ready();
        TcpConnection c;
        while ((c = listener.accept()) == null) {
            if (WorkerSupport.stopping) {
                throw new IllegalStateException("stopped before a connection came");
            }
            ep.poll(16);
        }
        listener.close();
        return c;
    }

    private TcpConnection connect(final TcpEndpoint ep) {
        final long deadline = System.nanoTime() + OPEN_TIMEOUT_NS;
        while (true) {
            final TcpConnection c = ep.connect(Ipv4.parse(arg("dst_ip", null)), (int) num("dport", 9000));
            while (c.state() == TcpState.SYN_SENT && System.nanoTime() < deadline && !WorkerSupport.stopping) {
                c.poll(discard, 16);
            }
            if (c.state() == TcpState.ESTABLISHED) {
                return c;
            }
            // the server may still be starting (refused): retry until the deadline, as bench_tcp does
            if (!"refused".equals(c.closeReason()) || System.nanoTime() >= deadline || WorkerSupport.stopping) {
                throw new IllegalStateException("connect to " + arg("dst_ip", null) + ":" + arg("dport", "9000") + ": "
                    + c.state() + " " + c.closeReason());
            }
            c.close();
            ep.poll(16);
        }
    }

    // ------------------------------------------------------------------ ping-pong

    private void copyIn(final DirectBuffer buffer, final int offset, final int length) {
        final int n = Math.min(length, scratch.capacity() - scratchLength);
        buffer.getBytes(offset, scratch, scratchLength, n);
        scratchLength += n;
    }

    /** Sends back every byte: copied out of the receive view first, then queued and flushed after the poll. */
    private void echo(final TcpEndpoint ep, final TcpConnection c) {
        final long start = System.nanoTime();
        long total = 0;
        while (!WorkerSupport.stopping) {
            scratchLength = 0;
            final int n = c.poll(copyIn, 16);
            if (n == TcpConnection.CLOSED || c.state() == TcpState.CLOSE_WAIT && scratchLength == 0) {
                break;
            }
            if (scratchLength > 0) {
                total += scratchLength;
                int r;
                while ((r = c.send(scratch, 0, scratchLength)) == TcpConnection.BACK_PRESSURED && !WorkerSupport.stopping) {
                    c.flush();
                    c.poll(discard, 1);
                }
                if (r != TcpConnection.OK) {
                    break;
                }
                c.flush();
            }
        }
        c.close();
        finish(ep, c);
        System.out.println(String.format(Locale.ROOT, "RESULT {\"mode\":\"echo\",\"packets\":%d,\"seconds\":%.6f}", total,
            (System.nanoTime() - start) / 1e9));
    }

    private void ping(final TcpEndpoint ep, final TcpConnection c) throws IOException {
        final int payload = (int) num("payload", 64);
        if (payload < 16 || payload > 4096) {
            throw new IllegalArgumentException("payload must be 16..4096");
        }
        final long[] samples = new long[(int) num("count", 1_000_000)];
        final long warmupNs = num("warmup_ms", 1000) * 1_000_000L;
        final long durationNs = num("duration_ms", 3000) * 1_000_000L;
        int count = 0;
        long slow = 0;
        long seq = 0;
        JavaWorker.ready();
        final long open = System.nanoTime() + warmupNs;
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
            seq++;
            int r;
            while ((r = c.tryClaim(payload, claim)) == TcpConnection.BACK_PRESSURED) {
                c.flush();
                c.poll(discard, 1);
            }
            if (r != TcpConnection.OK) {
                throw new IllegalStateException("claim failed (" + r + "): " + c.state() + " " + c.closeReason());
            }
            claim.buffer().setMemory(claim.offset(), payload, (byte) 0x5a);
            claim.buffer().putLong(claim.offset(), seq);
            claim.buffer().putLong(claim.offset() + 8, t0);
            claim.commit();
            c.flush();
            scratchLength = 0;
            while (scratchLength < payload) {
                if (c.poll(copyIn, 16) == TcpConnection.CLOSED || WorkerSupport.stopping) {
                    throw new IllegalStateException("connection ended during ping-pong: " + c.state() + " " + c.closeReason());
                }
            }
            final long t1 = System.nanoTime();
            if (scratchLength != payload || scratch.getLong(0) != seq) {
                throw new IllegalStateException("echo of " + seq + " carried " + scratch.getLong(0) + " (" + scratchLength + " bytes)");
            }
            if (t1 - t0 > 50_000_000L) {
                slow++; // TCP does not lose: a retransmission shows as a long round trip, and is kept
            }
            if (t0 >= open) {
                samples[count++] = t1 - t0;
            }
        }
        final long alloc = a0 == 0 ? 0 : allocated() - a0;
        final double secs = (System.nanoTime() - open) / 1e9;
        c.close();
        finish(ep, c);
        writeSamples(samples, count);
        System.out.println(String.format(Locale.ROOT,
            "RESULT {\"mode\":\"ping\",\"packets\":%d,\"seconds\":%.6f,\"pps\":%.1f,\"slow\":%d,\"samples\":%d,\"alloc_bytes\":%d}",
            count, secs, secs > 0 ? count / secs : 0.0, slow, count, alloc));
    }

    // ------------------------------------------------------------------ bulk

    private void checkIn(final DirectBuffer buffer, final int offset, final int length) {
        check.received(buffer, offset, length);
    }

    /** Reads to the peer's FIN, checking every byte; the window is first byte to last byte. */
    private void sink(final TcpEndpoint ep, final TcpConnection c) {
        long first = 0;
        long last = 0;
        boolean eof = false;
        long a0 = 0;
        while (!WorkerSupport.stopping) {
            final long before = check.bytes();
            final int n = c.poll(checkIn, 64);
            if (check.bytes() != before) {
                last = System.nanoTime();
                if (first == 0) {
                    first = last;
                    a0 = allocated();
                }
            }
            if (n == TcpConnection.CLOSED || n == 0 && c.state() == TcpState.CLOSE_WAIT) {
                eof = c.state() == TcpState.CLOSE_WAIT || "closed by peer".equals(c.closeReason());
                break;
            }
        }
        final long alloc = a0 == 0 ? 0 : allocated() - a0;
        c.close();
        finish(ep, c);
        final double secs = (last - first) / 1e9;
        System.out.println(String.format(Locale.ROOT,
            "RESULT {\"mode\":\"sink\",\"packets\":%d,\"bytes\":%d,\"seconds\":%.6f,\"gbps\":%.3f,\"mismatches\":%d,\"crc\":%d,"
                + "\"eof\":%d,\"alloc_bytes\":%d,\"first_mismatch\":%d}", check.bytes(), check.bytes(), secs, secs > 0 ? check.bytes() * 8 / secs / 1e9 : 0.0,
            check.mismatches(), check.crc(), eof ? 1 : 0, alloc, check.firstMismatch()));
    }

    /** Sends the pattern, closes (FIN after the last byte), and waits for the sink's FIN: then every byte was read. */
    private void bulk(final TcpEndpoint ep, final TcpConnection c) {
        final long bytes = num("bytes", 200_000_000L);
        JavaWorker.ready();
        final long start = System.nanoTime();
        while (check.bytes() < bytes && !WorkerSupport.stopping) {
            final int n = (int) Math.min(Math.min(TcpStreamCheck.CHUNK, c.maxClaimLength()), bytes - check.bytes());
            final int r = c.tryClaim(n, claim);
            if (r == TcpConnection.OK) {
                check.fill(claim.buffer(), claim.offset(), n);
                claim.commit();
                c.flush();
            } else if (r == TcpConnection.BACK_PRESSURED) {
                c.flush();
                c.poll(discard, 16); // takes the ACKs that make room
            } else {
                throw new IllegalStateException("claim failed (" + r + ") after " + check.bytes() + " bytes: " + c.state() + " "
                    + c.closeReason());
            }
        }
        c.close();
        final long deadline = System.nanoTime() + END_TIMEOUT_NS;
        while (c.state() != TcpState.CLOSED && c.state() != TcpState.TIME_WAIT && System.nanoTime() < deadline && !WorkerSupport.stopping) {
            c.poll(discard, 16);
        }
        final double secs = (System.nanoTime() - start) / 1e9;
        final boolean ended = c.state() == TcpState.CLOSED || c.state() == TcpState.TIME_WAIT;
        System.out.println(String.format(Locale.ROOT,
            "RESULT {\"mode\":\"bulk\",\"packets\":%d,\"bytes\":%d,\"seconds\":%.6f,\"gbps\":%.3f,\"crc\":%d,\"ended\":%d}",
            check.bytes(), check.bytes(), secs, secs > 0 ? check.bytes() * 8 / secs / 1e9 : 0.0, check.crc(), ended ? 1 : 0));
        finish(ep, c);
    }

    /** Carries a close through (FIN and its ACK) for up to 2 s, so the peer sees an orderly end. */
    private void finish(final TcpEndpoint ep, final TcpConnection c) {
        final long deadline = System.nanoTime() + 2_000_000_000L;
        while (c.state() != TcpState.CLOSED && c.state() != TcpState.TIME_WAIT && System.nanoTime() < deadline) {
            c.poll(discard, 16);
            ep.poll(16);
        }
        System.out.flush();
        // for the log: retransmissions, drops and back-pressure explain a slow run
        final StringBuilder sb = new StringBuilder("counters:");
        ep.counters().snapshot().forEach((k, v) -> {
            if (v != 0) {
                sb.append(' ').append(k).append('=').append(v);
            }
        });
        System.err.println(sb);
    }

    private static long allocated() {
        return WorkerSupport.allocated();
    }

    private void writeSamples(final long[] samples, final int count) throws IOException {
        WorkerSupport.writeSamples(args.get("samples"), samples, count);
    }
}
