package io.bypass.dpdk.internal;

import io.bypass.BypassException;
import io.bypass.BypassUriException;
import io.bypass.Capability;
import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.FlowRule;
import io.bypass.PortUri;
import io.bypass.dpdk.DpdkContext;
import io.bypass.dpdk.DpdkPort;
import io.bypass.dpdk.internal.gen.Eal;
import io.bypass.dpdk.internal.gen.Ethdev;
import io.bypass.dpdk.internal.gen.Mbuf;
import io.bypass.dpdk.internal.gen.rte_eth_conf;
import io.bypass.dpdk.internal.gen.rte_eth_dev_info;
import io.bypass.dpdk.internal.gen.rte_eth_link;
import io.bypass.dpdk.internal.gen.rte_eth_rss_conf;
import io.bypass.dpdk.internal.gen.rte_eth_rxmode;
import io.bypass.dpdk.internal.gen.rte_eth_stats;
import io.bypass.dpdk.internal.gen.rte_eth_txmode;
import io.bypass.dpdk.internal.gen.rte_eth_xstat;
import io.bypass.dpdk.internal.gen.rte_eth_xstat_name;
import io.bypass.net.Ipv4;
import io.bypass.spi.AbstractPort;
import io.bypass.spi.Closer;
import io.bypass.spi.RxStallBudget;
import io.bypass.spi.WarmUpQueues;
import io.bypass.spi.XdpOwners;
import io.bypass.udp.L2UdpEndpoint;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A DPDK ethdev port: device probed (vdev hotplug or PCI), one mempool, N RX and TX queues
 * (RSS across RX queues when N &gt; 1), started; statistics copied into {@link Counters} on
 * demand. Close stops and closes the port, removes the device and frees the mempool.
 */
public final class DpdkPortImpl extends AbstractPort<DpdkRxQueue, DpdkTxQueue> implements DpdkPort, WarmUpQueues {
    private static final System.Logger LOG = System.getLogger(DpdkPortImpl.class.getName());

    /** Buffers DPDK 22.11's net_af_xdp PMD gives the kernel's fill ring (ETH_AF_XDP_DFLT_NUM_DESCS), whatever rxDesc says. */
    static final int AF_XDP_PMD_BUFFERS = 2048;

    /** URI keys of the backend itself. */
    public static final Set<String> URI_KEYS = Set.of("ip", "gateway", "rxQueues", "txQueues", "rxDesc", "txDesc",
        "mbufs", "mbufCache", "burst", "promisc", "allmulti", "mtu", "lcores", "prefix", "hugepages", "memory");
    private static final Set<String> ALL_KEYS = io.bypass.spi.UriRules.union(URI_KEYS, RxStallBudget.URI_PARAMETERS,
        L2UdpEndpoint.URI_PARAMETERS);

    private static final AtomicInteger POOL_SEQUENCE = new AtomicInteger();
    /** Ports open and close one at a time: device names, hotplug and the XSK leak guard's view of the fds. */
    private static final Object OPEN_LOCK = new Object();
    /** Open net_af_xdp ports of this process per interface (netns/iface, see XdpAttachment.key); under OPEN_LOCK. */
    private static final Map<String, Integer> OWN_XDP = new java.util.HashMap<>();
    private static final int EOPNOTSUPP = 95;
    /** How often the control thread checks that net_af_xdp's XDP program is still attached. */
    private static final long XDP_CHECK_MILLIS = 1000;
    private static final int LINK_STATUS_BIT = 1 << 2; // rte_eth_link: duplex bit 0, autoneg bit 1, status bit 2 of byte 4

    private final String deviceName;
    private final boolean removeDevice;
    private final short portId;
    private final Arena arena = Arena.ofShared();
    private final Map<Integer, Integer> groups = new LinkedHashMap<>();
    private MemorySegment mempool = MemorySegment.NULL;
    private boolean configured;
    private boolean started;
    private long txOffloads;
    private long rxOffloads;
    private MemorySegment statsSegment;
    private MemorySegment linkSegment;
    private MulticastFilter multicastFilter = MulticastFilter.MAC_LIST;
    private boolean promiscuous;
    /** The kernel interface's flags when the port opened (socket vdevs), -1 if none or unreadable. */
    private int kernelFlagsAtOpen = -1;
    private boolean allMulticast;
    private Map<Integer, String> xdpSockets = Map.of();
    /** This port's entry in OWN_XDP, or null. */
    private String xdpKey;
    /** Kernel drop statistics of the net_af_packet / net_af_xdp PMD's sockets, which rte_eth_stats leaves out; or null. */
    private PmdSocketStats socketStats;
    /** Set when closing the device would crash DPDK (see the net_af_xdp queue setup failure). */
    private boolean abandoned;
    /** Watches net_af_xdp's XDP program on the interface; null for other PMDs. Used on the control thread. */
    private XdpProgramWatch xdpWatch;
    private final ScheduledThreadPoolExecutor control;
    private volatile Thread controlThread;

    private DpdkPortImpl(final PortUri uri, final String deviceName, final boolean removeDevice, final short portId,
                         final int ip, final int prefix, final int gateway) {
        super("dpdk", uri);
        // The hand-written and generated bindings the bursts call (see HotPathStrings).
        io.bypass.spi.HotPathStrings.intern(Rte.class, io.bypass.dpdk.internal.gen.shim.Shim.class,
            io.bypass.dpdk.internal.gen.Mbuf.class);
        this.deviceName = deviceName;
        this.removeDevice = removeDevice;
        this.portId = portId;
        // From the URI; the MAC and MTU follow once the port is started.
        identity(0, ip, prefix, gateway, 0);
        // Control-path calls of vdev PMDs name the kernel interface (ioctl by name, netlink by ifindex) in the
        // calling thread's network namespace. A thread inherits its creator's namespace, so the control thread,
        // started here on the opening thread, stays in the port's namespace whichever thread asks later;
        // closing net_af_xdp from another namespace would detach XDP from whatever has that ifindex there.
        // Scheduled: it also runs the periodic check of net_af_xdp's XDP program (see watchXdpProgram);
        // shutdown cancels that check.
        this.control = new ScheduledThreadPoolExecutor(1, r -> {
            final Thread t = new Thread(r, "bypass-dpdk-control-" + deviceName);
            t.setDaemon(true);
            controlThread = t;
            return t;
        });
        control.prestartCoreThread();
    }

