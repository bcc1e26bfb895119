package io.bypass.afxdp.internal;

import io.bypass.BypassException;
import io.bypass.spi.Privileges;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import io.bypass.afxdp.internal.gen.sockaddr_xdp;
import io.bypass.afxdp.internal.gen.xdp_mmap_offsets;
import io.bypass.afxdp.internal.gen.xdp_options;
import io.bypass.afxdp.internal.gen.xdp_ring_offset;
import io.bypass.afxdp.internal.gen.xdp_statistics;
import io.bypass.afxdp.internal.gen.xdp_umem_reg;

/**
 * One AF_XDP socket bound to one queue, with its four rings mapped: fill and completion
 * (its own, also when it shares the UMEM of another socket), RX and TX. Created on the
 * thread whose network namespace holds the interface.
 */
final class XskSocket implements AutoCloseable {
    private final MemorySegment errno;
    final int fd;
    final int queueId;
    XskRingProd fill;
    XskRingCons comp;
    XskRingCons rx;
    XskRingProd tx;
    boolean zeroCopy;
    /** Whether XDP_MAX_TX_SKB_BUDGET was raised to the TX ring size (one kick drains the ring in copy mode). */
    boolean txBudgetRaised;

    private static final int BIND_RETRIES = 100;

    private static void sleepQuietly() {
        try {
            Thread.sleep(10);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private XskSocket(final MemorySegment errno, final int fd, final int queueId) {
        this.errno = errno;
        this.fd = fd;
        this.queueId = queueId;
    }

    /**
     * A socket with no file descriptor, whose rings the caller sets up in ordinary memory
     * ({@link WarmUpRings}); closing it does nothing.
     *
     * @param queueId the queue it stands for
     * @return the socket
     */
    static XskSocket simulated(final int queueId) {
        return new XskSocket(null, -1, queueId);
    }

    /**
     * Creates the socket (not yet bound).
     *
     * @param errno capture segment
     * @return the socket
     */
    static XskSocket create(final MemorySegment errno, final int queueId) {
        final int fd = Libc.socket(errno, Constants.AF_XDP, Constants.SOCK_RAW | Constants.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            final int err = Errno.get(errno);
            throw Errno.failure("socket(AF_XDP, SOCK_RAW)", err,
                err == Errno.EAFNOSUPPORT ? "this kernel has no AF_XDP (CONFIG_XDP_SOCKETS); use Linux 5.10 or newer"
                    : null);
        }
        return new XskSocket(errno, fd, queueId);
    }

    /** setsockopt(SOL_XDP, XDP_UMEM_REG): registers the UMEM area with this socket. */
    void registerUmem(final MemorySegment area, final int frameSize) {
        try (Arena a = Arena.ofConfined()) {
            // Aligned chunks, no headroom; allocate() zeroes the rest (flags, tx_metadata_len).
            final MemorySegment reg = xdp_umem_reg.allocate(a);
            xdp_umem_reg.addr(reg, area.address());
            xdp_umem_reg.len(reg, area.byteSize());
            xdp_umem_reg.chunk_size(reg, frameSize);
            xdp_umem_reg.headroom(reg, 0);
            if (Libc.setsockopt(errno, fd, Constants.SOL_XDP, Constants.XDP_UMEM_REG, reg, (int) reg.byteSize()) != 0) {
                final int err = Errno.get(errno);
                throw Errno.failure("setsockopt(XDP_UMEM_REG, " + area.byteSize() + " bytes, frameSize " + frameSize + ")",
                    err, umemRemedy(err, area.byteSize(), frameSize));
            }
        }
    }

    /**
     * What to do when the kernel refuses to register a UMEM.
     *
     * @param err       the errno
     * @param bytes     the UMEM's size
     * @param frameSize its chunk size
     * @return the remedy, or null for one derived from errno alone
     */
    static String umemRemedy(final int err, final long bytes, final int frameSize) {
        if (err == Errno.ENOBUFS || err == Errno.EPERM) {
            // ENOBUFS: the pages would take this user past RLIMIT_MEMLOCK (xdp_umem_account_pages).
            return Privileges.memlockRemedy("the UMEM", bytes, "added up over every UMEM of this user in every process",
                "a smaller stall budget (rxStallMs=N) or frames=N");
        }
        if (err == Errno.ENOMEM) {
            return "the kernel could not pin the UMEM's " + bytes + " bytes (memory short, or a memory cgroup limit such as"
                + " systemd MemoryMax=): free memory, or lock less with a smaller stall budget (rxStallMs=N) or frames=N";
        }
        if (err == Errno.EINVAL) {
            return "the kernel refused the layout: frameSize " + frameSize + " must be a power of two from 2048 to the page"
                + " size, and the UMEM under 4 GiB; with hugepages=true the kernel must support huge-page UMEMs (Linux 6.6+"
                + " for frames crossing pages)";
        }
        return null;
    }

    private void setRingSize(final int option, final String name, final int size) {
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
            v.set(ValueLayout.JAVA_INT, 0, size);
            if (Libc.setsockopt(errno, fd, Constants.SOL_XDP, option, v, 4) != 0) {
                throw Errno.failure("setsockopt(" + name + ", " + size + ")", Errno.get(errno), null);
            }
        }
    }

    /**
     * Sizes and maps the four rings.
     *
     * @param mapArena arena the mappings are bound to (munmapped when it closes)
     */
    void createRings(final Arena mapArena, final int fillSize, final int compSize, final int rxSize, final int txSize) {
        setRingSize(Constants.XDP_UMEM_FILL_RING, "XDP_UMEM_FILL_RING", fillSize);
        setRingSize(Constants.XDP_UMEM_COMPLETION_RING, "XDP_UMEM_COMPLETION_RING", compSize);
        setRingSize(Constants.XDP_RX_RING, "XDP_RX_RING", rxSize);
        setRingSize(Constants.XDP_TX_RING, "XDP_TX_RING", txSize);
        final RingOffsets[] off = mmapOffsets();
        rx = new XskRingCons(map(mapArena, off[0], rxSize, 16, Constants.XDP_PGOFF_RX_RING, "RX"), off[0], rxSize);
        tx = new XskRingProd(map(mapArena, off[1], txSize, 16, Constants.XDP_PGOFF_TX_RING, "TX"), off[1], txSize);
        fill = new XskRingProd(map(mapArena, off[2], fillSize, 8, Constants.XDP_UMEM_PGOFF_FILL_RING, "fill"), off[2], fillSize);
        comp = new XskRingCons(map(mapArena, off[3], compSize, 8, Constants.XDP_UMEM_PGOFF_COMPLETION_RING, "completion"),
            off[3], compSize);
        raiseTxBudget(txSize);
    }

    // Copy mode sends at most 32 frames per sendto unless XDP_MAX_TX_SKB_BUDGET (Linux 6.17+)
    // raises it; with it one kick sends a whole batch. Older kernels: flush kicks once per 32.
    private void raiseTxBudget(final int txSize) {
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
            v.set(ValueLayout.JAVA_INT, 0, txSize);
            txBudgetRaised = Libc.setsockopt(errno, fd, Constants.SOL_XDP, Constants.XDP_MAX_TX_SKB_BUDGET, v, 4) == 0;
        }
    }

