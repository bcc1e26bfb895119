package io.bypass.dpdk.internal;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Works around a socket leak of DPDK 22.11's net_af_xdp PMD (with libxdp 1.x): on
 * {@code rte_eth_dev_close} it deletes the XSK socket but never closes the socket that also
 * holds the UMEM ({@code xsk_socket__delete} skips the fd it shares with the UMEM, and the
 * PMD's UMEM reference count never reaches zero), so the queue stays bound and the next
 * port on the same interface queue fails with EBUSY, and the kernel keeps the mempool's
 * memory registered. Reproduced in C against the same libraries.
 *
 * <p>The guard notes the AF_XDP sockets that appear while a port opens (ports open one at a
 * time, under {@link DpdkPortImpl}'s lock) and, after the port is closed and its device
 * removed, closes those still open: same fd, same socket inode.
 */
final class XskLeakGuard {
    private static final int SOL_SOCKET = 1;
    private static final int SO_DOMAIN = 39;
    private static final int AF_XDP = 44;
    private static final MethodHandle GETSOCKOPT = Libc.GETSOCKOPT;
    private static final MethodHandle CLOSE = Libc.CLOSE;

    private XskLeakGuard() {
    }

    /**
     * @return every open AF_XDP socket of this process: fd to its {@code socket:[inode]} link
     */
    static Map<Integer, String> xdpSockets() {
        return sockets(AF_XDP);
    }

    /**
     * @param domain an address family (SO_DOMAIN), such as AF_XDP (44) or AF_PACKET (17)
     * @return every open socket of that family in this process: fd to its {@code socket:[inode]} link
     */
    static Map<Integer, String> sockets(final int domain) {
        final Map<Integer, String> result = new HashMap<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"));
             Arena arena = Arena.ofConfined()) {
            final MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
            final MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
            for (final Path p : fds) {
                final String link;
                final int fd;
                try {
                    fd = Integer.parseInt(p.getFileName().toString());
                    link = Files.readSymbolicLink(p).toString();
                } catch (final IOException | NumberFormatException e) {
                    continue; // closed meanwhile, or the directory stream's own fd
                }
                if (!link.startsWith("socket:")) {
                    continue;
                }
                length.set(ValueLayout.JAVA_INT, 0, 4);
                final int rc = (int) GETSOCKOPT.invokeExact(fd, SOL_SOCKET, SO_DOMAIN, value, length);
                if (rc == 0 && value.get(ValueLayout.JAVA_INT, 0) == domain) {
                    result.put(fd, link);
                }
            }
        } catch (final Throwable t) {
            // best effort: without /proc the guard does nothing
        }
        return result;
    }

    /**
     * @param before AF_XDP sockets before the port opened
     * @param after  AF_XDP sockets after it opened
     * @return those the port's PMD created
     */
    static Map<Integer, String> created(final Map<Integer, String> before, final Map<Integer, String> after) {
        final Map<Integer, String> created = new HashMap<>(after);
        created.entrySet().removeIf(e -> e.getValue().equals(before.get(e.getKey())));
        return created;
    }

    /**
     * Closes the sockets of {@code owned} that are still open, unchanged.
     *
     * @param owned the sockets the port's PMD created
     * @return how many were closed
     */
    static int closeLeaked(final Map<Integer, String> owned) {
        if (owned.isEmpty()) {
            return 0;
        }
        final Map<Integer, String> now = xdpSockets();
        int closed = 0;
        for (final Map.Entry<Integer, String> e : owned.entrySet()) {
            if (e.getValue().equals(now.get(e.getKey()))) {
                try {
                    if ((int) CLOSE.invokeExact(e.getKey().intValue()) == 0) {
                        closed++;
                    }
                } catch (final Throwable t) {
                    // nothing more to do
                }
            }
        }
        return closed;
    }
}
