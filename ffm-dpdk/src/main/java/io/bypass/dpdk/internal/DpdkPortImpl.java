package io.bypass.dpdk.internal;

import io.bypass.BypassException;
import io.bypass.BypassUriException;
import io.bypass.Counters;
import io.bypass.FlowRule;
import io.bypass.PortUri;
import io.bypass.dpdk.DpdkContext;
import io.bypass.dpdk.DpdkPort;
import io.bypass.dpdk.DpdkPortSettings;
import io.bypass.dpdk.DpdkUriParams;
import io.bypass.dpdk.internal.gen.Ethdev;
import io.bypass.dpdk.internal.gen.Mbuf;
import io.bypass.spi.AbstractPort;
import io.bypass.spi.Closer;
import io.bypass.spi.RxStallBudget;
import io.bypass.spi.WarmUpQueues;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;

/**
 * A DPDK ethdev port: device probed (vdev hotplug or PCI), one mempool, N RX and TX queues
 * (RSS across RX queues when N &gt; 1), started; statistics copied into {@link Counters} on
 * demand. Close stops and closes the port, removes the device and frees the mempool.
 *
 * <p>The URI is read into a {@link DpdkContext}; the device is brought up by {@link DeviceStart},
 * read by {@link PortStatistics} and closed by {@link DeviceClose}, all on the port's
 * {@link ControlThread}; {@link OwnXdpPrograms} keeps net_af_xdp from taking over an XDP program
 * that is not ours, and {@link MulticastGroups} programs the groups joined. This class opens the
 * port and answers the {@link io.bypass.Port} and {@link DpdkPort} calls on the right thread.
 */
public final class DpdkPortImpl extends AbstractPort<DpdkRxQueue, DpdkTxQueue> implements DpdkPort, WarmUpQueues {
    private static final System.Logger LOG = System.getLogger(DpdkPortImpl.class.getName());

    /** Ports open and close one at a time: device names, hotplug and the XSK leak guard's view of the fds. */
    private static final Object OPEN_LOCK = new Object();
    /** How often the control thread checks that net_af_xdp's XDP program is still attached. */
    private static final long XDP_CHECK_MILLIS = 1000;

    private final DpdkDevice device;
    private final ControlThread control;
    private final MulticastGroups multicast;
    private final DpdkWarmUp warmUp = new DpdkWarmUp();
    /** Set once the device started. */
    private PortStatistics statistics;
    /** Watches net_af_xdp's XDP program on the interface; null for other PMDs. Used on the control thread. */
    private XdpProgramWatch xdpWatch;

    private DpdkPortImpl(final DpdkPortSettings settings, final DpdkDevice device) {
        super("dpdk", settings.uri());
        // The hand-written and generated bindings the bursts call (see HotPathStrings).
        io.bypass.spi.HotPathStrings.intern(Rte.class, io.bypass.dpdk.internal.gen.shim.Shim.class,
            io.bypass.dpdk.internal.gen.Mbuf.class);
        this.device = device;
        this.multicast = new MulticastGroups(device);
        // From the URI; the MAC and MTU follow once the port is started.
        identity(0, settings.ipv4Address(), settings.ipv4PrefixLength(), settings.ipv4Gateway(), 0);
        // Started here, on the opening thread, so it stays in the port's network namespace (see ControlThread).
        this.control = new ControlThread(device.name, this::closedException);
    }

    /**
     * For {@code auto:}: DPDK needs devargs or a PCI address, not a kernel interface name.
     *
     * @param uri the URI
     * @return null if the target looks like devargs, else the reason to pass
     */
    public static String cannotServe(final PortUri uri) {
        final String name = DpdkPortSettings.deviceName(uri.target());
        return name.startsWith("net_") || EalRuntime.isPci(name) ? null
            : "dpdk needs a vdev (net_af_xdp0,iface=" + uri.target() + ") or a PCI address, not a kernel interface name";
    }

