package io.bypass.dpdk;

import io.bypass.BypassException;
import io.bypass.PortUri;
import io.bypass.spi.RxBuffering;
import io.bypass.spi.RxStallBudget;
import io.bypass.spi.UriParams;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Settings of the DPDK environment (EAL) and the defaults of each port's queues and mempool,
 * in the manner of Aeron's {@code Context}: set what you need, then {@link #conclude()}
 * fills in the rest from the host. A port reads its URI into a copy ({@link #withUri(PortUri)}):
 * the keys declared in {@link DpdkUriParams} override the port defaults for that port and give
 * its own settings (device, address, queues, receive modes), which {@link #conclude()} checks;
 * the EAL settings take effect once, when the first port opens (or at
 * {@link DpdkBackendProvider#initialiseEal(DpdkContext)}), and later URIs must agree.
 *
 * <pre>{@code
 * DpdkBackendProvider.initialiseEal(new DpdkContext().lcores("0@(2-3)").memoryMb(512));
 * try (Port port = Bypass.open("dpdk:0000:03:00.0?ip=10.0.0.1/24")) { ... }
 * }</pre>
 *
 * <p>Threads: opening a port keeps your thread's CPU affinity. {@code rte_eal_init} pins the
 * thread that calls it (the one opening the first port, or calling
 * {@link DpdkBackendProvider#initialiseEal(DpdkContext)}) to the main lcore's CPU set; Bypass
 * restores the affinity that thread had before, so pin your polling thread before or after
 * opening, as you like. Device hotplug (later ports) and the per-thread registration a queue
 * makes on its first poll ({@code rte_thread_register}) leave affinities alone. The default
 * {@link #lcores()} is a single lcore floating on every CPU this process may use; it names
 * the main lcore, not the CPU your threads run on. A port's control thread is created by the
 * opening thread and inherits its affinity (it is idle except for control calls).
 */
public final class DpdkContext {
    /** System property with further EAL arguments (space separated), appended after {@link #ealArg(String)}'s. */
    public static final String EAL_ARGS_PROPERTY = "bypass.dpdk.ealArgs";

    private String lcores;
    private Boolean hugepages;
    /** RX descriptors when neither the context nor the URI nor the stall budget says otherwise. */
    public static final int DEFAULT_RX_DESC = 1024;
    /** Buffers DPDK 22.11's net_af_xdp PMD gives the kernel's fill ring (ETH_AF_XDP_DFLT_NUM_DESCS), whatever rxDesc says. */
    public static final int AF_XDP_PMD_BUFFERS = 2048;
    private int memoryMb;
    private String filePrefix;
    private final List<String> pciAllowlist = new ArrayList<>();
    private final List<String> extraEalArgs = new ArrayList<>();
    private int mbufs;
    private int mbufCache = 256;
    private int rxDesc = DEFAULT_RX_DESC;
    private int txDesc = 1024;
    private int burst = 64;
    private boolean concluded;
    /** A port's URI, for a context made by {@link #withUri(PortUri)}; null otherwise. */
    private PortUri uri;
    private final List<String> explicitEal = new ArrayList<>();
    private DpdkPortSettings port;

    /** Creates a context with every setting at its default. */
    public DpdkContext() {
    }

    /**
     * @param lcores EAL {@code --lcores} value, e.g. {@code "0@(2-3)"}; null for one lcore floating on all allowed CPUs
     * @return this
     */
    public DpdkContext lcores(final String lcores) {
        this.lcores = lcores;
        return this;
    }

    /** @return EAL {@code --lcores} value (after {@link #conclude()}, never null) */
    public String lcores() {
        return lcores;
    }

    /**
     * @param hugepages true: require hugepages (fail if none are reserved); false: {@code --no-huge};
     *                  null: hugepages if some are mounted and free, else {@code --no-huge}
     * @return this
     */
    public DpdkContext hugepages(final Boolean hugepages) {
        this.hugepages = hugepages;
        return this;
    }

    /** @return whether the EAL uses hugepages (after {@link #conclude()}, never null) */
    public Boolean hugepages() {
        return hugepages;
    }

    /**
     * @param memoryMb EAL {@code -m}: memory to preallocate in MB; 0 for the default (256 without
     *                 hugepages, DPDK's own dynamic default with them)
     * @return this
     */
    public DpdkContext memoryMb(final int memoryMb) {
        this.memoryMb = memoryMb;
        return this;
    }

    /** @return EAL {@code -m} in MB, 0 to leave it to DPDK */
    public int memoryMb() {
        return memoryMb;
    }

    /**
     * @param filePrefix EAL {@code --file-prefix}: set it to share a host with other DPDK processes
     *                   (a second primary with the same prefix is refused). Null (default): a
     *                   prefix unique to this process ({@code bypass-<pid>}) and {@code --in-memory},
     *                   so nothing is left in /var/run/dpdk or hugetlbfs.
     * @return this
     */
    public DpdkContext filePrefix(final String filePrefix) {
        this.filePrefix = filePrefix;
        return this;
    }

    /** @return the EAL file prefix, or null before {@link #conclude()} if left to default */
    public String filePrefix() {
        return filePrefix;
    }

    /** @return true when the prefix was generated, and the EAL runs {@code --in-memory} */
    public boolean isPrivatePrefix() {
        return filePrefix == null || filePrefix.equals(defaultPrefix());
    }

    /**
     * @param pciAddress a PCI device for the EAL allowlist ({@code -a}), e.g. {@code 0000:03:00.0}.
     *                   Without any, the EAL starts with {@code --no-pci} unless the first port is a PCI device.
     * @return this
     */
    public DpdkContext allowPci(final String pciAddress) {
        pciAllowlist.add(pciAddress);
        return this;
    }

    /** @return the PCI allowlist, in order */
    public List<String> pciAllowlist() {
        return List.copyOf(pciAllowlist);
    }

    /**
     * @param arg a further EAL argument passed verbatim, e.g. {@code --log-level=lib.eal:debug}
     * @return this
     */
    public DpdkContext ealArg(final String arg) {
        extraEalArgs.add(arg);
        return this;
    }

    /** @return the further EAL arguments */
    public List<String> extraEalArgs() {
        return List.copyOf(extraEalArgs);
    }

    /**
     * @param mbufs mbufs in each port's mempool; 0 (default) sizes it from the queues: descriptors
     *              of every RX and TX ring, the TX stashes, the per-lcore caches and slack, at least 8191
     * @return this
     */
    public DpdkContext mbufs(final int mbufs) {
        this.mbufs = mbufs;
        return this;
    }

    /** @return mbufs per mempool, 0 for automatic sizing */
    public int mbufs() {
        return mbufs;
    }

    /**
     * @param mbufCache per-lcore mempool cache size (0..512), default 256
     * @return this
     */
    public DpdkContext mbufCache(final int mbufCache) {
        this.mbufCache = mbufCache;
        return this;
    }

    /** @return per-lcore mempool cache size */
    public int mbufCache() {
        return mbufCache;
    }

    /**
     * @param rxDesc RX ring descriptors per queue, default 1024 (the PMD may adjust it)
     * @return this
     */
    public DpdkContext rxDesc(final int rxDesc) {
        this.rxDesc = rxDesc;
        return this;
    }

    /** @return RX ring descriptors per queue */
    public int rxDesc() {
        return rxDesc;
    }

    /**
     * @param txDesc TX ring descriptors per queue, default 1024 (the PMD may adjust it)
     * @return this
     */
    public DpdkContext txDesc(final int txDesc) {
        this.txDesc = txDesc;
        return this;
    }

    /** @return TX ring descriptors per queue */
    public int txDesc() {
        return txDesc;
    }

    /**
     * @param burst most mbufs one rx burst takes, and the size of each TX stash refill; default 64
     * @return this
     */
    public DpdkContext burst(final int burst) {
        this.burst = burst;
        return this;
    }

    /** @return the burst size */
    public int burst() {
        return burst;
    }

    /**
     * @return an unconcluded copy of these settings (the EAL settings and port defaults, not a port's URI),
     *         for a port that overrides some of them
     */
    public DpdkContext copy() {
        final DpdkContext c = new DpdkContext();
        c.lcores = lcores;
        c.hugepages = hugepages;
        c.memoryMb = memoryMb;
        c.filePrefix = filePrefix;
        c.pciAllowlist.addAll(pciAllowlist);
        c.extraEalArgs.addAll(extraEalArgs);
        c.mbufs = mbufs;
        c.mbufCache = mbufCache;
        c.rxDesc = rxDesc;
        c.txDesc = txDesc;
        c.burst = burst;
        return c;
    }

    /**
     * Reads a port's URI into a copy of these settings: the keys of {@link DpdkUriParams} that
     * override the port defaults and the EAL settings (those named are recorded, see
     * {@link #explicitEalKeys()}); the port's own keys are read and checked by {@link #conclude()}.
     *
     * @param uri a {@code dpdk:} URI
     * @return an unconcluded copy for that port
     * @throws io.bypass.BypassUriException naming an unknown key or a malformed value
     */
    public DpdkContext withUri(final PortUri uri) {
        UriParams.requireOnly(uri, DpdkUriParams.ALL);
        final RxStallBudget budget = RxStallBudget.from(uri);
        final DpdkContext c = copy();
        c.uri = uri;
        if (DpdkUriParams.LCORES.isIn(uri)) {
            c.lcores(DpdkUriParams.LCORES.text(uri));
            c.explicitEal.add(DpdkUriParams.LCORES_PARAM_NAME);
        }
        if (DpdkUriParams.PREFIX.isIn(uri)) {
            c.filePrefix(DpdkUriParams.PREFIX.text(uri));
            c.explicitEal.add(DpdkUriParams.PREFIX_PARAM_NAME);
        }
        if (UriParams.HUGEPAGES.isIn(uri)) {
            c.hugepages(UriParams.HUGEPAGES.booleanValue(uri, false));
            c.explicitEal.add(UriParams.HUGEPAGES_PARAM_NAME);
        }
        if (DpdkUriParams.MEMORY.isIn(uri)) {
            c.memoryMb(DpdkUriParams.MEMORY.intValue(uri, 0));
            c.explicitEal.add(DpdkUriParams.MEMORY_PARAM_NAME);
        }
        final int budgetDesc = DpdkPortSettings.rxDescFor(DpdkPortSettings.deviceName(uri.target()), budget);
        c.rxDesc(DpdkUriParams.RX_DESC.intValue(uri, rxDesc == DEFAULT_RX_DESC ? budgetDesc : rxDesc));
        c.txDesc(DpdkUriParams.TX_DESC.intValue(uri, txDesc));
        c.mbufs(DpdkUriParams.MBUFS.intValue(uri, mbufs));
        c.mbufCache(DpdkUriParams.MBUF_CACHE.intValue(uri, mbufCache));
        c.burst(DpdkUriParams.BURST.intValue(uri, burst));
        return c;
    }

    /** @return the EAL keys the port's URI named ({@code lcores}, {@code prefix}, ...), which a running EAL must match */
    public List<String> explicitEalKeys() {
        return List.copyOf(explicitEal);
    }

    /** @return the port's own settings (after {@link #conclude()} of a context made by {@link #withUri}), else null */
    public DpdkPortSettings port() {
        return port;
    }

    /**
     * The receive buffering a port with these settings sets up: RX descriptors, net_af_packet's
     * {@code framecnt} ring, or net_af_xdp's cap.
     *
     * @return the buffering (after {@link #conclude()} of a context made by {@link #withUri})
     * @throws IllegalStateException without a port
     */
    public RxBuffering rxBuffering() {
        if (port == null) {
            throw new IllegalStateException("no port: make the context with withUri and conclude it");
        }
        return port.rxBuffering(rxDesc);
    }

    /**
     * Validates the settings and fills in the defaults from the host (CPU set, hugepages); for a
     * context made by {@link #withUri(PortUri)}, reads and checks the port's own settings first.
     *
     * @return this
     * @throws BypassException naming the bad setting
     */
    public DpdkContext conclude() {
        if (concluded) {
            return this;
        }
        if (uri != null) {
            port = DpdkPortSettings.read(uri);
        }
        if (lcores == null) {
            lcores = "0@(" + allowedCpus() + ")";
        }
        if (hugepages == null) {
            hugepages = hugepagesAvailable();
        } else if (hugepages && !hugepagesAvailable()) {
            throw new BypassException("dpdk: hugepages=true but no hugepages are reserved and mounted (HugePages_Free is 0 "
                + "or no hugetlbfs mount); reserve some: echo 512 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages "
                + "&& mount -t hugetlbfs nodev /dev/hugepages, or run without them: hugepages=false");
        }
        if (memoryMb < 0) {
            throw new BypassException("dpdk: memory must be >= 0 MB, got " + memoryMb);
        }
        if (memoryMb == 0 && !hugepages) {
            memoryMb = 256;
        }
        if (filePrefix == null) {
            filePrefix = defaultPrefix();
        } else if (filePrefix.isEmpty() || !filePrefix.matches("[A-Za-z0-9_.-]+")) {
            throw new BypassException("dpdk: file prefix '" + filePrefix + "' must be letters, digits, '_', '.' or '-'");
        }
        check("mbufCache", mbufCache, 0, 512);
        check("rxDesc", rxDesc, 1, 32768);
        check("txDesc", txDesc, 1, 32768);
        check("burst", burst, 1, 512);
        if (mbufs < 0) {
            throw new BypassException("dpdk: mbufs must be >= 0 (0 sizes the mempool automatically), got " + mbufs);
        }
        concluded = true;
        return this;
    }

    /**
     * The EAL arguments this context asks for, {@code argv[0]} included. Call after {@link #conclude()}.
     *
     * @param pciFromUri a PCI address the first port names, or null
     * @return the argument vector for {@code rte_eal_init}
     */
    public List<String> ealArguments(final String pciFromUri) {
        conclude();
        final List<String> args = new ArrayList<>();
        args.add("bypass");
        args.add("--lcores=" + lcores);
        args.add("--file-prefix=" + filePrefix);
        args.add("--proc-type=primary"); // never silently become a secondary of someone else's EAL
        if (!hugepages) {
            args.add("--no-huge");
        }
        if (isPrivatePrefix()) {
            // Nothing on disk to clean up, no clash with other processes. --no-huge implies legacy memory,
            // which --in-memory refuses; without hugepages there are no hugepage files anyway.
            args.add(hugepages ? "--in-memory" : "--no-shconf");
        }
        if (memoryMb > 0) {
            args.add("-m");
            args.add(Integer.toString(memoryMb));
        }
        final List<String> pci = new ArrayList<>(pciAllowlist);
        if (pciFromUri != null && !pci.contains(pciFromUri)) {
            pci.add(pciFromUri);
        }
        if (pci.isEmpty()) {
            args.add("--no-pci"); // without an allowlist the EAL would grab every NIC bound to vfio-pci
        } else {
            for (final String a : pci) {
                args.add("-a");
                args.add(a);
            }
        }
        args.add("--no-telemetry");
        args.addAll(extraEalArgs);
        // For diagnosis without code changes, e.g. -Dbypass.dpdk.ealArgs=--log-level=pmd.net.af_xdp:debug
        final String fromProperty = System.getProperty(EAL_ARGS_PROPERTY, "").strip();
        if (!fromProperty.isEmpty()) {
            args.addAll(List.of(fromProperty.split("\\s+")));
        }
        return args;
    }

    private static void check(final String name, final int value, final int min, final int max) {
        if (value < min || value > max) {
            throw new BypassException("dpdk: " + name + " must be in " + min + ".." + max + ", got " + value);
        }
    }

    private static String defaultPrefix() {
        return "bypass-" + ProcessHandle.current().pid();
    }

    private static String allowedCpus() {
        try {
            for (final String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (final IOException ignored) {
            // fall through: every CPU the JVM reports
        }
        return "0-" + (Runtime.getRuntime().availableProcessors() - 1);
    }

    /**
     * @return true if hugetlbfs is mounted and the kernel has free hugepages
     */
    static boolean hugepagesAvailable() {
        try {
            boolean mounted = false;
            for (final String line : Files.readAllLines(Path.of("/proc/mounts"))) {
                if (line.split(" ").length > 2 && line.split(" ")[2].equals("hugetlbfs")) {
                    mounted = true;
                }
            }
            if (!mounted) {
                return false;
            }
            for (final String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("HugePages_Free:")) {
                    return Long.parseLong(line.substring(line.indexOf(':') + 1).strip().split("\\s+")[0]) > 0;
                }
            }
        } catch (final IOException | RuntimeException ignored) {
            // unreadable: treat as none
        }
        return false;
    }

    @Override
    public String toString() {
        return "DpdkContext{lcores=" + lcores + ", hugepages=" + hugepages + ", memoryMb=" + memoryMb
            + ", filePrefix=" + filePrefix + ", pci=" + pciAllowlist + ", mbufs=" + mbufs + ", mbufCache=" + mbufCache
            + ", rxDesc=" + rxDesc + ", txDesc=" + txDesc + ", burst=" + burst + "}";
    }
}
