package io.bypass.samples.tcpcat;

import io.bypass.net.Ipv4;
import io.bypass.samples.cli.Args;
import io.bypass.samples.cli.Command;
import io.bypass.samples.cli.Context;
import io.bypass.samples.cli.GroupPort;
import io.bypass.samples.cli.Options;
import io.bypass.samples.cli.Progress;
import io.bypass.samples.cli.Summary;
import io.bypass.samples.cli.Tcp;
import io.bypass.samples.cli.UsageException;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.tcp.TcpListener;
import io.bypass.tcp.TcpState;
import io.bypass.threads.HiccupRecorder;
import org.agrona.concurrent.IdleStrategy;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code bypass tcpcat}: netcat over Bypass TCP. Connects to a peer ({@code --connect}) or waits for
 * one ({@code --listen}); stdin goes to the peer and the peer's bytes to stdout, and it ends once both
 * directions have ended: the input at end of file, the peer's at its FIN (stdout is then closed).
 * Progress and the summary go to stderr, since stdout carries the data.
 *
 * <p>The polling thread never blocks on stdin or stdout: a reader thread and a writer thread hand
 * fixed chunks over lock-free queues ({@link ChunkPipe}; Java cannot make stdin non-blocking, its
 * {@code FileChannel} is not selectable). A slow stdout leaves the peer's bytes below, in the socket
 * or the stack, whose window then closes: the peer is slowed, nothing is lost.
 *
 * <pre>
 * bypass tcpcat --uri dpdk:net_af_packet0,iface=veth1?ip=10.0.0.2/24 --listen 9000 &gt; received
 * bypass tcpcat --uri nio:veth0 --connect 10.0.0.2:9000 --eof-close &lt; file
 * </pre>
 */
public final class TcpCatCommand implements Command {
    private static final int CHUNKS = 64;
    private static final int CHUNK_BYTES = 64 * 1024;
    private static final long CONNECT_MILLIS = 5_000;
    private static final long CLOSE_NANOS = 30_000_000_000L;

    /** Creates the command. */
    public TcpCatCommand() {
    }

    @Override
    public String name() {
        return "tcpcat";
    }

    @Override
    public Options options() {
        return Context.common(new Options("tcpcat", "netcat over Bypass TCP: stdin to the peer, the peer's bytes to stdout, until both have ended; "
            + "progress and summary (--json: its last line) on stderr"), true, null)
            .value("--connect", "ADDRESS:PORT", "connect to a peer", null)
            .value("--listen", "PORT", "wait for one peer on PORT instead (the listener closes once it has come)", null)
            .value("--in", "PATH", "read this file instead of stdin (- is stdin)", "-")
            .value("--out", "PATH", "write the peer's bytes to this file instead of stdout (- is stdout)", "-")
            .flag("--eof-close", "at end of input send the FIN at once (as nc -N); by default tcpcat first waits for the peer's, since close() "
                + "ends receiving too and the peer's later bytes would be discarded");
    }