    /**
     * Fails early, before any device is touched, when a UDP endpoint is asked for without an address.
     *
     * @param uri the URI
     */
    public static void requireIpForUdp(final PortUri uri) {
        if (!DpdkUriParams.IP.isIn(uri)) {
            throw new BypassUriException(uri.text(), "a DPDK port owns its NIC, so the UDP layer needs the port's own IPv4 "
                + "address: add ip=A.B.C.D/NN (and gateway=A.B.C.D to reach other subnets), e.g. "
                + "dpdk:net_af_packet0,iface=eth1?ip=10.0.0.1/24");
        }
    }

    /**
     * Opens a port.
     *
     * @param uri the {@code dpdk:} URI
     * @return the started port
     * @throws BypassException naming the cause and remedy; nothing is left behind
     */
    public static DpdkPortImpl open(final PortUri uri) {
        final DpdkContext ctx = EalRuntime.defaults().withUri(uri).conclude();
        final DpdkPortSettings settings = ctx.port();
        final RxStallBudget budget = settings.rxStallBudget();
        if (settings.isAfXdp() && budget.frames() > DpdkContext.AF_XDP_PMD_BUFFERS) {
            System.getLogger("io.bypass.dpdk").log(System.Logger.Level.WARNING, "dpdk: DPDK 22.11's net_af_xdp posts at most "
                + DpdkContext.AF_XDP_PMD_BUFFERS + " buffers to the kernel whatever rxDesc is ("
                + budget.describe(DpdkContext.AF_XDP_PMD_BUFFERS) + "): a longer stall of the polling thread loses frames "
                + "(counted as fill_ring_empty); use afxdp:IFACE, or net_af_packet with framecnt, for a deeper buffer on this "
                + "interface");
        }
        final Throwable cause = NativeLibraries.cause();
        if (cause != null) {
            throw new io.bypass.BackendUnavailableException("dpdk: backend unavailable: " + cause.getMessage(), cause);
        }
        EalRuntime.ensureStarted(ctx, settings.pciAddress(), ctx.explicitEalKeys());

        synchronized (OPEN_LOCK) {
            return openLocked(ctx);
        }
    }

    private static DpdkPortImpl openLocked(final DpdkContext ctx) {
        final DpdkPortSettings settings = ctx.port();
        final String name = settings.deviceName();
        final Map<Integer, String> xdpBefore = settings.isAfXdp() ? XskLeakGuard.xdpSockets() : null;
        final Map<Integer, String> packetBefore = settings.isAfPacket() ? XskLeakGuard.sockets(PmdSocketStats.AF_PACKET) : null;
        // Reuse a port the EAL probed at start (PCI allowlist), else hotplug the device now, on this thread.
        short portId = findPort(name);
        boolean probedHere = false;
        final String xdpIface = settings.isAfXdp() ? settings.kernelInterface() : null;
        final String xdpKey = xdpIface == null ? null : XdpAttachment.key(xdpIface);
        if (portId < 0 && xdpIface != null && !OwnXdpPrograms.isOurs(xdpKey)) {
            OwnXdpPrograms.refuseForeign(xdpIface);
        }
        if (portId < 0) {
            EalRuntime.probe(settings.devargs(), name);
            probedHere = true;
            portId = findPort(name);
            if (portId < 0) {
                final String err = EalRuntime.remove(name);
                throw new BypassException("dpdk: device " + name + " was probed but no ethdev port appeared (is it a network "
                    + "device?)" + (err == null ? "" : "; " + err));
            }
        }
        final DpdkPortImpl port = new DpdkPortImpl(settings, new DpdkDevice(name, portId, true, settings.kernelInterface()));
        final DpdkDevice dev = port.device;
        try {
            port.start(ctx);
            if (xdpBefore != null) {
                dev.xdpSockets = XskLeakGuard.created(xdpBefore, XskLeakGuard.xdpSockets());
                port.statistics.socketStats(PmdSocketStats.afXdp(dev.xdpSockets, dev.arena));
            }
            if (packetBefore != null) {
                port.statistics.socketStats(PmdSocketStats.afPacket(packetBefore, XskLeakGuard.sockets(PmdSocketStats.AF_PACKET),
                    settings.kernelInterface(), dev.arena));
            }
            if (xdpKey != null) {
                OwnXdpPrograms.add(xdpKey);
                dev.xdpKey = xdpKey;
                port.watchXdpProgram(xdpIface);
            }
            if ((xdpBefore != null || packetBefore != null) && port.statistics.socketStats() == null) {
                LOG.log(System.Logger.Level.WARNING, "dpdk: found none of the sockets {0} opened, so the kernel''s drops on "
                    + "them (ring full) are not counted", name);
            }
            return port;
        } catch (final RuntimeException e) {
            if (xdpBefore != null) {
                dev.xdpSockets = XskLeakGuard.created(xdpBefore, XskLeakGuard.xdpSockets());
            }
            final Closer closer = new Closer("dpdk: cleaning up after the failed open of " + name);
            port.closeQuietly(closer);
            closer.addSuppressedTo(e);
            port.control.shutdown();
            throw e;
        } finally {
            if (!probedHere) {
                LOG.log(System.Logger.Level.DEBUG, "dpdk: port {0} was probed at EAL start", name);
            }
        }
    }

