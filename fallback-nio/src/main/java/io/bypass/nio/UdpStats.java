package io.bypass.nio;

import io.bypass.net.Ipv4;
import io.bypass.spi.StatisticsFile;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The kernel's per-socket receive drops ({@code drops} column of {@code /proc/net/udp})
 * for an endpoint's sockets. The file is opened once, by the thread that opens the
 * endpoint, so it shows that thread's network namespace even when read from elsewhere.
 * Read only when counters are refreshed, never on the hot path; {@link #drops()} parses the
 * table in place and allocates nothing, since the counters' publisher thread calls it once a
 * second for as long as the endpoint is open.
 */
final class UdpStats implements AutoCloseable {
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    private static final int LOCAL_ADDRESS_FIELD = 1;
    private static final int INODE_FIELD = 9;
    private static final int DROPS_FIELD = 12;

    private final StatisticsFile table;
    private final List<NioSocket> tracked = new ArrayList<>();
    private long retired;

    UdpStats() {
        table = StatisticsFile.openFirst(Path.of("/proc/thread-self/net/udp"), Path.of("/proc/self/net/udp"));
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
        if (tracked.remove(c) && c.inode != 0 && table != null && table.read() > 0) {
            final long d = dropsOf(c.inode);
            if (d > 0) {
                retired += d; // keep the count after the socket is gone
            }
        }
    }

    synchronized long drops() {
        long sum = retired;
        if (tracked.isEmpty() || table == null || table.read() <= 0) {
            return sum;
        }
        // Per tracked socket, its first line only: the kernel serves the table a page per read and walks its
        // sockets again for each, so a socket opened or closed meanwhile can show one line twice.
        for (int i = 0; i < tracked.size(); i++) {
            final long inode = tracked.get(i).inode;
            if (inode != 0) {
                sum += Math.max(0, dropsOf(inode));
            }
        }
        return sum;
    }

    // The drops of one socket in the table last read, or -1 if it is not there.
    private long dropsOf(final long inode) {
        final ByteBuffer b = table.bytes();
        final int end = b.limit();
        for (int line = 0; line < end; line = nextLine(b, line, end)) {
            if (field(b, line, end, INODE_FIELD, true) == inode) {
                return field(b, line, end, DROPS_FIELD, true);
            }
        }
        return -1;
    }

    private static int nextLine(final ByteBuffer b, final int from, final int end) {
        int i = from;
        while (i < end && b.get(i) != '\n') {
            i++;
        }
        return i + 1;
    }

    /**
     * Finds field {@code n} (0-based, space-separated) of the line at {@code line}: its start index, or with
     * {@code decimal} its value; -1 if the line is the header (its first field does not end in ':') or short.
     */
    private static long field(final ByteBuffer b, final int line, final int end, final int n, final boolean decimal) {
        int i = line;
        int index = -1;
        while (i < end && b.get(i) != '\n') {
            if (b.get(i) == ' ') {
                i++;
                continue;
            }
            index++;
            final int start = i;
            while (i < end && b.get(i) != ' ' && b.get(i) != '\n') {
                i++;
            }
            if (index == 0 && b.get(i - 1) != ':') {
                return -1;
            }
            if (index == n) {
                return decimal ? StatisticsFile.parseDecimal(b, start, i) : start;
            }
        }
        return -1;
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
        if (table.read() <= 0) {
            return 0;
        }
        final ByteBuffer b = table.bytes();
        final int end = b.limit();
        long best = 0;
        for (int line = 0; line < end; line = nextLine(b, line, end)) {
            final long at = field(b, line, end, LOCAL_ADDRESS_FIELD, false);
            final long inode = field(b, line, end, INODE_FIELD, true);
            if (at < 0 || at + 13 > end || inode <= 0 || !ours.contains(inode) || taken.contains(inode)) {
                continue;
            }
            // ADDRESS:PORT in hex, as the kernel prints them
            final byte[] text = new byte[13];
            b.get((int) at, text, 0, text.length);
            final String local13 = new String(text, StandardCharsets.US_ASCII);
            try {
                if (local13.charAt(8) == ':' && Ipv4.fromProcHex(local13.substring(0, 8)) == address
                    && Integer.parseInt(local13.substring(9, 13), 16) == port) {
                    best = Math.max(best, inode); // several: the newest socket has the highest inode
                }
            } catch (final RuntimeException e) {
                // a line we do not understand: skip it
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

    @Override
    public synchronized void close() {
        if (table != null) {
            table.close();
        }
    }
}