    /** Runs a control-path step on the port's control thread (in the port's network namespace). */
    private <T> T onControl(final Callable<T> task) {
        if (Thread.currentThread() == controlThread) {
            try {
                return task.call();
            } catch (final RuntimeException e) {
                throw e;
            } catch (final Exception e) {
                throw new BypassException("dpdk: " + e, e);
            }
        }
        final Future<T> f;
        try {
            f = control.submit(task);
        } catch (final RejectedExecutionException e) {
            throw closedException();
        }
        try {
            return f.get();
        } catch (final ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new BypassException("dpdk: " + e.getCause(), e.getCause());
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BypassException("dpdk: interrupted waiting for the control thread of " + deviceName);
        }
    }

    private void onControl(final Runnable task) {
        onControl(() -> {
            task.run();
            return null;
        });
    }

    /**
     * For {@code auto:}: DPDK needs devargs or a PCI address, not a kernel interface name.
     *
     * @param uri the URI
     * @return null if the target looks like devargs, else the reason to pass
     */
    public static String cannotServe(final PortUri uri) {
        final String name = deviceName(uri.target());
        return name.startsWith("net_") || EalRuntime.isPci(name) ? null
            : "dpdk needs a vdev (net_af_xdp0,iface=" + uri.target() + ") or a PCI address, not a kernel interface name";
    }

