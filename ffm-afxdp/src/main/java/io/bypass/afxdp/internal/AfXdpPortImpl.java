package io.bypass.afxdp.internal;

import io.bypass.BypassException;
import io.bypass.Capability;
import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.FlowRule;
import io.bypass.PortUri;
import io.bypass.afxdp.AfXdpPort;
import io.bypass.afxdp.internal.gen.xdp_statistics;
import io.bypass.net.Ipv4;
import io.bypass.RxQueue;
import io.bypass.TxQueue;
import io.bypass.spi.AbstractPort;
import io.bypass.spi.WarmUpQueues;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.channels.MembershipKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An AF_XDP port: one UMEM shared by {@code queues} sockets, our XDP program attached
 * with a bpf_link, a kernel UDP socket for multicast membership and an rtnetlink socket
 * for the neighbour table. Everything is opened on the calling thread, so its network
 * namespace decides which interface {@code IFACE} is.
 *
 * <p>Open order: interface, XDP program (loaded), UMEM, sockets and rings, XSKMAP entries,
 * program attached, kernel helpers. {@link #close()} undoes whatever was done, in reverse,
 * after a failed open too.
 */
public final class AfXdpPortImpl extends AbstractPort<AfXdpRxQueue, AfXdpTxQueue> implements AfXdpPort, WarmUpQueues {

    private final AfXdpOptions opts;
    /** Rings and UMEM in ordinary memory for a warm-up (see {@link WarmUpQueues}); polling thread only. */
    private WarmUpRings warmUp;
    private final Arena arena = Arena.ofShared();
    private final Arena mapArena = Arena.ofShared();
    private final MemorySegment errno = Errno.allocate(arena);
    private final Object lock = new Object();
    private final Map<FlowRule, Integer> flows = new HashMap<>();
    private final Map<Integer, MembershipKey> groups = new HashMap<>();

    private int ifindex;
    private NetworkInterface netif;
    private XdpProgram program;
    private MemorySegment umem;
    private final List<XskSocket> sockets = new ArrayList<>();
    private boolean zeroCopy;
    private DatagramChannel multicast;
    private Neighbours neighbours;
    // Preallocated for the statistics refresher.
    private final MemorySegment stats = xdp_statistics.allocate(arena);
    private final MemorySegment statsLen = arena.allocate(ValueLayout.JAVA_INT);
    private final MemorySegment statsErrno = Errno.allocate(arena);
    // The XDP program's malformed-frame totals, as read now and as last added into the counters.
    private final long[] malformed = new long[XdpProgram.MALFORMED_REASONS.length];
    private final long[] malformedAdded = new long[XdpProgram.MALFORMED_REASONS.length];

    private AfXdpPortImpl(final PortUri uri, final AfXdpOptions opts) {
        super("afxdp", uri);
        // The bindings the kick and wake-up calls go through (see HotPathStrings).
        io.bypass.spi.HotPathStrings.intern(Libc.class, io.bypass.afxdp.internal.gen.Sys.class);
        this.opts = opts;
    }

    /**
     * For {@code auto:}: whether the interface exists in the calling thread's namespace.
     *
     * @param uri the URI
     * @return null if it can try, else why not
     */
    public static String cannotServe(final PortUri uri) {
        try (Arena a = Arena.ofConfined()) {
            if (uri.target().isEmpty() || Libc.ifNameToIndex(Errno.allocate(a), uri.target()) == 0) {
                return "no interface '" + uri.target() + "' in this network namespace";
            }
            return null;
        }
    }

    /**
     * Opens a port; on failure frees whatever was set up and rethrows.
     *
     * @param uri the {@code afxdp:} URI
     * @return the open port
     */
    public static AfXdpPortImpl open(final PortUri uri) {
        final AfXdpPortImpl port = new AfXdpPortImpl(uri, new AfXdpOptions(uri));
        try {
            port.init();
            return port;
        } catch (final RuntimeException | Error e) {
            try {
                port.close();
            } catch (final RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void init() {
        final String iface = opts.iface;
        ifindex = Libc.ifNameToIndex(errno, iface);
        if (ifindex == 0) {
            throw new BypassException("afxdp: no interface '" + iface + "' in this network namespace ("
                + Errno.describe(Errno.get(errno)) + "); check 'ip link show', or open the port on a thread inside the "
                + "interface's namespace");
        }
        readAddressing(iface);

        program = XdpProgram.load(opts.vlan);

        final long umemSize = (long) opts.frames * opts.frameSize;
        mapUmem(opts.umemBytes());

        final int perQueue = opts.frames / opts.queues;
        final int txFrames = Math.min(Math.min(opts.txRing, opts.compRing), perQueue / 2);
        final int rxFrames = Math.min(opts.fillRing, perQueue - txFrames);
        final int maxFrame = Math.min(opts.frameSize, mtu() + 18);
        final Counters counters = counters();
        final UnsafeBuffer umemBuffer = new UnsafeBuffer(umem.address(), (int) umemSize);
        final AfXdpRxQueue[] rxQueues = new AfXdpRxQueue[opts.queues];
        final AfXdpTxQueue[] txQueues = new AfXdpTxQueue[opts.queues];
        for (int q = 0; q < opts.queues; q++) {
            final XskSocket s = XskSocket.create(errno, opts.queue + q);
            sockets.add(s);
            if (q == 0) {
                s.registerUmem(umem, opts.frameSize);
            }
            s.createRings(mapArena, opts.fillRing, opts.compRing, opts.rxRing, opts.txRing);
            s.bind(ifindex, iface, opts.mode, opts.needWakeup, q == 0 ? -1 : sockets.get(0).fd);
            if (opts.busyPoll > 0) {
                s.busyPoll(opts.busyPoll, opts.busyPollBudget);
            }
            final long base = (long) q * perQueue * opts.frameSize;
            final AfXdpRxQueue rxq = new AfXdpRxQueue(this, q, s, umemBuffer, opts.frameSize, opts.rxBatch,
                opts.needWakeup, opts.busyPoll > 0, counters.newWriter());
            if (!rxq.populateFill(base, rxFrames, opts.frameSize)) {
                throw new IllegalStateException("fill ring smaller than the RX frame count");
            }
            rxQueues[q] = rxq;
            txQueues[q] = new AfXdpTxQueue(this, q, s, umem.address(), base + (long) rxFrames * opts.frameSize,
                txFrames, opts.frameSize, maxFrame, opts.txBatch, opts.needWakeup, counters.newWriter());
            program.registerSocket(opts.queue + q, s.fd);
        }
        queues(rxQueues, txQueues);
        zeroCopy = sockets.get(0).zeroCopy;

        program.attach(iface, ifindex, opts.xdp);

        try {
            multicast = DatagramChannel.open(StandardProtocolFamily.INET);
        } catch (final IOException e) {
            throw new BypassException("afxdp: cannot open the kernel UDP socket used for multicast membership: " + e, e);
        }
        neighbours = new Neighbours(ifindex);

        final EnumSet<Capability> caps = EnumSet.of(Capability.L2_FRAMES, Capability.MULTICAST,
            Capability.FLOW_STEERING, Capability.KERNEL_NEIGHBOURS);
        if (zeroCopy) {
            caps.add(Capability.ZERO_COPY_RX);
            caps.add(Capability.ZERO_COPY_TX);
        }
        if (opts.queues > 1) {
            caps.add(Capability.MULTI_QUEUE);
        }
        if (opts.busyPoll > 0) {
            caps.add(Capability.BUSY_POLL);
        }
        capabilities(caps);
        counters().refresher(this::refreshStatistics);
    }

    private void mapUmem(final long length) {
        int flags = Constants.MAP_PRIVATE | Constants.MAP_ANONYMOUS | Constants.MAP_POPULATE;
        if (opts.hugepages) {
            flags |= Constants.MAP_HUGETLB;
        }
        final MemorySegment m = Libc.mmap(errno, length, Constants.PROT_READ | Constants.PROT_WRITE, flags, -1, 0);
        if (m.address() == Libc.MAP_FAILED) {
            final int err = Errno.get(errno);
            throw Errno.failure("mmap(UMEM, " + length + " bytes" + (opts.hugepages ? ", MAP_HUGETLB" : "") + ")", err,
                opts.hugepages ? "reserve 2 MiB huge pages first (echo " + (length / AfXdpOptions.HUGE_PAGE)
                    + " > /proc/sys/vm/nr_hugepages) or drop hugepages=true" : "use fewer frames");
        }
        // Bound with the mapped length: munmap of a huge-page mapping fails (EINVAL) unless
        // the length is a multiple of the huge page size, and the pages would stay taken.
        umem = Mmap.bind(m, length, mapArena);
    }

    private void readAddressing(final String iface) {
        long mac = 0;
        int ipv4 = 0;
        int prefix = 0;
        final int mtu;
        try {
            netif = NetworkInterface.getByName(iface);
            if (netif == null) {
                throw new BypassException("afxdp: no interface '" + iface + "' in this network namespace; check 'ip link show'");
            }
            if (!netif.isUp()) {
                throw new BypassException("afxdp: interface " + iface + " is down; bring it up: ip link set dev " + iface + " up");
            }
            mtu = netif.getMTU();
            final byte[] hw = netif.getHardwareAddress();
            if (hw != null && hw.length == 6) {
                for (final byte b : hw) {
                    mac = (mac << 8) | (b & 0xFF);
                }
            }
            for (final InterfaceAddress a : netif.getInterfaceAddresses()) {
                if (a.getAddress() instanceof Inet4Address v4) {
                    ipv4 = Ipv4.fromBytes(v4.getAddress());
                    prefix = a.getNetworkPrefixLength();
                    break;
                }
            }
        } catch (final SocketException e) {
            throw new BypassException("afxdp: cannot read the addresses of " + iface + ": " + e, e);
        }
        identity(mac, ipv4, prefix, readGateway(iface), mtu);
    }

    // /proc/thread-self, not /proc/self: this thread may be in another namespace than the main thread.
    private static int readGateway(final String iface) {
        final Path routes = Path.of("/proc/thread-self/net/route");
        try {
            for (final String line : Files.readAllLines(routes)) {
                final String[] f = line.trim().split("\\s+");
                if (f.length > 3 && f[0].equals(iface) && f[1].equals("00000000") && !f[2].equals("00000000")) {
                    return Ipv4.fromProcHex(f[2]);
                }
            }
        } catch (final IOException e) {
            throw new BypassException("afxdp: cannot read the default gateway of " + iface + " from " + routes + ": " + e
                + "; procfs must be mounted at /proc (Linux 3.17 or newer for thread-self)", e);
        }
        return 0; // no default route through this interface
    }

    private void refreshStatistics() {
        synchronized (lock) {
            if (isClosed()) {
                return;
            }
            final Counters counters = counters();
            long rxDropped = 0;
            long rxInvalid = 0;
            long txInvalid = 0;
            long rxRingFull = 0;
            long fillEmpty = 0;
            long txRingEmpty = 0;
            for (final XskSocket s : sockets) {
                // Kernels before 5.9 fill only the first three fields; the rest stay zero.
                if (!s.statistics(stats, statsLen, statsErrno)) {
                    // Keep the last totals rather than publish a partial sum: a counter that
                    // went backwards would read as frames un-dropped. (Open sockets do not fail this.)
                    return;
                }
                rxDropped += xdp_statistics.rx_dropped(stats);
                rxInvalid += xdp_statistics.rx_invalid_descs(stats);
                txInvalid += xdp_statistics.tx_invalid_descs(stats);
                rxRingFull += xdp_statistics.rx_ring_full(stats);
                fillEmpty += xdp_statistics.rx_fill_ring_empty_descs(stats);
                txRingEmpty += xdp_statistics.tx_ring_empty_descs(stats);
            }
            // In copy mode the kernel counts a frame that found the fill ring empty in both
            // rx_dropped and rx_fill_ring_empty_descs; count it once, as DROP_FILL_RING_EMPTY.
            final long otherDropped = zeroCopy ? rxDropped : Math.max(0, rxDropped - fillEmpty);
            counters.set(Counter.DROP_RX_OTHER, otherDropped + rxInvalid);
            counters.set(Counter.DROP_TX_INVALID, txInvalid);
            counters.set(Counter.DROP_RX_RING_FULL, rxRingFull);
            counters.set(Counter.DROP_FILL_RING_EMPTY, fillEmpty);
            counters.set(Counter.TX_RING_EMPTY, txRingEmpty);
            // Added, not set: the protocol layer's FrameClassifier counts the same reasons for
            // the malformed frames the program redirects; the program counts only the others.
            if (program.readMalformed(malformed)) {
                for (int r = 0; r < malformed.length; r++) {
                    counters.add(XdpProgram.MALFORMED_REASONS[r], malformed[r] - malformedAdded[r]);
                    malformedAdded[r] = malformed[r];
                }
            }
        }
    }

    /**
     * Frames waiting in an RX queue's ring, not yet polled. For tests and diagnostics, from
     * the polling thread; not part of the public API.
     *
     * @param id the port's RX queue
     * @return frames the kernel has placed in the ring that no poll has taken yet
     */
    public int rxRingEntries(final int id) {
        return rxQueue(id).waiting();
    }

    @Override
    public void addFlow(final int rxQueueId, final FlowRule rule) {
        synchronized (lock) {
            checkOpen();
            checkRxQueueId(rxQueueId);
            program.updateFlow(true, rule.destinationAddress(), rule.destinationPort(), opts.queue + rxQueueId);
            flows.put(rule, rxQueueId);
        }
    }

    @Override
    public void removeFlow(final int rxQueueId, final FlowRule rule) {
        synchronized (lock) {
            checkOpen();
            final Integer q = flows.get(rule);
            if (q != null && q == rxQueueId) {
                program.updateFlow(false, rule.destinationAddress(), rule.destinationPort(), opts.queue + rxQueueId);
                flows.remove(rule);
            }
        }
    }

    @Override
    public void joinMulticast(final int group) {
        synchronized (lock) {
            checkOpen();
            if ((group >>> 28) != 0xE) {
                throw new IllegalArgumentException(Ipv4.toString(group) + " is not an IPv4 multicast group");
            }
            if (groups.containsKey(group)) {
                return;
            }
            try {
                // The kernel socket's membership sends the IGMP report and programs the NIC's
                // multicast filter; the frames themselves still come to us through XDP.
                groups.put(group, multicast.join(toInet(group), netif));
            } catch (final IOException | RuntimeException e) {
                throw new BypassException("afxdp: joining " + Ipv4.toString(group) + " on " + opts.iface
                    + " failed: " + e + (ipv4Address() == 0 ? "; the interface needs an IPv4 address for IGMP" : ""), e);
            }
        }
    }

    @Override
    public void leaveMulticast(final int group) {
        synchronized (lock) {
            checkOpen();
            final MembershipKey key = groups.remove(group);
            if (key != null) {
                key.drop();
            }
        }
    }

    private static InetAddress toInet(final int address) throws IOException {
        return InetAddress.getByAddress(Ipv4.toBytes(address));
    }

    @Override
    public long resolveNeighbour(final int ipv4Address) {
        checkOpen();
        return neighbours.resolve(ipv4Address);
    }

    @Override
    public boolean isZeroCopy() {
        return zeroCopy;
    }

    @Override
    public String xdpMode() {
        return opts.xdp;
    }

    @Override
    public String interfaceName() {
        return opts.iface;
    }

    @Override
    public int interfaceIndex() {
        return ifindex;
    }

    @Override
    public int firstQueueId() {
        return opts.queue;
    }

    /**
     * Detaches the program, closes the sockets, unmaps rings and UMEM, leaves groups.
     * Idempotent, and safe after a partial open.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (isClosed()) {
                return;
            }
            markClosed();
            RuntimeException failure = null;
            // 1. Detach first, so no frame is redirected to a socket being torn down.
            if (program != null) {
                try {
                    program.close();
                } catch (final RuntimeException e) {
                    failure = e;
                }
            }
            // 2. Sockets (their rings stay mapped until step 3).
            for (int i = sockets.size() - 1; i >= 0; i--) {
                try {
                    sockets.get(i).close();
                } catch (final RuntimeException e) {
                    failure = failure == null ? e : failure;
                }
            }
            // 3. munmap rings and UMEM; any later access through a segment throws, never crashes.
            try {
                mapArena.close();
            } catch (final RuntimeException e) {
                failure = failure == null ? e : failure;
            }
            if (multicast != null) {
                try {
                    multicast.close(); // drops every membership: the kernel sends the IGMP leaves
                } catch (final IOException e) {
                    failure = failure == null ? new BypassException("afxdp: closing the multicast socket: " + e, e) : failure;
                }
            }
            if (neighbours != null) {
                neighbours.close();
            }
            groups.clear();
            flows.clear();
            try {
                arena.close();
            } catch (final RuntimeException e) {
                failure = failure == null ? e : failure;
            }
            if (failure != null) {
                throw new BypassException("afxdp: closing " + uri() + " failed part-way (everything else was freed): " + failure, failure);
            }
        }
    }

    @Override
    public String toString() {
        return "AfXdpPort[" + uri() + (isClosed() ? ", closed" : ", " + (zeroCopy ? "zerocopy" : "copy")) + "]";
    }

    /**
     * {@inheritDoc}
     *
     * <p>An {@link AfXdpRxQueue} over rings and a UMEM in ordinary memory, the kernel's part
     * played in Java: the warm-up compiles this backend's own poll loop with frames.
     */
    @Override
    public RxQueue warmUpRxQueue(final DirectBuffer frame, final int offset, final int length, final Counters counters) {
        checkOpen();
        final WarmUpRings r = warmUpRings();
        final AfXdpRxQueue q = new AfXdpRxQueue(this, 0, r.socket, r.umem, r.frameSize, opts.rxBatch, opts.needWakeup, false,
            counters.newWriter());
        q.populateFill(0, r.rxFrames(), r.frameSize);
        return new WarmUpRings.Rx(r, q, frame, offset, length);
    }

    /** {@inheritDoc} */
    @Override
    public TxQueue warmUpTxQueue(final Counters counters) {
        checkOpen();
        final WarmUpRings r = warmUpRings();
        return new WarmUpRings.Tx(r, new AfXdpTxQueue(this, 0, r.socket, r.umemAddress, r.txBase(), r.txFrames(), r.frameSize,
            Math.min(r.frameSize, mtu() + 18), opts.txBatch, opts.needWakeup, counters.newWriter()));
    }

    /** {@inheritDoc} */
    @Override
    public void closeWarmUp() {
        if (warmUp != null) {
            warmUp.close();
            warmUp = null;
        }
    }

    private WarmUpRings warmUpRings() {
        if (warmUp == null) {
            warmUp = new WarmUpRings(opts.queue, opts.frameSize);
        }
        return warmUp;
    }
}
