package io.bypass.dpdk.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.Map;

/**
 * The kernel's drop statistics of the sockets a vdev PMD opened, which DPDK 22.11's
 * {@code rte_eth_stats} leaves out (read from the 22.11 sources, {@code eth_stats_get}; neither
 * PMD implements xstats, so {@code rte_eth_xstats_get} has nothing more either):
 * <ul>
 *   <li>net_af_packet reports no receive drop at all: when the application does not poll fast
 *       enough its {@code PACKET_RX_RING} fills and the kernel drops the frame, counting it only
 *       in the socket's {@code PACKET_STATISTICS} {@code tp_drops}. Reading that statistic resets
 *       it, so the drops are accumulated here.</li>
 *   <li>net_af_xdp reports {@code XDP_STATISTICS} {@code rx_dropped} as {@code imissed}, but not
 *       {@code rx_ring_full} (RX ring full: the application did not poll) nor
 *       {@code rx_fill_ring_empty_descs} (no buffer to receive into) nor the invalid descriptor
 *       counts. These never reset; the totals over the PMD's sockets are kept.</li>
 * </ul>
 * The sockets are found by their address family among the fds that appeared while the port
 * opened (ports open one at a time), AF_PACKET ones also by the ifindex they are bound to
 * ({@code getsockname}); the PMD keeps them open until {@code rte_eth_dev_close}, so they are
 * read only while the port is open. Off the hot path: the {@code Counters} refresher calls
 * {@link #read()}, one {@code getsockopt} per socket.
 */
final class PmdSocketStats {
    static final int AF_PACKET = 17;
    static final int AF_XDP = 44;
    private static final int SOL_PACKET = 263;
    private static final int PACKET_STATISTICS = 6;
    private static final int SOL_XDP = 283;
    private static final int XDP_STATISTICS = 7;
    private static final int XDP_OPTIONS = 8;
    private static final int XDP_OPTIONS_ZEROCOPY = 1;
    /** struct xdp_statistics (linux/if_xdp.h, 5.9+): six __u64. */
    private static final int XDP_STATS_SIZE = 48;
    /** struct tpacket_stats (TPACKET_V2, as the PMD sets): tp_packets, tp_drops. */
    private static final int TPACKET_STATS_SIZE = 8;
    private static final MethodHandle GETSOCKOPT = Libc.GETSOCKOPT;
    private static final MethodHandle GETSOCKNAME = Libc.GETSOCKNAME;
    private static final MethodHandle IF_NAMETOINDEX = Libc.IF_NAMETOINDEX;

    private final int family;
    private final int[] fds;
    private final boolean zeroCopy;
    private final MemorySegment buffer;
    private final MemorySegment length;
    /** The sockets' XDP_STATISTICS summed, reused: read once a second on the counters' publisher thread. */
    private final long[] xdpSum = new long[6];
    /** net_af_packet: tp_drops summed over every read (each read resets the kernel's count). */
    private long packetDrops;
    /** net_af_xdp: the kernel's totals at the last complete read. */
    private long rxDropped;
    private long rxInvalid;
    private long txInvalid;
    private long rxRingFull;
    private long fillRingEmpty;

    private PmdSocketStats(final int family, final int[] fds, final Arena arena) {
        this.family = family;
        this.fds = fds;
        this.buffer = arena.allocate(XDP_STATS_SIZE, 8);
        this.length = arena.allocate(ValueLayout.JAVA_INT);
        this.zeroCopy = family == AF_XDP && anyZeroCopy();
    }

    /**
     * The net_af_packet sockets that appeared while the port opened and are bound to its interface.
     *
     * @param before AF_PACKET sockets before the probe
     * @param after  AF_PACKET sockets after the port started
     * @param iface  the devargs' {@code iface=} (resolved in the calling thread's network namespace), or null
     * @param arena  the port's arena
     * @return the statistics of those sockets, or null if none was found
     */
    static PmdSocketStats afPacket(final Map<Integer, String> before, final Map<Integer, String> after,
                                   final String iface, final Arena arena) {
        final int ifindex = iface == null ? 0 : ifindex(iface, arena);
        final int[] fds = XskLeakGuard.created(before, after).keySet().stream().mapToInt(Integer::intValue)
            .filter(fd -> {
                final int bound = boundIfindex(fd, arena);
                return bound > 0 && (ifindex == 0 || bound == ifindex);
            }).sorted().toArray();
        return fds.length == 0 ? null : new PmdSocketStats(AF_PACKET, fds, arena);
    }