    /**
     * Fails early, before any device is touched, when a UDP endpoint is asked for without an address.
     *
     * @param uri the URI
     */
    public static void requireIpForUdp(final PortUri uri) {
        if (uri.get("ip") == null) {
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
        uri.requireOnly(ALL_KEYS);
        final RxStallBudget budget = RxStallBudget.from(uri);
        final String devargs = withStallDepth(uri.target(), budget);
        if (devargs.isBlank()) {
            throw new BypassUriException(uri.text(), "missing devargs: dpdk:net_af_xdp0,iface=eth1, dpdk:net_af_packet0,iface=eth1 or dpdk:0000:03:00.0");
        }
        final String name = deviceName(devargs);
        final boolean pci = EalRuntime.isPci(name);
        if (!pci && !name.matches("net_[a-z0-9_]+")) {
            throw new BypassUriException(uri.text(), "bad devargs '" + devargs + "': expected a virtual device such as "
                + "net_af_xdp0,iface=eth1 / net_af_packet0,iface=eth1 / net_tap0,iface=tap0, or a PCI address such as 0000:03:00.0");
        }
        // ip, gateway
        int ip = 0;
        int prefix = 0;
        int gateway = 0;
        final String ipText = uri.get("ip");
        if (ipText != null) {
            final int slash = ipText.indexOf('/');
            try {
                ip = Ipv4.parse(slash < 0 ? ipText : ipText.substring(0, slash));
                prefix = slash < 0 ? 32 : Integer.parseInt(ipText.substring(slash + 1));
            } catch (final IllegalArgumentException e) {
                throw new BypassUriException(uri.text(), "parameter 'ip' must be A.B.C.D/NN, got '" + ipText + "'");
            }
            if (prefix < 0 || prefix > 32) {
                throw new BypassUriException(uri.text(), "prefix length in 'ip' must be 0..32, got " + prefix);
            }
        }
        if (uri.get("gateway") != null) {
            try {
                gateway = Ipv4.parse(uri.get("gateway"));
            } catch (final IllegalArgumentException e) {
                throw new BypassUriException(uri.text(), "parameter 'gateway' must be A.B.C.D, got '" + uri.get("gateway") + "'");
            }
        }
        final DpdkContext ctx = EalRuntime.defaults().copy();
        final List<String> explicitEal = new ArrayList<>();
        if (uri.get("lcores") != null) {
            ctx.lcores(uri.get("lcores"));
            explicitEal.add("lcores");
        }
        if (uri.get("prefix") != null) {
            ctx.filePrefix(uri.get("prefix"));
            explicitEal.add("prefix");
        }
        if (uri.get("hugepages") != null) {
            ctx.hugepages(uri.getBoolean("hugepages", false));
            explicitEal.add("hugepages");
        }
        if (uri.get("memory") != null) {
            ctx.memoryMb(uri.getInt("memory", 0, 1, 1 << 20));
            explicitEal.add("memory");
        }
        // RX descriptors hold what arrives while the polling thread stalls (RxStallBudget); the
        // PMD clamps them to what it supports (rte_eth_dev_adjust_nb_rx_tx_desc). Not on the two
        // kernel-socket vdevs, where more buys only mempool: net_af_packet buffers in its framecnt
        // ring, and net_af_xdp's RX ring (its rxDesc) can hold no more than the 2048 buffers it posts.
        final int budgetDesc = name.startsWith("net_af_packet") ? DpdkContext.DEFAULT_RX_DESC
            : name.startsWith("net_af_xdp") ? AF_XDP_PMD_BUFFERS : budget.ringSize(DpdkContext.DEFAULT_RX_DESC, 32768);
        ctx.rxDesc(uri.getInt("rxDesc", ctx.rxDesc() == DpdkContext.DEFAULT_RX_DESC ? budgetDesc : ctx.rxDesc(), 1, 32768));
        ctx.txDesc(uri.getInt("txDesc", ctx.txDesc(), 1, 32768));
        ctx.mbufs(uri.getInt("mbufs", ctx.mbufs(), 0, 1 << 24));
        ctx.mbufCache(uri.getInt("mbufCache", ctx.mbufCache(), 0, 512));
        ctx.burst(uri.getInt("burst", ctx.burst(), 1, 512));
        final int nRx = uri.getInt("rxQueues", 1, 1, 1024);
        final int nTx = uri.getInt("txQueues", 1, 1, 1024);
        final int mtuParam = uri.getInt("mtu", 0, 68, 65535);
        final boolean promisc = uri.getBoolean("promisc", false);
        final boolean allmulti = uri.getBoolean("allmulti", false);
        ctx.conclude();

        final Throwable cause = NativeLibraries.cause();
        if (cause != null) {
            throw new io.bypass.BackendUnavailableException("dpdk: backend unavailable: " + cause.getMessage(), cause);
        }
        EalRuntime.ensureStarted(ctx, pci ? name : null, explicitEal);

        synchronized (OPEN_LOCK) {
            return openLocked(uri, devargs, name, ctx, ip, prefix, gateway, nRx, nTx, mtuParam, promisc, allmulti);
        }
    }

    /**
     * net_af_packet's kernel ring is its {@code framecnt} devarg (512 frames by default), not the
     * RX descriptors: size it from the stall budget unless the devargs say otherwise.
     */
    static String withStallDepth(final String devargs, final RxStallBudget budget) {
        if (devargs.startsWith("net_af_xdp") && budget.frames() > AF_XDP_PMD_BUFFERS) {
            System.getLogger("io.bypass.dpdk").log(System.Logger.Level.WARNING, "dpdk: DPDK 22.11's net_af_xdp posts at most "
                + AF_XDP_PMD_BUFFERS + " buffers to the kernel whatever rxDesc is (" + budget.describe(AF_XDP_PMD_BUFFERS)
                + "): a longer stall of the polling thread loses frames (counted as fill_ring_empty); use afxdp:IFACE, "
                + "or net_af_packet with framecnt, for a deeper buffer on this interface");
        }
        if (!devargs.startsWith("net_af_packet") || devargs.contains("framecnt=")) {
            return devargs;
        }
        return devargs + ",framecnt=" + afPacketFramecnt(budget);
    }

    /** net_af_packet's {@code framecnt} when the devargs give none: the stall budget's frames. */
    static int afPacketFramecnt(final RxStallBudget budget) {
        return budget.ringSize(512, 1 << 16);
    }

    private static DpdkPortImpl openLocked(final PortUri uri, final String devargs, final String name, final DpdkContext ctx,
                                           final int ip, final int prefix, final int gateway, final int nRx, final int nTx,
                                           final int mtuParam, final boolean promisc, final boolean allmulti) {
        final Map<Integer, String> xdpBefore = name.startsWith("net_af_xdp") ? XskLeakGuard.xdpSockets() : null;
        final Map<Integer, String> packetBefore = name.startsWith("net_af_packet")
            ? XskLeakGuard.sockets(PmdSocketStats.AF_PACKET) : null;
        // Reuse a port the EAL probed at start (PCI allowlist), else hotplug the device now, on this thread.
        short portId = findPort(name);
        boolean probedHere = false;
        final String xdpIface = name.startsWith("net_af_xdp") ? devarg(devargs, "iface") : null;
        final String xdpKey = xdpIface == null ? null : XdpAttachment.key(xdpIface);
        if (portId < 0 && xdpIface != null && !OWN_XDP.containsKey(xdpKey)) {
            refuseForeignXdp(xdpIface);
        }
        if (portId < 0) {
            EalRuntime.probe(devargs, name);
            probedHere = true;
            portId = findPort(name);
            if (portId < 0) {
                final String err = EalRuntime.remove(name);
                throw new BypassException("dpdk: device " + name + " was probed but no ethdev port appeared (is it a network "
                    + "device?)" + (err == null ? "" : "; " + err));
            }
        }
        final DpdkPortImpl port = new DpdkPortImpl(uri, name, true, portId, ip, prefix, gateway);
        try {
            port.start(ctx, nRx, nTx, mtuParam, promisc, allmulti);
            if (xdpBefore != null) {
                port.xdpSockets = XskLeakGuard.created(xdpBefore, XskLeakGuard.xdpSockets());
                port.socketStats = PmdSocketStats.afXdp(port.xdpSockets, port.arena);
            }
            if (packetBefore != null) {
                port.socketStats = PmdSocketStats.afPacket(packetBefore, XskLeakGuard.sockets(PmdSocketStats.AF_PACKET),
                    devarg(devargs, "iface"), port.arena);
            }
            if (xdpKey != null) {
                OWN_XDP.merge(xdpKey, 1, Integer::sum);
                port.xdpKey = xdpKey;
                port.watchXdpProgram(xdpIface);
            }
            if ((xdpBefore != null || packetBefore != null) && port.socketStats == null) {
                LOG.log(System.Logger.Level.WARNING, "dpdk: found none of the sockets {0} opened, so the kernel''s drops on "
                    + "them (ring full) are not counted", name);
            }
            return port;
        } catch (final RuntimeException e) {
            if (xdpBefore != null) {
                port.xdpSockets = XskLeakGuard.created(xdpBefore, XskLeakGuard.xdpSockets());
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

    /**
     * Refuses to open net_af_xdp on an interface that already has an XDP program this process did
     * not attach. The usual one is net_af_xdp's own, left by a JVM killed (SIGKILL) with an open
     * port; it cannot be told apart from a live process's program, so it is never removed here.
     */
    private static void refuseForeignXdp(final String iface) {
        final XdpAttachment.Program attached = XdpAttachment.attachedProgram(iface);
        if (attached != null) {
            throw new BypassException("dpdk: an XDP program (" + attached + ") is already attached to " + iface
                + " and no port of this process put it there; net_af_xdp would share or replace it. "
                + XdpOwners.describe(iface, attached.id(), attached.name()) + "; then open the port again");
        }
    }

    /**
     * Notes the XDP program net_af_xdp attached and checks once a second, on the control thread
     * (in the port's network namespace, off the hot path), that it is still there: removed from
     * outside ({@code ip link set dev IFACE xdp off}), the port would otherwise just go quiet.
     */
    private void watchXdpProgram(final String iface) {
        xdpWatch = XdpProgramWatch.start(iface, deviceName);
        if (xdpWatch != null) {
            control.scheduleWithFixedDelay(this::checkXdpProgram, XDP_CHECK_MILLIS, XDP_CHECK_MILLIS, TimeUnit.MILLISECONDS);
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

    /** @return the value of {@code key=} in comma-separated devargs, or null */
    /** @return true if the kernel interface had {@code flag} when the port opened */
    private boolean kernelHad(final int flag) {
        return kernelFlagsAtOpen >= 0 && (kernelFlagsAtOpen & flag) != 0;
    }

    /** @return the kernel interface a socket vdev runs on ({@code iface=} in its devargs), or null */
    private String kernelIface() {
        return deviceName.startsWith("net_af_packet") || deviceName.startsWith("net_af_xdp")
            ? devarg(uri().target(), "iface") : null;
    }

    private static String devarg(final String devargs, final String key) {
        for (final String part : devargs.split(",")) {
            if (part.startsWith(key + "=")) {
                return part.substring(key.length() + 1).strip();
            }
        }
        return null;
    }

    private static String deviceName(final String devargs) {
        final int comma = devargs.indexOf(',');
        return (comma < 0 ? devargs : devargs.substring(0, comma)).strip();
    }

    private static short findPort(final String name) {
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment id = a.allocate(ValueLayout.JAVA_SHORT);
            final int rc = Ethdev.rte_eth_dev_get_port_by_name(a.allocateFrom(name), id);
            return rc == 0 ? id.get(ValueLayout.JAVA_SHORT, 0) : -1;
        }
    }

    private void start(final DpdkContext ctx, final int nRx, final int nTx, final int mtuParam,
                       final boolean promisc, final boolean allmulti) {
        // Before rte_eth_dev_start, which clears them, and on the opening thread, whose network
        // namespace is the interface's.
        kernelFlagsAtOpen = kernelIface() == null ? -1 : KernelLinkFlags.of(kernelIface());
        final MemorySegment info = rte_eth_dev_info.allocate(arena);
        check(Ethdev.rte_eth_dev_info_get(portId, info), "rte_eth_dev_info_get");
        final int maxRx = rte_eth_dev_info.max_rx_queues(info) & 0xFFFF;
        final int maxTx = rte_eth_dev_info.max_tx_queues(info) & 0xFFFF;
        if (nRx > maxRx || nTx > maxTx) {
            throw new BypassException("dpdk: " + deviceName + " has at most " + maxRx + " RX and " + maxTx + " TX queues, "
                + "asked for rxQueues=" + nRx + " txQueues=" + nTx + "; lower them (for net_af_xdp/net_af_packet also raise "
                + "the devargs' queue_count=/qpairs= and the interface's channels: ethtool -L)");
        }
        final long txCapa = rte_eth_dev_info.tx_offload_capa(info);
        final long rxCapa = rte_eth_dev_info.rx_offload_capa(info);
        final long rssCapa = rte_eth_dev_info.flow_type_rss_offloads(info);
        final EnumSet<Capability> caps = EnumSet.of(Capability.L2_FRAMES, Capability.ZERO_COPY_RX, Capability.ZERO_COPY_TX,
            Capability.MULTICAST);

        final MemorySegment conf = rte_eth_conf.allocate(arena);
        final long rxmode = rte_eth_conf.rxmode$offset();
        final long txmode = rte_eth_conf.txmode$offset();
        if (nRx > 1) {
            conf.set(ValueLayout.JAVA_INT, rxmode + rte_eth_rxmode.mq_mode$offset(), Ethdev.RTE_ETH_MQ_RX_RSS());
            final long rssHf = (Ethdev.RTE_ETH_RSS_IP() | Ethdev.RTE_ETH_RSS_UDP()) & rssCapa;
            conf.set(ValueLayout.JAVA_LONG, rte_eth_conf.rx_adv_conf$offset() + rte_eth_conf.rx_adv_conf.rss_conf$offset()
                + rte_eth_rss_conf.rss_hf$offset(), rssHf);
        }
        if (mtuParam > 0) {
            conf.set(ValueLayout.JAVA_INT, rxmode + rte_eth_rxmode.mtu$offset(), mtuParam);
        }
        // UDP checksum offload only where the PMD does it; the TX queue then marks each UDP/IPv4 mbuf.
        final long wantTx = Ethdev.RTE_ETH_TX_OFFLOAD_UDP_CKSUM();
        if ((txCapa & wantTx) == wantTx) {
            txOffloads = wantTx;
            conf.set(ValueLayout.JAVA_LONG, txmode + rte_eth_txmode.offloads$offset(), txOffloads);
            caps.add(Capability.TX_CHECKSUM_OFFLOAD);
        }
        // RX checksum verdicts where the PMD gives them: the UDP layer then skips its own sum.
        final long wantRx = Ethdev.RTE_ETH_RX_OFFLOAD_IPV4_CKSUM() | Ethdev.RTE_ETH_RX_OFFLOAD_UDP_CKSUM();
        if ((rxCapa & wantRx) == wantRx) {
            rxOffloads = wantRx;
            conf.set(ValueLayout.JAVA_LONG, rxmode + rte_eth_rxmode.offloads$offset(), rxOffloads);
            caps.add(Capability.RX_CHECKSUM_VERDICT);
        }
        if (nRx > 1 || nTx > 1) {
            caps.add(Capability.MULTI_QUEUE);
        }
        capabilities(caps);
        check(Ethdev.rte_eth_dev_configure(portId, (short) nRx, (short) nTx, conf), "rte_eth_dev_configure(" + nRx + " rx, "
            + nTx + " tx queues" + (mtuParam > 0 ? ", mtu " + mtuParam : "") + ")");
        configured = true;

        final MemorySegment rxDescSeg = arena.allocate(ValueLayout.JAVA_SHORT);
        final MemorySegment txDescSeg = arena.allocate(ValueLayout.JAVA_SHORT);
        rxDescSeg.set(ValueLayout.JAVA_SHORT, 0, (short) ctx.rxDesc());
        txDescSeg.set(ValueLayout.JAVA_SHORT, 0, (short) ctx.txDesc());
        check(Ethdev.rte_eth_dev_adjust_nb_rx_tx_desc(portId, rxDescSeg, txDescSeg), "rte_eth_dev_adjust_nb_rx_tx_desc");
        final int rxDesc = rxDescSeg.get(ValueLayout.JAVA_SHORT, 0) & 0xFFFF;
        final int txDesc = txDescSeg.get(ValueLayout.JAVA_SHORT, 0) & 0xFFFF;

        int socket = Ethdev.rte_eth_dev_socket_id(portId);
        if (socket < 0) {
            socket = Eal.SOCKET_ID_ANY();
        }
        final int burst = ctx.burst();
        // Every descriptor of every ring, each TX queue's stash and pending list, the lcore caches, and slack.
        final int needed = nRx * rxDesc + nTx * (txDesc + 3 * burst) + 2 * ctx.mbufCache() + 1024;
        // At least 2^13-1 (a full mempool ring); above that exactly what is needed, since a
        // stall-budget-sized RX ring would double to a mostly idle 2^15-1 otherwise.
        final int mbufs = ctx.mbufs() > 0 ? ctx.mbufs() : Math.max(8191, needed);
        final int cache = Math.min(ctx.mbufCache(), mbufs / 2);
        final String poolName = "bypass_" + POOL_SEQUENCE.incrementAndGet() + "_" + (ProcessHandle.current().pid() % 100000);
        mempool = Mbuf.rte_pktmbuf_pool_create(arena.allocateFrom(poolName), mbufs, cache, (short) 0,
            (short) Mbuf.RTE_MBUF_DEFAULT_BUF_SIZE(), socket);
        if (mempool.equals(MemorySegment.NULL)) {
            final int err = Rte.errno();
            mempool = MemorySegment.NULL;
            throw new BypassException("dpdk: rte_pktmbuf_pool_create(" + poolName + ", " + mbufs + " mbufs of "
                + Mbuf.RTE_MBUF_DEFAULT_BUF_SIZE() + " bytes) failed: " + Rte.strerror(err) + "; lower mbufs= or raise the "
                + "EAL memory (memory=MB, running: " + String.join(" ", EalRuntime.arguments()) + ")");
        }
        for (int q = 0; q < nRx; q++) {
            final int rc = Ethdev.rte_eth_rx_queue_setup(portId, (short) q, (short) rxDesc, socket, MemorySegment.NULL, mempool);
            if (rc < 0 && isAfXdp()) {
                // DPDK 22.11's net_af_xdp frees the queue's UMEM on this failure but keeps a pointer to it, and
                // rte_eth_dev_close (also run by device removal) then frees it again and crashes the process.
                // So the half-configured device is abandoned: never closed or removed, its name stays taken.
                abandoned = true;
                throw new BypassException("dpdk: rte_eth_rx_queue_setup(queue " + q + ", " + rxDesc + " descriptors) on "
                    + deviceName + " failed: " + Rte.strerror(rc) + "; is another AF_XDP socket or XDP program on this "
                    + "interface queue (ip link show; the EAL log on stderr says more)? The half-configured " + deviceName
                    + " stays allocated in this process (DPDK 22.11 crashes closing it), so open the next port under "
                    + "another vdev name" + DpdkPrivileges.privilegeRemedy(deviceName));
            }
            check(rc, "rte_eth_rx_queue_setup(queue " + q + ", " + rxDesc + " descriptors)");
        }
        for (int q = 0; q < nTx; q++) {
            check(Ethdev.rte_eth_tx_queue_setup(portId, (short) q, (short) txDesc, socket, MemorySegment.NULL),
                "rte_eth_tx_queue_setup(queue " + q + ", " + txDesc + " descriptors)");
        }
        check(Ethdev.rte_eth_dev_start(portId), "rte_eth_dev_start");
        started = true;

        // rte_eth_dev_start has just cleared the kernel interface's PROMISC and ALLMULTI (it restores
        // DPDK's own state, off): a mode the interface had before is put back, and not turned off at close.
        if (kernelHad(KernelLinkFlags.PROMISC)) {
            check(Ethdev.rte_eth_promiscuous_enable(portId), "rte_eth_promiscuous_enable (the interface was promiscuous)");
        }
        if (kernelHad(KernelLinkFlags.ALLMULTI)) {
            check(Ethdev.rte_eth_allmulticast_enable(portId), "rte_eth_allmulticast_enable (the interface was all-multicast)");
        }
        if (promisc && !kernelHad(KernelLinkFlags.PROMISC)) {
            check(Ethdev.rte_eth_promiscuous_enable(portId), "rte_eth_promiscuous_enable");
            promiscuous = true;
        }
        if (allmulti && !kernelHad(KernelLinkFlags.ALLMULTI)) {
            check(Ethdev.rte_eth_allmulticast_enable(portId), "rte_eth_allmulticast_enable");
            allMulticast = true;
        }
        final MemorySegment mac = arena.allocate(8);
        check(Ethdev.rte_eth_macaddr_get(portId, mac), "rte_eth_macaddr_get");
        long m = 0;
        for (int i = 0; i < 6; i++) {
            m = (m << 8) | (mac.get(ValueLayout.JAVA_BYTE, i) & 0xFF);
        }
        final MemorySegment mtuSeg = arena.allocate(ValueLayout.JAVA_SHORT);
        final int mtu = Ethdev.rte_eth_dev_get_mtu(portId, mtuSeg) == 0 ? mtuSeg.get(ValueLayout.JAVA_SHORT, 0) & 0xFFFF
            : (mtuParam > 0 ? mtuParam : 1500);
        identity(m, ipv4Address(), ipv4PrefixLength(), ipv4Gateway(), mtu);

        final int dataRoom = Mbuf.RTE_MBUF_DEFAULT_BUF_SIZE() - Mbuf.RTE_PKTMBUF_HEADROOM();
        final int maxFrame = Math.min(dataRoom, mtu + 14 + 4);
        // The queues' burst arrays are passed to a downcall on every burst. Segments of a shared arena would cost
        // two atomic operations per downcall (keeping the arena alive during the call); an automatic arena's
        // cost nothing, and the garbage collector frees them once the closed port is unreachable.
        final Arena queueArena = Arena.ofAuto();
        final DpdkRxQueue[] rxQueues = new DpdkRxQueue[nRx];
        for (int q = 0; q < nRx; q++) {
            rxQueues[q] = new DpdkRxQueue(this, portId, q, burst, queueArena, rxOffloads != 0);
        }
        final DpdkTxQueue[] txQueues = new DpdkTxQueue[nTx];
        for (int q = 0; q < nTx; q++) {
            txQueues[q] = new DpdkTxQueue(this, portId, q, burst, Math.max(burst, txDesc), maxFrame, mempool, txOffloads,
                queueArena);
        }
        queues(rxQueues, txQueues);
        statsSegment = rte_eth_stats.allocate(arena);
        linkSegment = rte_eth_link.allocate(arena);
        counters().refresher(this::refreshStats);
    }

    private static void sleep(final long millis) {
        try {
            Thread.sleep(millis);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BypassException("dpdk: interrupted while opening the port");
        }
    }

    private boolean isAfXdp() {
        return deviceName.startsWith("net_af_xdp");
    }

    private void check(final int rc, final String call) {
        if (rc < 0) {
            final String hint = -rc == EOPNOTSUPP ? "the " + deviceName + " PMD does not support it"
                : -rc == 22 ? "a value is outside what the device allows (rte_eth_dev_info: queues, descriptors, MTU)"
                : "see the EAL log on stderr";
            throw new BypassException("dpdk: " + call + " on " + deviceName + " (port " + portId + ") failed: "
                + Rte.strerror(rc) + "; " + hint);
        }
    }

    /**
     * Copies rte_eth_stats into the counters; off the hot path, on whichever thread reads counters.
     * imissed counts as a full RX ring, ierrors as other receive drops, rx_nombuf as no buffer,
     * oerrors as refused TX. (The per-queue q_errors are not added: PMDs count the same frames in
     * ierrors or imissed, and 22.11's af_packet and af_xdp fill neither.) For net_af_packet and
     * net_af_xdp the kernel's own statistics of the PMD's sockets are added, see {@link PmdSocketStats},
     * and net_af_xdp's XDP program is checked to be still attached, see {@link XdpProgramWatch}.
     */
    private void refreshStats() {
        if (isClosed()) {
            return;
        }
        try {
            onControl(this::copyStats);
        } catch (final BypassException e) {
            // closed meanwhile: the counters keep their last values
        }
    }

    private void copyStats() {
        synchronized (this) {
            if (isClosed()) {
                return;
            }
            readStatsLocked();
        }
        checkXdpProgram();
    }

    private void readStatsLocked() {
        if (statsSegment == null || Ethdev.rte_eth_stats_get(portId, statsSegment) != 0) {
            return;
        }
        long ringFull = rte_eth_stats.imissed(statsSegment);
        long other = rte_eth_stats.ierrors(statsSegment);
        long txInvalid = rte_eth_stats.oerrors(statsSegment);
        long fillEmpty = 0;
        final Counters counters = counters();
        final PmdSocketStats kernel = socketStats;
        if (kernel != null) {
            kernel.read();
            if (kernel.family() == PmdSocketStats.AF_XDP) {
                // net_af_xdp's imissed is XDP rx_dropped, which rxOther() and fillRingEmpty() split up.
                ringFull = kernel.rxRingFull();
                fillEmpty = kernel.fillRingEmpty();
                other += kernel.rxOther();
                txInvalid += kernel.txInvalid();
            } else {
                ringFull += kernel.rxRingFull();
            }
        }
        counters.set(Counter.DROP_RX_RING_FULL, ringFull);
        counters.set(Counter.DROP_FILL_RING_EMPTY, fillEmpty);
        counters.set(Counter.DROP_RX_OTHER, other);
        counters.set(Counter.DROP_NO_BUFFER, rte_eth_stats.rx_nombuf(statsSegment));
        counters.set(Counter.DROP_TX_INVALID, txInvalid);
    }

    @Override
    public void addFlow(final int rxQueueId, final FlowRule rule) {
        checkOpen();
        // No FLOW_STEERING capability: every frame is delivered (RSS spreads them), so this is a no-op by contract.
    }

    @Override
    public void removeFlow(final int rxQueueId, final FlowRule rule) {
        checkOpen();
    }

    @Override
    public void joinMulticast(final int group) {
        checkOpen();
        onControl(() -> join(group));
    }

    private synchronized void join(final int group) {
        checkOpen();
        if (!Ipv4.isMulticast(group)) {
            throw new IllegalArgumentException(Ipv4.toString(group) + " is not a multicast group");
        }
        final Integer count = groups.get(group);
        groups.put(group, count == null ? 1 : count + 1);
        if (count == null) {
            programMulticast();
        }
    }

    @Override
    public void leaveMulticast(final int group) {
        checkOpen();
        onControl(() -> leave(group));
    }

    private synchronized void leave(final int group) {
        checkOpen();
        final Integer count = groups.get(group);
        if (count == null) {
            return;
        }
        if (count > 1) {
            groups.put(group, count - 1);
        } else {
            groups.remove(group);
            programMulticast();
        }
    }

    /** Programs the group MACs (01:00:5e + low 23 bits); falls back to all-multicast, then promiscuous, and says so. */
    private void programMulticast() {
        if (multicastFilter == MulticastFilter.MAC_LIST) {
            final int n = groups.size();
            try (Arena a = Arena.ofConfined()) {
                final MemorySegment list = a.allocate(6L * Math.max(1, n));
                int i = 0;
                for (final int g : groups.keySet()) {
                    final long mac = 0x01005E000000L | (g & 0x7FFFFFL);
                    for (int b = 0; b < 6; b++) {
                        list.set(ValueLayout.JAVA_BYTE, 6L * i + b, (byte) (mac >>> (40 - 8 * b)));
                    }
                    i++;
                }
                final int rc = Ethdev.rte_eth_dev_set_mc_addr_list(portId, n == 0 ? MemorySegment.NULL : list, n);
                if (rc == 0) {
                    return;
                }
                if (-rc != EOPNOTSUPP) {
                    check(rc, "rte_eth_dev_set_mc_addr_list(" + n + " groups)");
                }
            }
            LOG.log(System.Logger.Level.INFO, "dpdk: {0} has no multicast MAC filter list; receiving all multicast instead",
                deviceName);
            multicastFilter = MulticastFilter.ALL_MULTICAST;
        }
        if (multicastFilter == MulticastFilter.ALL_MULTICAST) {
            if (allMulticast || kernelHad(KernelLinkFlags.ALLMULTI) || kernelHad(KernelLinkFlags.PROMISC)) {
                return;
            }
            final int rc = Ethdev.rte_eth_allmulticast_enable(portId);
            if (rc == 0) {
                allMulticast = true;
                return;
            }
            if (-rc != EOPNOTSUPP) {
                check(rc, "rte_eth_allmulticast_enable");
            }
            LOG.log(System.Logger.Level.WARNING, "dpdk: {0} has neither a multicast filter list nor all-multicast; "
                + "making the port promiscuous to receive joined groups", deviceName);
            multicastFilter = MulticastFilter.PROMISCUOUS;
        }
        if (!promiscuous && !kernelHad(KernelLinkFlags.PROMISC)) {
            check(Ethdev.rte_eth_promiscuous_enable(portId), "rte_eth_promiscuous_enable (to receive multicast: the PMD "
                + "has neither a multicast filter list nor all-multicast)");
            promiscuous = true;
        }
    }

    @Override
    public int portId() {
        return portId & 0xFFFF;
    }

    @Override
    public Map<String, Long> extendedStatistics() {
        checkOpen();
        return onControl(this::xstats);
    }

    private synchronized Map<String, Long> xstats() {
        checkOpen();
        try (Arena a = Arena.ofConfined()) {
            // The count can grow between the two calls (queues): ask again until it fits.
            for (int attempt = 0; attempt < 3; attempt++) {
                final int n = Ethdev.rte_eth_xstats_get_names(portId, MemorySegment.NULL, 0);
                check(n, "rte_eth_xstats_get_names");
                if (n == 0) {
                    return Map.of();
                }
                final MemorySegment names = rte_eth_xstat_name.allocateArray(n, a);
                final MemorySegment values = rte_eth_xstat.allocateArray(n, a);
                final int gotNames = Ethdev.rte_eth_xstats_get_names(portId, names, n);
                final int gotValues = Ethdev.rte_eth_xstats_get(portId, values, n);
                check(gotNames, "rte_eth_xstats_get_names");
                check(gotValues, "rte_eth_xstats_get");
                if (gotNames > n || gotValues > n) {
                    continue;
                }
                final Map<String, Long> result = new LinkedHashMap<>();
                for (int i = 0; i < Math.min(gotNames, gotValues); i++) {
                    final MemorySegment v = rte_eth_xstat.asSlice(values, i);
                    final long id = rte_eth_xstat.id(v);
                    if (id >= 0 && id < gotNames) {
                        result.put(rte_eth_xstat_name.name(rte_eth_xstat_name.asSlice(names, id)).getString(0),
                            rte_eth_xstat.value(v));
                    }
                }
                return result;
            }
            throw new BypassException("dpdk: the extended statistics of " + deviceName + " kept changing size");
        }
    }

    @Override
    public boolean isLinkUp() {
        checkOpen();
        return onControl(this::linkUp);
    }

    private synchronized boolean linkUp() {
        checkOpen();
        return Ethdev.rte_eth_link_get_nowait(portId, linkSegment) == 0
            && (linkSegment.get(ValueLayout.JAVA_BYTE, 4) & LINK_STATUS_BIT) != 0;
    }

    @Override
    public int linkSpeedMbps() {
        checkOpen();
        return onControl(this::linkSpeed);
    }

    private synchronized int linkSpeed() {
        checkOpen();
        if (Ethdev.rte_eth_link_get_nowait(portId, linkSegment) != 0) {
            return 0;
        }
        final int speed = rte_eth_link.link_speed(linkSegment);
        return speed == Ethdev.RTE_ETH_SPEED_NUM_UNKNOWN() ? 0 : speed;
    }

    @Override
    public synchronized int mempoolAvailable() {
        checkOpen();
        return Mbuf.rte_mempool_avail_count(mempool);
    }

    @Override
    public synchronized MulticastFilter multicastFilter() {
        return multicastFilter;
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
        final int rc = Ethdev.rte_eth_tx_done_cleanup(portId, (short) queue, 0);
        if (rc == -EOPNOTSUPP) {
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
        final Closer closer = new Closer("dpdk: closing " + deviceName);
        try {
            // Future.get orders the control thread's steps before the report below.
            closer.run("closing on the control thread", () -> onControl(() -> closeQuietly(closer)));
        } finally {
            control.shutdown();
        }
        closer.throwIfFailed();
    }

    /** Releases everything; every step runs even if one fails, each failure recorded in {@code closer}. */
    private void closeQuietly(final Closer closer) {
        synchronized (OPEN_LOCK) {
            synchronized (this) {
                closeLocked(closer);
            }
        }
    }

    private void closeLocked(final Closer closer) {
        if (isClosed()) {
            return;
        }
        if (started && !abandoned) {
            // Last read while the PMD's sockets are still open: drops up to the close stay counted.
            closer.run("reading the statistics", this::readStatsLocked);
        }
        markClosed();
        for (int q = 0; q < txQueueCount(); q++) {
            closer.run("releasing TX queue " + q, txQueueAt(q)::release);
        }
        if (abandoned) {
            closer.run("closing the AF_XDP sockets net_af_xdp left open", () -> XskLeakGuard.closeLeaked(xdpSockets));
            counters().refresher(null);
            closer.close("freeing the port's memory", arena); // the mempool stays: the abandoned PMD may still point into it
            return;
        }
        if (started) {
            restoreReceiveModes(closer);
            check(closer, Ethdev.rte_eth_dev_stop(portId), "rte_eth_dev_stop");
        }
        if (configured || started || removeDevice) {
            // Closing releases the queues (and the mbufs they hold) and, for net_af_xdp, detaches its XDP program.
            check(closer, Ethdev.rte_eth_dev_close(portId), "rte_eth_dev_close");
        }
        if (removeDevice) {
            final String err = EalRuntime.remove(deviceName);
            if (err != null) {
                closer.failed("removing " + deviceName, err);
            }
        }
        closer.run("closing the AF_XDP sockets net_af_xdp left open", () -> {
            final int leaked = XskLeakGuard.closeLeaked(xdpSockets);
            if (leaked > 0) {
                LOG.log(System.Logger.Level.DEBUG, "dpdk: closed {0} AF_XDP socket(s) net_af_xdp left open", leaked);
            }
        });
        if (xdpKey != null) {
            OWN_XDP.computeIfPresent(xdpKey, (k, n) -> n > 1 ? n - 1 : null);
        }
        if (isAfXdp()) {
            // The kernel unbinds a closed AF_XDP socket from its queue in deferred work; give it time, so a port
            // reopened at once on the same queue does not fail (and, see above, cannot be cleaned up).
            closer.run("waiting for the kernel to unbind the AF_XDP sockets", () -> sleep(100));
        }
        if (!mempool.equals(MemorySegment.NULL)) {
            Mbuf.rte_mempool_free(mempool);
            mempool = MemorySegment.NULL;
        }
        counters().refresher(null);
        closer.close("freeing the port's memory", arena);
    }

    private static void check(final Closer closer, final int rc, final String call) {
        if (rc < 0) {
            closer.failed(call, Rte.strerror(rc));
        }
    }

    /**
     * Turns off the promiscuous and all-multicast modes this port turned on (by URI or to receive
     * joined groups). net_af_packet and net_af_xdp set them as flags of the kernel interface,
     * which outlive the port: without this the interface stays promiscuous after exit. The
     * MTU and offloads given at configure stay in the ethdev and do not reach the kernel here.
     */
    private void restoreReceiveModes(final Closer closer) {
        if (promiscuous) {
            check(closer, Ethdev.rte_eth_promiscuous_disable(portId), "rte_eth_promiscuous_disable");
            promiscuous = false;
        }
        if (allMulticast) {
            check(closer, Ethdev.rte_eth_allmulticast_disable(portId), "rte_eth_allmulticast_disable");
            allMulticast = false;
        }
    }

    @Override
    public String toString() {
        return "dpdk port " + portId() + " (" + deviceName + ")";
    }

    private static final java.util.concurrent.atomic.AtomicInteger WARM_UP_PORTS = new java.util.concurrent.atomic.AtomicInteger();
    /** A net_null port whose queues (this backend's own classes) a warm-up runs; polling thread only. */
    private DpdkPortImpl warmUpPort;

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
        return new WarmUpRx(warmUpPort(length).rxQueue(0), frame, offset, length);
    }

    /** {@inheritDoc} The TX queue of the same {@code net_null} port, which frees what it is given. */
    @Override
    public io.bypass.TxQueue warmUpTxQueue(final Counters counters) {
        checkOpen();
        return warmUpPort(64).txQueue(0);
    }

    /** {@inheritDoc} */
    @Override
    public void closeWarmUp() {
        if (warmUpPort != null) {
            warmUpPort.close();
            warmUpPort = null;
        }
    }

    private DpdkPortImpl warmUpPort(final int frameLength) {
        if (warmUpPort == null) {
            warmUpPort = open(PortUri.parse("dpdk:net_null_bypass_warmup" + WARM_UP_PORTS.incrementAndGet() + ",size="
                + frameLength));
        }
        return warmUpPort;
    }

    /** Polls a net_null queue and hands each mbuf on with the warm-up frame written into it. */
    private static final class WarmUpRx implements io.bypass.RxQueue, io.bypass.FrameHandler {
        private final DpdkRxQueue queue;
        private final org.agrona.DirectBuffer frame;
        private final int offset;
        private final int length;
        private io.bypass.FrameHandler target;

        WarmUpRx(final DpdkRxQueue queue, final org.agrona.DirectBuffer frame, final int offset, final int length) {
            this.queue = queue;
            this.frame = frame;
            this.offset = offset;
            this.length = length;
        }

        @Override
        public int poll(final io.bypass.FrameHandler handler, final int limit) {
            target = handler;
            return queue.poll(this, limit);
        }

        @Override
        public void onFrame(final org.agrona.DirectBuffer buffer, final int at, final int frameLength, final io.bypass.FrameMeta meta) {
            ((org.agrona.MutableDirectBuffer) buffer).putBytes(at, frame, offset, length);
            target.onFrame(buffer, at, length, meta);
        }

        @Override
        public int id() {
            return queue.id();
        }
    }
}
