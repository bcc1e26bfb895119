package io.bypass.afxdp.internal;

import io.bypass.BypassException;
import io.bypass.Capability;
import io.bypass.Counters;
import io.bypass.FlowRule;
import io.bypass.PortUri;
import io.bypass.afxdp.AfXdpPort;
import io.bypass.net.Ipv4;
import io.bypass.RxQueue;
import io.bypass.TxQueue;
import io.bypass.spi.AbstractPort;
import io.bypass.spi.Closer;
import io.bypass.spi.KernelInterface;
import io.bypass.spi.TcpPortReservations;
import io.bypass.spi.NetNamespaceFd;
import io.bypass.spi.WarmUpQueues;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.channels.MembershipKey;
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
 * <p>TCP flows are steered by the program's TCP maps and their local ports reserved in the
 * kernel by {@link TcpPortReservations}, released on removal and at close.
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
    private TcpPortReservations reservations;
    private final XskStatistics statistics = new XskStatistics(arena);
    /** Calls of each hot syscall at open: past java.lang.invoke's CUSTOMIZE_THRESHOLD of 127. */
    private static final int HOT_CALL_LINKS = 200;

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
     * For tests of the queues over simulated rings: a port that opened nothing (no socket, no
     * UMEM, no XDP program), so its queues pass {@link #checkOpen()} until it is closed.
     *
     * @param uri the {@code afxdp:} URI its options come from
     * @return the port, not opened
     */
    static AfXdpPortImpl unopened(final PortUri uri) {
        return new AfXdpPortImpl(uri, new AfXdpOptions(uri));
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
            Closer.closeAfterFailure(e, port);
            throw e;
        }
    }

    private void init() {
        final String iface = opts.iface;
        final KernelInterface kernel = KernelInterface.read("afxdp", iface);
        if (!kernel.up()) {
            throw new BypassException("afxdp: interface " + iface + " is down; bring it up: ip link set dev " + iface + " up");
        }
        ifindex = kernel.index();
        netif = kernel.networkInterface();
        identity(kernel);

        program = XdpProgram.load(opts.vlan);

        final long umemSize = (long) opts.frames * opts.frameSize;
        mapUmem(opts.umemBytes());

        final int perQueue = opts.framesPerQueue();
        final int txFrames = opts.txFramesPerQueue();
        final int rxFrames = opts.rxFramesPerQueue();
        final int maxFrame = Math.min(opts.frameSize, mtu() + 18);
        final Counters counters = counters();
        final UnsafeBuffer umemBuffer = new UnsafeBuffer(umem.address(), (int) umemSize);
        final AfXdpRxQueue[] rxQueues = new AfXdpRxQueue[opts.queues];
        final AfXdpTxQueue[] txQueues = new AfXdpTxQueue[opts.queues];
        for (int q = 0; q < opts.queues; q++) {
            final XskSocket s = XskSocket.create(errno, opts.nicQueue + q);
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
            program.registerSocket(opts.nicQueue + q, s.fd);
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
        linkHotCalls();
        reservations = new TcpPortReservations("afxdp", iface, NetNamespaceFd.ofCallingThread("afxdp", iface,
            // bound here: creating a downcall handle needs this module's native access
            (name, fd) -> Linker.nativeLinker().downcallHandle(Linker.nativeLinker().defaultLookup().find(name).orElseThrow(), fd,
                NetNamespaceFd.ERRNO)));

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

    /**
     * Calls the kick, the RX wakeup and the neighbour query past the JDK's method-handle customisation
     * threshold (127 calls), so their call sites are linked and customised (class generation, milliseconds)
     * now, not on the polling thread at a connection's first segment or the first kick after a quiet spell.
     * A warm-up covers the kick and wakeup only for the endpoints that run one. Nothing reaches the wire: the
     * TX ring is empty, the RX wakeup only asks the kernel to look at the fill ring, and the query is rtnetlink's.
     */
    private void linkHotCalls() {
        final int fd = sockets.get(0).fd;
        for (int i = 0; i < HOT_CALL_LINKS; i++) {
            Libc.kick(fd);
            Libc.wakeupRx(fd);
            neighbours.query(0);
        }
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

    private void refreshStatistics() {
        synchronized (lock) {
            if (isClosed()) {
                return;
            }
            statistics.refresh(sockets, zeroCopy, program, counters());
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

    /**
     * {@inheritDoc}
     *
     * <p>TCP: the rule's local port is reserved in the kernel first ({@link TcpPortReservations};
     * port 0 takes the kernel's choice), then steered by the XDP program; if steering fails the
     * reservation is released. Adding a rule already steered returns it and changes nothing.
     */
    @Override
    public FlowRule addFlow(final int rxQueueId, final FlowRule rule) {
        synchronized (lock) {
            checkOpen();
            checkRxQueueId(rxQueueId);
            if (rule.isTcp()) {
                return addTcpFlow(rxQueueId, rule);
            }
            program.updateFlow(true, rule.destinationAddress(), rule.destinationPort(), opts.nicQueue + rxQueueId);
            flows.put(rule, rxQueueId);
            return rule;
        }
    }

    private FlowRule addTcpFlow(final int rxQueueId, final FlowRule rule) {
        final int address = rule.destinationAddress() != 0 ? rule.destinationAddress() : ipv4Address();
        if (address == 0) {
            throw new BypassException("afxdp: " + opts.iface + " has no IPv4 address, so " + rule + " has no local address;"
                + " give the interface one (ip addr add A.B.C.D/NN dev " + opts.iface + ") or name the address in the rule");
        }
        final FlowRule local = rule.withLocal(address, rule.destinationPort());
        if (local.destinationPort() != 0 && flows.containsKey(local)) {
            return local;
        }
        final int port = reservations.reserve(address, local.destinationPort(), local);
        final FlowRule installed = local.withLocal(address, port);
        try {
            program.updateTcpFlow(true, installed, opts.nicQueue + rxQueueId);
        } catch (final RuntimeException | Error e) {
            try {
                reservations.release(address, port);
            } catch (final RuntimeException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
        flows.put(installed, rxQueueId);
        return installed;
    }

    /**
     * {@inheritDoc}
     *
     * <p>TCP: stops steering, then releases the local port's reservation (unless another rule
     * shares it), both even if the other fails.
     */
    @Override
    public void removeFlow(final int rxQueueId, final FlowRule given) {
        synchronized (lock) {
            checkOpen();
            // A TCP rule with address 0 means the port's own, as addFlow installed it.
            final FlowRule rule = given.isTcp() && given.destinationAddress() == 0
                ? given.withLocal(ipv4Address(), given.destinationPort()) : given;
            final Integer q = flows.get(rule);
            if (q == null || q != rxQueueId) {
                return;
            }
            if (!rule.isTcp()) {
                program.updateFlow(false, rule.destinationAddress(), rule.destinationPort(), opts.nicQueue + rxQueueId);
                flows.remove(rule);
                return;
            }
            flows.remove(rule);
            RuntimeException unsteer = null;
            try {
                program.updateTcpFlow(false, rule, opts.nicQueue + rxQueueId);
            } catch (final RuntimeException e) {
                unsteer = e;
            }
            reservations.releaseAfterUnsteering(rule, "unsteering it", unsteer);
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
        return opts.nicQueue;
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
            final Closer closer = new Closer("afxdp: closing " + uri());
            // 1. Detach first, so no frame is redirected to a socket being torn down.
            closer.close("detaching the XDP program", program);
            // 2. Sockets (their rings stay mapped until step 3).
            for (int i = sockets.size() - 1; i >= 0; i--) {
                closer.close("closing the AF_XDP socket of queue " + (opts.nicQueue + i), sockets.get(i));
            }
            // 3. munmap rings and UMEM; any later access through a segment throws, never crashes.
            closer.close("unmapping the rings and UMEM", mapArena);
            // Drops every membership: the kernel sends the IGMP leaves.
            closer.close("closing the multicast socket", multicast);
            closer.close("closing the neighbour socket", neighbours);
            // After the detach: the kernel gets the reserved ports back only once nothing steers them.
            closer.close("releasing the reserved TCP ports", reservations);
            groups.clear();
            flows.clear();
            closer.close("freeing the port's memory", arena);
            closer.throwIfFailed();
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
        r.deliver(frame, offset, length);
        return q;
    }

    /** {@inheritDoc} */
    @Override
    public TxQueue warmUpTxQueue(final Counters counters) {
        checkOpen();
        final WarmUpRings r = warmUpRings();
        return new AfXdpTxQueue(this, 0, r.socket, r.umemAddress, r.txBase(), r.txFrames(), r.frameSize,
            Math.min(r.frameSize, mtu() + 18), opts.txBatch, opts.needWakeup, counters.newWriter());
    }

    /** {@inheritDoc} */
    @Override
    public void warmUpTurn() {
        if (warmUp != null) {
            warmUp.turn();
        }
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
            warmUp = new WarmUpRings(opts.nicQueue, opts.frameSize);
        }
        return warmUp;
    }
}