    @Override
    public int run(final Args args, final Context ctx) throws UsageException {
        final GroupPort connect = args.has("--connect") ? args.groupPort("--connect") : null;
        final int listenPort = args.has("--listen") ? args.intValue("--listen", 1, 65535) : 0;
        if ((connect == null) == (listenPort == 0)) {
            throw new UsageException("give one of --connect ADDRESS:PORT and --listen PORT");
        }
        final boolean eofClose = args.flag("--eof-close");
        final ReadableByteChannel input = input(args.string("--in"));
        final boolean toStdout = "-".equals(args.string("--out"));
        final WritableByteChannel output = toStdout ? Channels.newChannel(ctx.out()) : output(args.string("--out"));
        final HiccupRecorder pollGaps = new HiccupRecorder();
        final ChunkPipe in = new ChunkPipe(CHUNKS, CHUNK_BYTES);
        final ChunkPipe out = new ChunkPipe(CHUNKS, CHUNK_BYTES);
        final AtomicReference<String> outputFailure = new AtomicReference<>();
        Thread writer = null;
        ctx.pinCurrentThread();
        try (TcpEndpoint tcp = Tcp.open(ctx.uri(), ctx.err(), !ctx.progress())) {
            final IdleStrategy idle = ctx.idleStrategy();
            final TcpConnection c = connect != null ? connect(tcp, connect, idle, ctx) : accept(tcp, listenPort, idle, ctx);
            if (c == null) {
                return 1;
            }
            final String peer = Ipv4.toString(c.remoteAddress()) + ":" + c.remotePort();
            if (ctx.progress()) {
                ctx.err().println("connected " + Ipv4.toString(c.localAddress()) + ":" + c.localPort() + " <-> " + peer);
            }
            final Thread reader = StdioThreads.startReader(input, in);
            // stdout is closed at the peer's FIN only in a real process: in-process callers keep their stream
            writer = StdioThreads.startWriter(output, out, !toStdout || ctx.out() == System.out, outputFailure);
            final TcpCatLoop loop = new TcpCatLoop(tcp, c, in, out, eofClose, idle, pollGaps);
            final Progress progress = ctx.newProgress();
            final long start = System.nanoTime();
            long closeBy = Long.MAX_VALUE;
            long lastIn = 0;
            long lastOut = 0;
            boolean stopped = false;
            while (!loop.isDone()) {
                loop.doWork();
                final long now = loop.lastPollNanos;
                if (!stopped && (ctx.isStopped() || ctx.expired(start, now))) {
                    loop.stop();
                    stopped = true;
                }
                if (loop.isClosed() && closeBy == Long.MAX_VALUE) {
                    closeBy = now + CLOSE_NANOS;
                }
                if (now > closeBy) {
                    c.abort(); // the peer never acknowledged our FIN
                    break;
                }
                if (progress.due(now)) {
                    final double secs = progress.elapsedSeconds(now);
                    progress.print(now, String.format("tcpcat: sent %.1f MB/s  received %.1f MB/s  state=%s%s%s",
                        (loop.bytesSent - lastOut) / secs / 1e6, (loop.bytesReceived - lastIn) / secs / 1e6, c.state(),
                        loop.inputEnded() ? " input-ended" : "", loop.peerEnded() ? " peer-ended" : ""));
                    lastIn = loop.bytesReceived;
                    lastOut = loop.bytesSent;
                }
            }
            final long elapsed = System.nanoTime() - start;
            reader.interrupt();
            try {
                writer.join(CLOSE_NANOS / 1_000_000);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            final String failure = firstNonNull(loop.failure(), in.failure(), outputFailure.get(),
                writer.isAlive() ? "the output did not take the last bytes in time" : null, c.state() == TcpState.CLOSED
                    && "aborted".equals(c.closeReason()) ? "the peer did not acknowledge our FIN" : null);
            final Summary s = new Summary()
                .put("command", "tcpcat")
                .put("backend", tcp.backend())
                .put("uri", ctx.uri())
                .put("peer", peer)
                .put("role", connect != null ? "connect" : "listen")
                .put("bytes_sent", loop.bytesSent)
                .put("bytes_received", loop.bytesReceived)
                .put("elapsed_s", elapsed / 1e9)
                .put("sent_mbps", loop.bytesSent * 8e3 / Math.max(1, elapsed))
                .put("received_mbps", loop.bytesReceived * 8e3 / Math.max(1, elapsed))
                .put("output_waits", loop.outputWaits)
                .put("stopped", stopped)
                .put("close_reason", String.valueOf(c.closeReason()))
                .put("failure", failure == null ? "" : failure)
                .put("tcp", Tcp.counters(c.counters()))
                .drops(tcp.counters())
                .pollGaps(pollGaps);
            ctx.setSummary(s);
            s.print(ctx.err(), ctx.json()); // stdout is the data
            if (failure != null) {
                ctx.err().println("tcpcat: " + failure);
            }
            return failure == null ? 0 : 1;
        } finally {
            closeQuietly(input);
            if (writer == null && !toStdout) {
                closeQuietly(output); // otherwise the writer closes it once it has written everything
            }
        }
    }

    private static TcpConnection connect(final TcpEndpoint tcp, final GroupPort to, final IdleStrategy idle, final Context ctx) {
        final TcpConnection c = tcp.connect(to.address(), to.port());
        if (Tcp.awaitEstablished(tcp, c, CONNECT_MILLIS, idle, ctx) != TcpState.ESTABLISHED) {
            ctx.err().println("tcpcat: could not connect to " + to + ": " + c.state() + " "
                + (c.closeReason() == null ? "no answer in " + CONNECT_MILLIS + " ms" : c.closeReason()));
            c.abort();
            return null;
        }
        ctx.ready();
        return c;
    }

    private static TcpConnection accept(final TcpEndpoint tcp, final int port, final IdleStrategy idle, final Context ctx) {
        final TcpListener listener = tcp.listen(port);
        ctx.ready();
        try {
            while (!ctx.isStopped()) {
                final TcpConnection c = listener.accept();
                if (c != null) {
                    return c;
                }
                idle.idle(tcp.poll(16));
            }
            ctx.err().println("tcpcat: stopped before a peer connected to port " + port);
            return null;
        } finally {
            listener.close(); // one peer, as netcat
        }
    }

    private static ReadableByteChannel input(final String path) throws UsageException {
        if ("-".equals(path)) {
            return new FileInputStream(FileDescriptor.in).getChannel();
        }
        try {
            return FileChannel.open(Path.of(path), StandardOpenOption.READ);
        } catch (final IOException e) {
            throw new UsageException("--in: cannot read " + path + ": " + e.getMessage());
        }
    }

    private static WritableByteChannel output(final String path) throws UsageException {
        try {
            return FileChannel.open(Path.of(path), StandardOpenOption.WRITE, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (final IOException e) {
            throw new UsageException("--out: cannot write " + path + ": " + e.getMessage());
        }
    }

    private static String firstNonNull(final String... reasons) {
        for (final String r : reasons) {
            if (r != null) {
                return r;
            }
        }
        return null;
    }

    private static void closeQuietly(final java.nio.channels.Channel c) {
        try {
            c.close();
        } catch (final IOException | UncheckedIOException ignored) {
            // the reader may have closed it already (interrupted)
        }
    }
}