    private RingOffsets[] mmapOffsets() {
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment off = xdp_mmap_offsets.allocate(a);
            final MemorySegment len = a.allocate(ValueLayout.JAVA_INT);
            len.set(ValueLayout.JAVA_INT, 0, (int) off.byteSize());
            if (Libc.getsockopt(errno, fd, Constants.SOL_XDP, Constants.XDP_MMAP_OFFSETS, off, len) != 0) {
                throw Errno.failure("getsockopt(XDP_MMAP_OFFSETS)", Errno.get(errno), null);
            }
            if (len.get(ValueLayout.JAVA_INT, 0) != off.byteSize()) {
                throw new BypassException("afxdp: this kernel's XDP_MMAP_OFFSETS has no flags field (Linux older than 5.4); use a newer kernel");
            }
            return new RingOffsets[] {ring(xdp_mmap_offsets.rx(off)), ring(xdp_mmap_offsets.tx(off)),
                ring(xdp_mmap_offsets.fr(off)), ring(xdp_mmap_offsets.cr(off))};
        }
    }

    private static RingOffsets ring(final MemorySegment o) {
        return new RingOffsets(xdp_ring_offset.producer(o), xdp_ring_offset.consumer(o), xdp_ring_offset.desc(o),
            xdp_ring_offset.flags(o));
    }

    private MemorySegment map(final Arena mapArena, final RingOffsets off, final int entries, final int entrySize,
                              final long pgoff, final String name) {
        final long length = off.desc() + (long) entries * entrySize;
        final MemorySegment m = Libc.mmap(errno, length, Constants.PROT_READ | Constants.PROT_WRITE,
            Constants.MAP_SHARED | Constants.MAP_POPULATE, fd, pgoff);
        if (m.address() == Libc.MAP_FAILED) {
            throw Errno.failure("mmap(" + name + " ring, " + entries + " entries)", Errno.get(errno), null);
        }
        return Mmap.bind(m, length, mapArena);
    }

    /**
     * Binds to the interface's queue.
     *
     * @param ifindex   the interface
     * @param iface     its name, for messages
     * @param mode      copy, zerocopy or auto
     * @param needWakeup whether to ask for need_wakeup flags
     * @param sharedFd  the socket whose UMEM this one shares, or -1
     */
    void bind(final int ifindex, final String iface, final String mode, final boolean needWakeup, final int sharedFd) {
        short flags = 0;
        if (sharedFd >= 0) {
            // The kernel refuses mode flags on a sharing socket: it inherits them from the owner.
            flags = Constants.XDP_SHARED_UMEM;
        } else {
            if ("copy".equals(mode)) {
                flags |= Constants.XDP_COPY;
            } else if ("zerocopy".equals(mode)) {
                flags |= Constants.XDP_ZEROCOPY;
            }
            // mode=auto: no flag; the kernel tries zero-copy and falls back to copy itself.
            if (needWakeup) {
                flags |= Constants.XDP_USE_NEED_WAKEUP;
            }
        }
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment sa = sockaddr_xdp.allocate(a);
            sockaddr_xdp.sxdp_family(sa, (short) Constants.AF_XDP);
            sockaddr_xdp.sxdp_flags(sa, flags);
            sockaddr_xdp.sxdp_ifindex(sa, ifindex);
            sockaddr_xdp.sxdp_queue_id(sa, queueId);
            sockaddr_xdp.sxdp_shared_umem_fd(sa, Math.max(sharedFd, 0));
            int rc = Libc.bind(errno, fd, sa, (int) sa.byteSize());
            // The kernel frees a closed socket's queue binding from a workqueue
            // (xp_release_deferred), so a port reopened right after close may briefly see
            // EBUSY: retry for up to a second before blaming another socket.
            for (int i = 0; i < BIND_RETRIES && rc != 0 && Errno.get(errno) == Errno.EBUSY; i++) {
                sleepQuietly();
                rc = Libc.bind(errno, fd, sa, (int) sa.byteSize());
            }
            if (rc != 0) {
                final int err = Errno.get(errno);
                final String call = "bind(AF_XDP, " + iface + " queue " + queueId + ", mode=" + mode + ")";
                if ("zerocopy".equals(mode) && (err == Errno.EOPNOTSUPP || err == Errno.EINVAL || err == Errno.EPROTONOSUPPORT)) {
                    throw Errno.failure(call, err, "the driver of " + iface
                        + " has no AF_XDP zero-copy support (veth, virtio without it, ...); use mode=copy, or mode=auto to fall back");
                }
                if (err == Errno.EINVAL) {
                    throw Errno.failure(call, err, "queue " + queueId + " may not exist on " + iface
                        + " (see 'ethtool -l " + iface + "'), or the interface is down");
                }
                if (err == Errno.EBUSY) {
                    throw Errno.failure(call, err, "another AF_XDP socket is already bound to " + iface + " queue " + queueId
                        + ": one endpoint serves both receive and send on a queue, so send through the endpoint (or port) you"
                        + " receive on rather than opening a second; for another queue use nicQueue=N (or queues=N on one port);"
                        + " else another process holds it ('ss -a -f xdp' lists AF_XDP sockets)");
                }
                if (err == Errno.ENETDOWN) {
                    throw Errno.failure(call, err, iface + " is down: ip link set dev " + iface + " up");
                }
                if (err == Errno.ENODEV || err == Errno.ENXIO) {
                    throw Errno.failure(call, err, iface + " went away while the port opened (ip link show)");
                }
                throw Errno.failure(call, err, null);
            }
        }
        zeroCopy = queryZeroCopy();
    }

    private boolean queryZeroCopy() {
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment opt = xdp_options.allocate(a);
            final MemorySegment len = a.allocate(ValueLayout.JAVA_INT);
            len.set(ValueLayout.JAVA_INT, 0, (int) opt.byteSize());
            if (Libc.getsockopt(errno, fd, Constants.SOL_XDP, Constants.XDP_OPTIONS, opt, len) != 0) {
                return false;
            }
            return (xdp_options.flags(opt) & Constants.XDP_OPTIONS_ZEROCOPY) != 0;
        }
    }

    /**
     * Sets SO_PREFER_BUSY_POLL, SO_BUSY_POLL and SO_BUSY_POLL_BUDGET.
     *
     * @param usecs  busy-poll time
     * @param budget packets per busy poll, 0 for the kernel default
     */
    void busyPoll(final int usecs, final int budget) {
        setSocketInt(Constants.SO_PREFER_BUSY_POLL, "SO_PREFER_BUSY_POLL", 1);
        setSocketInt(Constants.SO_BUSY_POLL, "SO_BUSY_POLL", usecs);
        if (budget > 0) {
            setSocketInt(Constants.SO_BUSY_POLL_BUDGET, "SO_BUSY_POLL_BUDGET", budget);
        }
    }

    private void setSocketInt(final int option, final String name, final int value) {
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
            v.set(ValueLayout.JAVA_INT, 0, value);
            if (Libc.setsockopt(errno, fd, Constants.SOL_SOCKET, option, v, 4) != 0) {
                final int err = Errno.get(errno);
                throw Errno.failure("setsockopt(SOL_SOCKET, " + name + ", " + value + ")", err,
                    err == Errno.ENOPROTOOPT ? "this kernel has no " + name + " (needs Linux 5.11+); drop busyPoll from the URI"
                        : err == Errno.EPERM || err == Errno.EACCES
                        ? "busy-poll settings past net.core.busy_poll need CAP_NET_ADMIN: " + Errno.privilegeRemedy() : null);
            }
        }
    }

    /**
     * Reads XDP_STATISTICS into {@code stats}.
     *
     * @param stats a struct xdp_statistics
     * @param len   a 4-byte segment
     * @return true on success
     */
    boolean statistics(final MemorySegment stats, final MemorySegment len) {
        stats.fill((byte) 0);
        len.set(ValueLayout.JAVA_INT, 0, (int) xdp_statistics.sizeof());
        return Libc.getsockoptNoErrno(fd, Constants.SOL_XDP, Constants.XDP_STATISTICS, stats, len) == 0;
    }

    @Override
    public void close() {
        if (fd < 0) {
            return;
        }
        Libc.close(errno, fd);
    }
}
