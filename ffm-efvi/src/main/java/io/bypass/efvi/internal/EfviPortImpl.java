package io.bypass.efvi.internal;

import io.bypass.BypassException;
import io.bypass.BypassUriException;
import io.bypass.Capability;
import io.bypass.Counters;
import io.bypass.FlowRule;
import io.bypass.PortUri;
import io.bypass.RxQueue;
import io.bypass.TxQueue;
import io.bypass.efvi.internal.gen.EfviShim;
import io.bypass.net.Ipv4;
import io.bypass.spi.AbstractPort;
import io.bypass.spi.Closer;
import io.bypass.spi.KernelInterface;
import io.bypass.efvi.EfviUriParams;
import io.bypass.spi.RxBuffering;
import io.bypass.spi.RxStallBudget;
import io.bypass.spi.NetNamespaceFd;
import io.bypass.spi.TcpPortReservations;
import io.bypass.spi.UriParams;
import io.bypass.spi.WarmUpQueues;
import org.agrona.DirectBuffer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.channels.MembershipKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * An ef_vi port: one VI (event queue, RX ring, TX ring) on one interface, its protection
 * domain, its registered packet buffers and its filters. The kernel keeps the interface's
 * IP address, answers ARP and sends IGMP (through a kernel socket's group membership), as
 * with Onload; the VI receives only the UDP and TCP flows steered to it with filters, and a TCP
 * flow's local port is reserved in the kernel.
 *
 * <p>RX queue 0 and TX queue 0 share the VI and its event queue, as in ef_vi; every ef_vi
 * call on the VI is made under one (normally uncontended) lock, so polling and flushing
 * from two threads is safe. {@link #close()} must not race them: close after the polling
 * threads have stopped, or from the polling thread.
 */
public final class EfviPortImpl extends AbstractPort<EfviRxQueue, EfviTxQueue> implements WarmUpQueues {
    /** Size of one registered packet buffer (ef_vi's documented packet buffer size). */
    static final int BUF_SIZE = 2048;

    private final String iface;
    private final Arena arena = Arena.ofShared();
    private EfviFlows flows;
    private final Map<Integer, MembershipKey> groups = new HashMap<>();
    private MemorySegment handle = MemorySegment.NULL;
    private DatagramChannel igmpSocket;
    private volatile MalformedTap tap;
    private volatile NicDrops nicDrops;
    private NetworkInterface nif;
    /** Also the lock for every ef_vi call on the VI (see {@link EventQueue}). */
    private Object viLock = new Object();
    /** This backend's own queues over a warm-up VI (see {@link WarmUpQueues}); polling thread only. */
    private EfviWarmUp warmUp;

    private EfviPortImpl(final PortUri uri) {
        super("efvi", uri);
        // jextract's bindings keep string constants (trace names); see HotPathStrings.
        io.bypass.spi.HotPathStrings.intern(EfviShim.class);
        this.iface = uri.target();
    }

    /**
     * For {@code auto:}: whether this backend could serve the URI's interface.
     *
     * @param uri the URI
     * @return null if it can try, else why not
     */
    public static String cannotServe(final PortUri uri) {
        try {
            if (uri.target().isEmpty()) {
                return "no interface named (efvi:IFACE)";
            }
            if (NetworkInterface.getByName(uri.target()) == null) {
                return "no interface " + uri.target() + " in this network namespace";
            }
            if (EfviNative.libKind() == EfviShim.BYPASS_EFVI_LIB_ONLOAD()) {
                final Path driver = Path.of("/sys/class/net", uri.target(), "device", "driver");
                if (Files.isSymbolicLink(driver)) {
                    final String name = Files.readSymbolicLink(driver).getFileName().toString();
                    if (!name.startsWith("sfc")) {
                        return uri.target() + " is not a Solarflare/AMD NIC (driver " + name + ")";
                    }
                }
            }
            return null;
        } catch (final IOException | RuntimeException e) {
            return "cannot inspect " + uri.target() + ": " + e;
        }
    }

    /**
     * Opens a port; on failure frees whatever was set up and throws.
     *
     * @param uri {@code efvi:IFACE?rxRing=N&txRing=N&buffers=N}
     * @return the open port
     */
    public static EfviPortImpl open(final PortUri uri) {
        UriParams.requireOnly(uri, EfviUriParams.ALL);
        final int vlan = io.bypass.spi.PortVlan.from(uri);
        if (vlan != io.bypass.spi.PortVlan.UNTAGGED) {
            // The filters would need ef_filter_spec_set_vlan, which the shim does not call yet.
            throw new io.bypass.BypassUriException(uri.text(), "efvi: vlan=" + vlan + " is not supported yet: the ef_vi "
                + "filters match untagged frames only (use vlan=0, or the afxdp or dpdk backend for a VLAN)");
        }
        final EfviPortImpl port = new EfviPortImpl(uri);
        try {
            port.setUp();
            return port;
        } catch (final RuntimeException e) {
            Closer.closeAfterFailure(e, port);
            throw e;
        }
    }

    /**
     * @param uri an {@code efvi:} URI
     * @return the RX ring it asks for: {@code rxRing}, else the stall budget's, capped at the NIC's 4096
     */
    private static int rxRing(final PortUri uri) {
        // The RX ring holds what arrives while the polling thread stalls (RxStallBudget), up to
        // the NIC's 4096 descriptors: 20 ms at 200 kpps, less than the default budget asks.
        return UriParams.RX_RING.intValue(uri, RxStallBudget.from(uri).ringSize(EfviUriParams.MIN_RING, EfviUriParams.MAX_RING),
            EfviUriParams.MIN_RING, EfviUriParams.MAX_RING);
    }

    /**
     * @param rxCapacity   descriptors the RX ring can hold posted
     * @param buffersParam {@code buffers} from the URI, 0 if absent
     * @return buffers posted to the RX ring: its capacity by default (an even split would give a
     *         4096-entry ring only half of rxCap + txCap, and a stall would lose the rest), else half the buffers
     */
    private static int rxBuffers(final int rxCapacity, final int buffersParam) {
        return buffersParam > 0 ? Math.min(rxCapacity, buffersParam / 2 + buffersParam % 2) : rxCapacity;
    }

    /**
     * The receive buffering a port opened with {@code uri} sets up (for {@code bypass doctor}): the
     * RX buffers posted, one fewer than the ring's entries as in ef_vi.
     *
     * @param uri an {@code efvi:} URI
     * @return the buffering
     */
    public static RxBuffering rxBuffering(final PortUri uri) {
        UriParams.requireOnly(uri, EfviUriParams.ALL);
        final int rxRing = rxRing(uri);
        final boolean capped = !UriParams.RX_RING.isIn(uri) && RxStallBudget.from(uri).frames() > EfviUriParams.MAX_RING;
        return RxBuffering.ring(capped ? "NIC ring cap" : "RX ring", rxBuffers(rxRing - 1, EfviUriParams.BUFFERS.intValue(uri, 0)),
            "");
    }

    private void setUp() {
        final PortUri uri = uri();
        if (iface.isEmpty()) {
            throw new BypassUriException(uri.text(), "missing interface: efvi:IFACE, e.g. efvi:ens1f0");
        }
        final int rxRing = rxRing(uri);
        final int txRing = UriParams.TX_RING.intValue(uri, 512, EfviUriParams.MIN_RING, EfviUriParams.MAX_RING);
        final int buffersParam = EfviUriParams.BUFFERS.intValue(uri, 0);
        final KernelInterface kernel = KernelInterface.read("efvi", iface);
        nif = kernel.networkInterface();
        identity(kernel);

        handle = EfviShim.bypass_efvi_create();
        if (handle.equals(MemorySegment.NULL)) {
            throw new BypassException("efvi: out of memory creating the VI state");
        }
        check("ef_driver_open", EfviShim.bypass_efvi_driver_open(handle));
        check("ef_pd_alloc(" + iface + ", ifindex " + nif.getIndex() + ")", EfviShim.bypass_efvi_pd_alloc(handle, nif.getIndex()));
        final int viRc = EfviShim.bypass_efvi_vi_alloc(handle, -1, rxRing, txRing, 1, BUF_SIZE);
        if (viRc == -93) {
            throw new BypassException("efvi: " + iface + " is an X3/EFCT-architecture NIC, whose VIs receive by reference"
                + " (RX_REF events) rather than into posted buffers; Bypass's ef_vi backend drives EF10/EF100 NICs only"
                + " for now: use afxdp:" + iface + " on this NIC");
        }
        check("ef_vi_alloc_from_pd(rxq " + rxRing + ", txq " + txRing + ")", viRc);
        final int rxCap = EfviShim.bypass_efvi_rx_capacity(handle);
        final int txCap = EfviShim.bypass_efvi_tx_capacity(handle);
        final int buffers = buffersParam > 0 ? buffersParam : rxCap + txCap;
        final int rxBuffers = rxBuffers(rxCap, buffersParam);
        final int txBuffers = buffers - rxBuffers;
        if (rxBuffers < 1 || txBuffers < 1) {
            throw new BypassUriException(uri.text(), "parameter 'buffers' must leave at least one RX and one TX buffer");
        }
        // Page-aligned and a whole number of 4 KiB pages, as ef_memreg_alloc wants.
        final MemorySegment mem = arena.allocate(((long) buffers * BUF_SIZE + 4095) & ~4095L, 4096);
        final MemorySegment dmaOut = arena.allocate((long) buffers * Long.BYTES, 8);
        check("ef_memreg_alloc(" + buffers + " x " + BUF_SIZE + " bytes)",
            EfviShim.bypass_efvi_memreg_alloc(handle, mem, mem.byteSize(), BUF_SIZE, dmaOut, buffers));
        final long[] dma = dmaOut.toArray(ValueLayout.JAVA_LONG);
        check("opening /proc/thread-self/net/arp for neighbour lookups", EfviShim.bypass_efvi_neigh_open(handle, arena.allocateFrom(iface)));

        final int prefix = EfviShim.bypass_efvi_rx_prefix_len(handle);
        final boolean onload = EfviNative.libKind() == EfviShim.BYPASS_EFVI_LIB_ONLOAD();
        final boolean hwTimestamps = onload && EfviShim.bypass_efvi_has_rx_timestamps(handle) != 0;
        final EventQueue events = new EventQueue(handle, arena, rxBuffers, counters());
        viLock = events;
        flows = new EfviFlows(iface, handle, events, new TcpPortReservations("efvi", iface,
            NetNamespaceFd.ofCallingThread("efvi", iface,
            // bound here: creating a downcall handle needs this module's native access
            (name, fd) -> Linker.nativeLinker().downcallHandle(Linker.nativeLinker().defaultLookup().find(name).orElseThrow(), fd,
                NetNamespaceFd.ERRNO))));
        final EfviRxQueue rx = new EfviRxQueue(this, handle, events, arena, mem.address(), BUF_SIZE, prefix, dma, rxBuffers, hwTimestamps,
            counters().newWriter());
        final EfviTxQueue tx = new EfviTxQueue(this, handle, events, arena, mem.address(), BUF_SIZE, dma, rxBuffers, txBuffers,
            Math.min(BUF_SIZE, mtu() + 18), counters().newWriter());
        warmUp = new EfviWarmUp(this, prefix, EfviShim.bypass_efvi_has_rx_timestamps(handle) != 0, hwTimestamps,
            Math.min(BUF_SIZE, mtu() + 18));
        events.txQueue(tx);
        final int posted = rx.fill(rxBuffers);
        if (posted != rxBuffers) {
            throw new BypassException("efvi: the NIC took " + posted + " of " + rxBuffers
                + " RX buffers (ef_vi_receive_init); open with a smaller rxRing or report this with ef_vi_version_str");
        }
        queues(new EfviRxQueue[] {rx}, new EfviTxQueue[] {tx});

        try {
            // IGMP stays with the kernel: memberships on this socket make it report and answer queries.
            igmpSocket = DatagramChannel.open(StandardProtocolFamily.INET);
        } catch (final IOException e) {
            throw new BypassException("efvi: cannot open the kernel socket used for multicast joins: " + e.getMessage(), e);
        }
        // Malformed frames of our flows that no ip4_local filter can match go to the kernel: counted there.
        // Optional: without CAP_NET_RAW (or past the kernel's filter size) the frames still reach
        // the kernel as they would without Bypass; only their count is missing, and we say so once.
        try {
            tap = MalformedTap.open(iface, nif.getIndex());
        } catch (final BypassException e) {
            tapUnavailable(e);
        }
        // What the NIC drops for want of a posted buffer reaches no ef_vi event: read it with the counters.
        nicDrops = new NicDrops(iface, EfviNative.libPath());
        counters().refresher(() -> {
            final MalformedTap t = tap;
            if (t != null) {
                t.refresh(counters());
            }
            final NicDrops d = nicDrops;
            if (d != null) {
                d.addNewDropsTo(counters());
            }
        });
        final EnumSet<Capability> caps = EnumSet.of(Capability.L2_FRAMES, Capability.ZERO_COPY_RX, Capability.ZERO_COPY_TX,
            Capability.MULTICAST, Capability.FLOW_STEERING, Capability.KERNEL_NEIGHBOURS);
        if (hwTimestamps) {
            caps.add(Capability.HARDWARE_TIMESTAMPS);
        }
        capabilities(caps);
    }

    private void check(final String call, final int rc) {
        if (rc < 0) {
            throw new BypassException("efvi: " + call + " on " + iface + " failed: " + Errno.describe(rc) + Errno.remedy(rc)
                + " (library " + EfviNative.libPath() + ", " + EfviNative.libVersion() + ")");
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>UDP: an ef_vi {@code ip4_local} filter; address 0 means this port's own address. Adding the
     * same flow again only counts a reference. TCP: the local port is reserved in the kernel first
     * (port 0: the kernel's choice), then an {@code ip4_full} filter (a connection) or an
     * {@code ip4_local} one with {@code IPPROTO_TCP} (a listener) is added ({@link EfviFlows}).
     */
    @Override
    public synchronized FlowRule addFlow(final int rxQueueId, final FlowRule rule) {
        checkOpen();
        checkRxQueueId(rxQueueId);
        if (rule.isTcp()) {
            return flows.addTcp(rule, ipv4Address());
        }
        if (flows.addUdp(effective(rule))) {
            updateTap();
        }
        return rule;
    }

    /** Gives the kernel-side malformed-frame filters the current flows. */
    private void updateTap() {
        final Set<Integer> addresses = new java.util.HashSet<>();
        final Set<Long> udpFlows = new java.util.HashSet<>();
        for (final FlowRule f : flows.udpRules()) {
            addresses.add(f.destinationAddress());
            udpFlows.add(((f.destinationAddress() & 0xFFFF_FFFFL) << 16) | f.destinationPort());
        }
        if (tap == null) {
            return;
        }
        try {
            tap.update(addresses, udpFlows);
        } catch (final BypassException e) {
            tap.close();
            tap = null;
            tapUnavailable(e);
        }
    }

    private static void tapUnavailable(final BypassException e) {
        System.getLogger("io.bypass.efvi").log(System.Logger.Level.WARNING, e.getMessage()
            + "; malformed frames of this port's flows that the NIC hands to the kernel (fragments, broken IPv4 headers)"
            + " are not counted (give the process CAP_NET_RAW to count them)");
    }

    /**
     * {@inheritDoc}
     *
     * <p>TCP: deletes the filter, then releases the local port's reservation (unless another rule
     * shares it), both even if the other fails; a TCP rule not steered is ignored.
     */
    @Override
    public synchronized void removeFlow(final int rxQueueId, final FlowRule rule) {
        checkOpen();
        checkRxQueueId(rxQueueId);
        if (rule.isTcp()) {
            flows.removeTcp(rule, ipv4Address());
            return;
        }
        if (flows.removeUdp(effective(rule))) {
            updateTap();
        }
    }

    private FlowRule effective(final FlowRule rule) {
        return rule.destinationAddress() == 0 ? new FlowRule(ipv4Address(), rule.destinationPort()) : rule;
    }

    @Override
    public synchronized void joinMulticast(final int group) {
        checkOpen();
        if (!Ipv4.isMulticast(group)) {
            throw new IllegalArgumentException(Ipv4.toString(group) + " is not a multicast group");
        }
        if (groups.containsKey(group)) {
            return;
        }
        try {
            groups.put(group, igmpSocket.join(InetAddress.getByAddress(Ipv4.toBytes(group)), nif));
        } catch (final IOException e) {
            throw new BypassException("efvi: the kernel refused to join " + Ipv4.toString(group) + " on " + iface
                + " (needed so IGMP reports go out): " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void leaveMulticast(final int group) {
        checkOpen();
        final MembershipKey key = groups.remove(group);
        if (key == null) {
            throw new BypassException("efvi: " + Ipv4.toString(group) + " was not joined on " + iface);
        }
        key.drop();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Reads the kernel's table ({@code /proc/net/arp} of the namespace the port was opened
     * in); when the entry is missing, sends an empty datagram to the discard port so the
     * kernel resolves it. No allocation.
     */
    @Override
    public long resolveNeighbour(final int ipv4Address) {
        checkOpen();
        return EfviShim.bypass_efvi_neigh_resolve(handle, ipv4Address);
    }

    /**
     * Removes the filters, leaves the groups, frees the VI, the memory registration, the
     * protection domain and the driver handle (in that order), then the packet buffers.
     * Idempotent, and safe after a failed open.
     */
    @Override
    public synchronized void close() {
        if (isClosed()) {
            return;
        }
        markClosed();
        final Closer closer = new Closer("efvi: closing " + uri().text());
        if (flows != null && !handle.equals(MemorySegment.NULL)) {
            flows.close(closer);
        }
        for (final Map.Entry<Integer, MembershipKey> g : groups.entrySet()) {
            closer.run("leaving " + Ipv4.toString(g.getKey()), g.getValue()::drop);
        }
        groups.clear();
        closer.close("closing the malformed-frame tap", tap);
        if (nicDrops != null) {
            // The last reading stays in the counters; the library handle goes.
            final NicDrops d = nicDrops;
            closer.run("reading the NIC's drops", () -> d.addNewDropsTo(counters()));
            closer.close("closing the NIC drop counters", d);
            nicDrops = null;
        }
        closer.close("closing the IGMP socket", igmpSocket);
        closer.close("freeing the warm-up VI", warmUp);
        if (!handle.equals(MemorySegment.NULL)) {
            final int rc;
            synchronized (viLock) {
                rc = EfviShim.bypass_efvi_destroy(handle);
                handle = MemorySegment.NULL;
            }
            if (rc < 0) {
                closer.failed("freeing the VI, memory registration, protection domain and driver handle", Errno.describe(rc));
            }
        }
        closer.close("freeing the packet buffers", arena);
        closer.throwIfFailed();
    }

    /**
     * {@inheritDoc}
     *
     * <p>The queue is this backend's own {@link EfviRxQueue} and {@link EventQueue}, over a
     * warm-up VI the shim keeps in private memory: no ef_vi call is made, nothing is taken from
     * the NIC's ring.
     */
    @Override
    public RxQueue warmUpRxQueue(final DirectBuffer frame, final int offset, final int length, final Counters counters) {
        checkOpen();
        return warmUp.rxQueue(frame, offset, length, counters);
    }

    /** {@inheritDoc} The frames committed to it are discarded by the warm-up VI. */
    @Override
    public TxQueue warmUpTxQueue(final Counters counters) {
        checkOpen();
        return warmUp.txQueue(counters);
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
        }
    }

    @Override
    public String toString() {
        return "efvi:" + iface + " (" + EfviNative.libVersion() + ")";
    }
}