    private static short findPort(final String name) {
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment id = a.allocate(ValueLayout.JAVA_SHORT);
            final int rc = Ethdev.rte_eth_dev_get_port_by_name(a.allocateFrom(name), id);
            return rc == 0 ? id.get(ValueLayout.JAVA_SHORT, 0) : -1;
        }
    }

    /** Starts the device and publishes what it offers; on the opening thread. */
    private void start(final DpdkContext ctx) {
        final DeviceStart.Started started = DeviceStart.start(device, ctx, this);
        capabilities(started.capabilities());
        identity(started.macAddress(), ipv4Address(), ipv4PrefixLength(), ipv4Gateway(), started.mtu());
        queues(started.rxQueues(), started.txQueues());
        statistics = new PortStatistics(device);
        counters().refresher(this::refreshStats);
    }

    /**
     * Notes the XDP program net_af_xdp attached and checks once a second, on the control thread
     * (in the port's network namespace, off the hot path), that it is still there: removed from
     * outside ({@code ip link set dev IFACE xdp off}), the port would otherwise just go quiet.
     */
    private void watchXdpProgram(final String iface) {
        xdpWatch = XdpProgramWatch.start(iface, device.name);
        if (xdpWatch != null) {
            control.every(this::checkXdpProgram, XDP_CHECK_MILLIS);
        }
    }

    /** On the control thread (or the opening thread before it is scheduled). */
    private void checkXdpProgram() {
        synchronized (this) {
            if (!isClosed() && xdpWatch != null) {
                xdpWatch.check(counters());
            }
        }
    }

    /**
     * Copies the device's statistics into the counters, on the control thread, on whichever thread
     * reads counters; and checks that net_af_xdp's XDP program is still attached (see {@link XdpProgramWatch}).
     */
    private void refreshStats() {
        if (isClosed()) {
            return;
        }
        try {
            control.run(this::copyStats);
        } catch (final BypassException e) {
            // closed meanwhile: the counters keep their last values
        }
    }

    private void copyStats() {
        synchronized (this) {
            if (isClosed()) {
                return;
            }
            statistics.read(counters());
        }
        checkXdpProgram();
    }

    @Override
    public FlowRule addFlow(final int rxQueueId, final FlowRule rule) {
        checkOpen();
        // No FLOW_STEERING capability: every frame is delivered (RSS spreads them), so this is a no-op by contract,
        // TCP included: DPDK owns the port and its address (URI key ip), so no kernel answers its segments and there
        // is no kernel port to reserve; a TCP rule with local port 0 comes back as given (the TCP layer picks its own).
        return rule;
    }

    @Override
    public void removeFlow(final int rxQueueId, final FlowRule rule) {
        checkOpen();
    }

    @Override
    public void joinMulticast(final int group) {
        checkOpen();
        control.run(() -> join(group));
    }

    private synchronized void join(final int group) {
        checkOpen();
        multicast.join(group);
    }

    @Override
    public void leaveMulticast(final int group) {
        checkOpen();
        control.run(() -> leave(group));
    }

    private synchronized void leave(final int group) {
        checkOpen();
        multicast.leave(group);
    }

    @Override
    public int portId() {
        return device.portId & 0xFFFF;
    }

    @Override
    public Map<String, Long> extendedStatistics() {
        checkOpen();
        return control.call(this::xstats);
    }

    private synchronized Map<String, Long> xstats() {
        checkOpen();
        return statistics.extended();
    }

    @Override
    public boolean isLinkUp() {
        checkOpen();
        return control.call(this::linkUp);
    }

    private synchronized boolean linkUp() {
        checkOpen();
        return statistics.linkUp();
    }

    @Override
    public int linkSpeedMbps() {
        checkOpen();
        return control.call(this::linkSpeed);
    }

    private synchronized int linkSpeed() {
        checkOpen();
        return statistics.linkSpeedMbps();
    }

    @Override
    public synchronized int mempoolAvailable() {
        checkOpen();
        return Mbuf.rte_mempool_avail_count(device.mempool);
    }

    @Override
    public synchronized MulticastFilter multicastFilter() {
        return multicast.filter();
    }

    /**
     * For tests: reclaims mbufs the PMD still holds after sending ({@code rte_eth_tx_done_cleanup}, or an
     * empty tx burst where the PMD lacks it). Call from the TX queue's thread.
     *
     * @param queue TX queue
     * @return mbufs freed, or a negative errno
     */
    public synchronized int txDoneCleanup(final int queue) {
        checkOpen();
        final int rc = Ethdev.rte_eth_tx_done_cleanup(device.portId, (short) queue, 0);
        if (rc == -DpdkDevice.EOPNOTSUPP) {
            // net_af_xdp has no tx_done_cleanup but reclaims its completion ring on every tx burst, even an empty one.
            txQueue(queue).emptyBurst();
        }
        return rc;
    }

    @Override
    public void close() {
        if (isClosed()) {
            return;
        }
        final Closer closer = new Closer("dpdk: closing " + device.name);
        try {
            // Future.get orders the control thread's steps before the report below.
            closer.run("closing on the control thread", () -> control.run(() -> closeQuietly(closer)));
        } finally {
            control.shutdown();
        }
        closer.throwIfFailed();
    }

    /** Releases everything (see {@link DeviceClose}); every step runs even if one fails, each failure recorded in {@code closer}. */
    private void closeQuietly(final Closer closer) {
        synchronized (OPEN_LOCK) {
            synchronized (this) {
                DeviceClose.closeLocked(this, device, statistics, closer);
            }
        }
    }

    /** For {@link DeviceClose}: marks the port closed, so its queues refuse work from now on. */
    void markClosing() {
        markClosed();
    }

    /**
     * For {@link DeviceClose}: a TX queue, whose stashed mbufs go back to the mempool.
     *
     * @param id the queue
     * @return the queue
     */
    DpdkTxQueue txQueueOf(final int id) {
        return txQueueAt(id);
    }

    @Override
    public String toString() {
        return "dpdk port " + portId() + " (" + device.name + ")";
    }

    /**
     * {@inheritDoc}
     *
     * <p>The RX queue of a {@code net_null} port, DPDK's in-memory PMD, whose mbufs are
     * overwritten with the frame: the warm-up runs this backend's own burst loop with frames.
     */
    @Override
    public io.bypass.RxQueue warmUpRxQueue(final org.agrona.DirectBuffer frame, final int offset, final int length,
                                           final Counters counters) {
        checkOpen();
        return warmUp.rxQueue(frame, offset, length);
    }

    /** {@inheritDoc} The TX queue of the same {@code net_null} port, which frees what it is given. */
    @Override
    public io.bypass.TxQueue warmUpTxQueue(final Counters counters) {
        checkOpen();
        return warmUp.txQueue();
    }

    /** {@inheritDoc} */
    @Override
    public void closeWarmUp() {
        warmUp.close();
    }
}
