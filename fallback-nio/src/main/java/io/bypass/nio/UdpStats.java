package io.bypass.nio;

import io.bypass.net.Ipv4;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The kernel's per-socket receive drops ({@code drops} column of {@code /proc/net/udp})
 * for an endpoint's sockets. The file is opened once, by the thread that opens the
 * endpoint, so it shows that thread's network namespace even when read from elsewhere.
 * Read only when counters are refreshed, never on the hot path.
 */
final class UdpStats implements AutoCloseable {
    private final FileChannel table;
    private final List<NioSocket> tracked = new ArrayList<>();
    private ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
    private long retired;

    UdpStats() {
        FileChannel f = null;
        for (final String p : new String[] {"/proc/thread-self/net/udp", "/proc/self/net/udp"}) {
            try {
                f = FileChannel.open(Path.of(p), StandardOpenOption.READ);
                break;
            } catch (final IOException | UnsupportedOperationException e) {
                // older kernel or no procfs: try the next, else report no drops
            }
        }
        table = f;
    }

    /** @return true if the kernel's table could be opened */
    boolean isAvailable() {
        return table != null;
    }

    synchronized void track(final NioSocket c) {
        c.inode = findInode(c);
        tracked.add(c);
    }

    synchronized void untrack(final NioSocket c) {
        if (tracked.remove(c) && c.inode != 0) {
            final Long d = read().get(c.inode);
            if (d != null) {
                retired += d; // keep the count after the socket is gone
            }
        }
    }

    synchronized long drops() {
        long sum = retired;
        if (tracked.isEmpty()) {
            return sum;
        }
        final Map<Long, Long> byInode = read();
        for (final NioSocket c : tracked) {
            final Long d = byInode.get(c.inode);
            if (d != null) {
                sum += d;
            }
        }
        return sum;
    }

    private long findInode(final NioSocket c) {
        if (table == null) {
            return 0;
        }
        final InetSocketAddress local;
        try {
            local = (InetSocketAddress) c.channel.getLocalAddress();
        } catch (final IOException e) {
            return 0;
        }
        final int address = local.getAddress().hashCode();
        final int port = local.getPort();
        final Set<Long> ours = ownSocketInodes();
        final Set<Long> taken = new HashSet<>();
        for (final NioSocket t : tracked) {
            taken.add(t.inode);
        }
        long best = 0;
        for (final Row r : rows()) {
            if (r.address == address && r.port == port && ours.contains(r.inode) && !taken.contains(r.inode)) {
                best = Math.max(best, r.inode); // several: the newest socket has the highest inode
            }
        }
        return best;
    }

    private static Set<Long> ownSocketInodes() {
        final Set<Long> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            fds.forEach(fd -> {
                try {
                    final String link = Files.readSymbolicLink(fd).toString();
                    if (link.startsWith("socket:[")) {
                        inodes.add(Long.parseLong(link, 8, link.length() - 1, 10));
                    }
                } catch (final IOException | RuntimeException e) {
                    // fd closed meanwhile
                }
            });
        } catch (final IOException e) {
            // no procfs: no drops
        }
        return inodes;
    }

    private Map<Long, Long> read() {
        final Map<Long, Long> byInode = new HashMap<>();
        for (final Row r : rows()) {
            byInode.put(r.inode, r.drops);
        }
        return byInode;
    }

    private List<Row> rows() {
        final List<Row> rows = new ArrayList<>();
        if (table == null) {
            return rows;
        }
        final String text;
        try {
            buffer.clear();
            long pos = 0;
            while (true) {
                if (!buffer.hasRemaining()) {
                    final ByteBuffer bigger = ByteBuffer.allocate(buffer.capacity() * 2);
                    buffer.flip();
                    bigger.put(buffer);
                    buffer = bigger;
                }
                final int n = table.read(buffer, pos);
                if (n <= 0) {
                    break;
                }
                pos += n;
            }
            text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII);
        } catch (final IOException e) {
            return rows;
        }
        for (final String line : text.split("\n")) {
            final String[] f = line.trim().split("\\s+");
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
            if (f.length < 13 || !f[0].endsWith(":")) {
                continue;
            }
            try {
                final int colon = f[1].indexOf(':');
                final int address = Ipv4.fromProcHex(f[1].substring(0, colon));
                final int port = Integer.parseInt(f[1].substring(colon + 1), 16);
                rows.add(new Row(address, port, Long.parseLong(f[9]), Long.parseLong(f[12])));
            } catch (final RuntimeException e) {
                // a line we do not understand: skip it
            }
        }
        return rows;
    }

    @Override
    public synchronized void close() {
        if (table != null) {
            try {
                table.close();
            } catch (final IOException ignored) {
                // read-only procfs file
            }
        }
    }

    private record Row(int address, int port, long inode, long drops) {
    }
}
