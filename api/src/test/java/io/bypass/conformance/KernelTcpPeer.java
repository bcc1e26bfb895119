package io.bypass.conformance;

import io.bypass.net.Ipv4;
import io.bypass.testkit.Netns;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;

/**
 * The kernel's TCP in the peer namespace, for the TCP conformance suite: listening and client
 * sockets made on the peer namespace's thread (so they live there), blocking I/O on threads of
 * its own so the DUT's thread only polls, packet loss with {@code nft}, and a small MSS by route.
 */
public final class KernelTcpPeer implements AutoCloseable {
    private static final String LOSS_TABLE = "bypass_tcp_loss";
    private final ConformanceSite site;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        final Thread t = new Thread(r, "kernel-tcp-peer");
        t.setDaemon(true);
        return t;
    });
    private final Deque<AutoCloseable> sockets = new ArrayDeque<>();
    private final AtomicInteger echoed = new AtomicInteger();

    /** @param site where the peer namespace is */
    public KernelTcpPeer(final ConformanceSite site) {
        this.site = site;
    }

    private InetAddress peerAddress() throws IOException {
        return InetAddress.getByAddress(Ipv4.toBytes(site.peerAddress()));
    }

    /**
     * @param port the port
     * @return a blocking listening socket on the peer's address, in the peer namespace
     * @throws Exception if it cannot be opened
     */
    public synchronized ServerSocketChannel listen(final int port) throws Exception {
        final ServerSocketChannel s = site.peer().call(() -> {
            final ServerSocketChannel ch = ServerSocketChannel.open();
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            ch.bind(new InetSocketAddress(peerAddress(), port), 1024);
            return ch;
        });
        sockets.push(s);
        return s;
    }

    /**
     * @return a blocking client socket made in the peer namespace, not yet connected
     * @throws Exception if it cannot be opened
     */
    public synchronized SocketChannel client() throws Exception {
        final SocketChannel s = site.peer().call(SocketChannel::open);
        sockets.push(s);
        return s;
    }

    /**
     * @param task blocking work
     * @param <T>  its result
     * @return its future, on a peer thread
     */
    public <T> Future<T> async(final Callable<T> task) {
        return threads.submit(task);
    }

    /**
     * @param server a listening socket
     * @return the next accepted connection
     */
    public Future<SocketChannel> accept(final ServerSocketChannel server) {
        return async(() -> {
            final SocketChannel ch = server.accept();
            synchronized (this) {
                sockets.push(ch);
            }
            return ch;
        });
    }

    /**
     * Reads until end of stream (or {@code limit} bytes), keeping length and CRC32.
     *
     * @param ch    a connected socket
     * @param limit most bytes to read, then return without waiting for end of stream; -1 for none
     * @return {bytes, crc32, 1 if end of stream was read}
     */
    public Future<long[]> drain(final SocketChannel ch, final long limit) {
        return async(() -> {
            final ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
            final CRC32 crc = new CRC32();
            long total = 0;
            while (limit < 0 || total < limit) {
                buf.clear();
                if (limit >= 0) {
                    buf.limit((int) Math.min(buf.capacity(), limit - total));
                }
                final int n = ch.read(buf);
                if (n < 0) {
                    return new long[] {total, crc.getValue(), 1};
                }
                crc.update(buf.array(), 0, n);
                total += n;
            }
            return new long[] {total, crc.getValue(), 0};
        });
    }

    /**
     * Writes the first {@code length} bytes of {@link TcpStreams}' stream.
     *
     * @param ch     a connected socket
     * @param length bytes
     * @return the CRC32 of what was written
     */
    public Future<Long> write(final SocketChannel ch, final long length) {
        return async(() -> {
            final CRC32 crc = new CRC32();
            for (long p = 0; p < length; ) {
                final int n = (int) Math.min(64 * 1024, length - p);
                final ByteBuffer b = ByteBuffer.wrap(TcpStreams.bytes(p), TcpStreams.offset(p), n);
                crc.update(b.duplicate());
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                p += n;
            }
            return crc.getValue();
        });
    }

    /**
     * Reads exactly {@code n} bytes.
     *
     * @param ch a connected blocking socket
     * @param n  bytes
     * @return them
     * @throws IOException at end of stream before {@code n}
     */
    public static byte[] readExactly(final SocketChannel ch, final int n) throws IOException {
        final ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new IOException("end of stream after " + b.position() + " of " + n + " bytes");
            }
        }
        return b.array();
    }

    /**
     * Serves {@code connections} connections one after another: each is echoed until its end of
     * stream, then closed.
     *
     * @param server a listening socket
     * @param connections how many
     * @return done when all were served
     */
    public Future<Integer> echo(final ServerSocketChannel server, final int connections) {
        return async(() -> {
            final ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024);
            for (int i = 0; i < connections; i++) {
                try (SocketChannel ch = server.accept()) {
                    for (int n; (n = ch.read(buf.clear())) >= 0; ) {
                        buf.flip();
                        while (buf.hasRemaining()) {
                            ch.write(buf);
                        }
                        echoed.addAndGet(n);
                    }
                }
            }
            return connections;
        });
    }

    /**
     * Drops {@code percent} of the TCP frames an interface receives, with {@code nft} (netdev family,
     * ingress hook, {@link TcpLossRules}), or none with 0. Ingress on the receiving side, not egress on the sending
     * one: a frame dropped where it is sent (an inet output or netdev egress hook) is reported to the
     * sending TCP as a local error, which it retries as a new transmission, not a loss on the wire.
     *
     * @param ns      the namespace of the interface
     * @param dev     the interface
     * @param percent 0..100
     */
    public static void ingressLoss(final Netns ns, final String dev, final int percent) {
        TcpLossRules.install(ns, "netdev", LOSS_TABLE, "ingress",
            "{ type filter hook ingress device \"" + dev + "\" priority 0; }", java.util.List.of(), percent);
    }

    /**
     * @param percent 0..100 of the TCP frames the peer's interface receives (from the DUT) dropped
     * @see #ingressLoss(Netns, String, int)
     */
    public void loss(final int percent) {
        ingressLoss(site.peerNamespace(), site.peerIface(), percent);
    }

    /**
     * @param ns a namespace where {@link #ingressLoss} was set
     * @return frames its rules dropped so far (none without them)
     */
    public static TcpLossRules.Drops lossDrops(final Netns ns) {
        return TcpLossRules.drops(ns, "netdev", LOSS_TABLE);
    }

    /**
     * Sets the peer's route to the DUT's subnet to advertise MSS 536 and send at most 576-byte
     * packets ({@code advmss 536 mtu lock 576}), or back to the kernel's.
     *
     * @param on small MSS or not
     */
    public void smallMss(final boolean on) {
        final int net = site.peerAddress() & 0xFFFFFF00;
        final java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("route", "change",
            Ipv4.toString(net) + "/24", "dev", site.peerIface(), "proto", "kernel", "scope", "link", "src",
            Ipv4.toString(site.peerAddress())));
        if (on) {
            cmd.addAll(java.util.List.of("advmss", "536", "mtu", "lock", "576"));
        }
        site.peerNamespace().ip(cmd.toArray(new String[0]));
    }

    /**
     * @param ns a namespace
     * @return its kernel's {@code TcpRetransSegs} (/proc/net/snmp)
     */
    public static long retransmittedSegments(final Netns ns) {
        final String[] lines = ns.exec("cat", "/proc/net/snmp").split("\n");
        for (int i = 0; i + 1 < lines.length; i++) {
            if (lines[i].startsWith("Tcp:") && lines[i + 1].startsWith("Tcp:")) {
                final String[] names = lines[i].trim().split("\\s+");
                final String[] values = lines[i + 1].trim().split("\\s+");
                for (int k = 0; k < names.length; k++) {
                    if ("RetransSegs".equals(names[k])) {
                        return Long.parseLong(values[k]);
                    }
                }
            }
        }
        throw new IllegalStateException("no Tcp RetransSegs in /proc/net/snmp of " + ns);
    }

    /** Closes every socket and stops the threads. */
    @Override
    public synchronized void close() {
        while (!sockets.isEmpty()) {
            try {
                sockets.pop().close();
            } catch (final Exception e) {
                // best effort: the namespace goes after the class anyway
            }
        }
        threads.shutdownNow();
    }
}