    /**
     * @param xsks  the AF_XDP sockets the net_af_xdp PMD created (see {@link XskLeakGuard})
     * @param arena the port's arena
     * @return the statistics of those sockets, or null if there are none
     */
    static PmdSocketStats afXdp(final Map<Integer, String> xsks, final Arena arena) {
        final int[] fds = xsks.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
        return fds.length == 0 ? null : new PmdSocketStats(AF_XDP, fds, arena);
    }

    /** @return the address family of the sockets read */
    int family() {
        return family;
    }

    /** @return how many sockets are read */
    int socketCount() {
        return fds.length;
    }

    /**
     * Reads every socket's statistics. For AF_XDP a failed read keeps the last totals (a partial
     * sum would make counters go backwards); for AF_PACKET each successful read is added.
     */
    void read() {
        try {
            if (family == AF_PACKET) {
                for (final int fd : fds) {
                    length.set(ValueLayout.JAVA_INT, 0, TPACKET_STATS_SIZE);
                    if ((int) GETSOCKOPT.invokeExact(fd, SOL_PACKET, PACKET_STATISTICS, buffer, length) == 0) {
                        packetDrops += Integer.toUnsignedLong(buffer.get(ValueLayout.JAVA_INT, 4));
                    }
                }
                return;
            }
            final long[] sum = xdpSum;
            Arrays.fill(sum, 0);
            for (final int fd : fds) {
                buffer.fill((byte) 0);
                length.set(ValueLayout.JAVA_INT, 0, XDP_STATS_SIZE);
                if ((int) GETSOCKOPT.invokeExact(fd, SOL_XDP, XDP_STATISTICS, buffer, length) != 0) {
                    return;
                }
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += buffer.get(ValueLayout.JAVA_LONG, 8L * i);
                }
            }
            rxDropped = sum[0];
            rxInvalid = sum[1];
            txInvalid = sum[2];
            rxRingFull = sum[3];
            fillRingEmpty = sum[4];
        } catch (final Throwable t) {
            // getsockopt downcalls do not throw; keep the last values
        }
    }

    /** @return frames dropped because the RX ring was full (AF_PACKET tp_drops, AF_XDP rx_ring_full) */
    long rxRingFull() {
        return family == AF_PACKET ? packetDrops : rxRingFull;
    }

    /** @return AF_XDP frames dropped for want of a fill-ring buffer */
    long fillRingEmpty() {
        return fillRingEmpty;
    }

    /**
     * @return AF_XDP frames dropped for other reasons: too long for a buffer, invalid fill
     *         descriptors. In copy mode the kernel counts a fill-ring miss in both rx_dropped and
     *         rx_fill_ring_empty_descs; it is counted once, as a fill-ring miss.
     */
    long rxOther() {
        final long dropped = zeroCopy ? rxDropped : Math.max(0, rxDropped - fillRingEmpty);
        return dropped + rxInvalid;
    }

    /** @return AF_XDP TX descriptors the kernel refused */
    long txInvalid() {
        return txInvalid;
    }

    private boolean anyZeroCopy() {
        try {
            for (final int fd : fds) {
                length.set(ValueLayout.JAVA_INT, 0, 4);
                if ((int) GETSOCKOPT.invokeExact(fd, SOL_XDP, XDP_OPTIONS, buffer, length) == 0
                    && (buffer.get(ValueLayout.JAVA_INT, 0) & XDP_OPTIONS_ZEROCOPY) != 0) {
                    return true;
                }
            }
        } catch (final Throwable t) {
            // treated as copy mode
        }
        return false;
    }

    private static int ifindex(final String iface, final Arena arena) {
        try {
            return (int) IF_NAMETOINDEX.invokeExact(arena.allocateFrom(iface));
        } catch (final Throwable t) {
            return 0;
        }
    }

    /** @return the sll_ifindex an AF_PACKET socket is bound to, 0 if unbound, -1 if not AF_PACKET */
    private static int boundIfindex(final int fd, final Arena arena) {
        final MemorySegment addr = arena.allocate(32, 8);
        final MemorySegment len = arena.allocate(ValueLayout.JAVA_INT);
        len.set(ValueLayout.JAVA_INT, 0, (int) addr.byteSize());
        try {
            if ((int) GETSOCKNAME.invokeExact(fd, addr, len) != 0
                || (addr.get(ValueLayout.JAVA_SHORT, 0) & 0xFFFF) != AF_PACKET) {
                return -1;
            }
        } catch (final Throwable t) {
            return -1;
        }
        return addr.get(ValueLayout.JAVA_INT, 4);
    }

    @Override
    public String toString() {
        return (family == AF_PACKET ? "AF_PACKET" : "AF_XDP") + " fds " + Arrays.toString(fds);
    }
}
