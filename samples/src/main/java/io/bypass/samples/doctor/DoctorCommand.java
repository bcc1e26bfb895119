package io.bypass.samples.doctor;

import io.bypass.Bypass;
import io.bypass.samples.cli.Args;
import io.bypass.samples.cli.Command;
import io.bypass.samples.cli.Context;
import io.bypass.samples.cli.Options;
import io.bypass.samples.cli.UsageException;
import io.bypass.spi.BackendProvider;
import io.bypass.spi.Privileges;
import io.bypass.testkit.Json;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code bypass doctor}: is this host ready for kernel bypass? Reports the kernel; each
 * NIC's driver, queues, XDP native and zero-copy support, the attached XDP program's owner
 * (ORPHANED when no process holds it), NUMA node; hugepages; vfio and
 * IOMMU; Onload; the current user's capabilities and locked-memory limit; isolated CPUs,
 * frequency governor, C-states; what the host lets each backend buffer while the polling
 * thread stalls ({@code net.core.rmem_max} and {@code CAP_NET_ADMIN} for nio, locked memory for
 * the afxdp UMEM, each backend's default depth as milliseconds at the stall budget's rate);
 * and each Bypass backend, available or not with cause and remedy. Everything is best effort: what cannot be known is said to be unknown.
 *
 * <pre>
 * bypass doctor            # readable report
 * bypass doctor --json     # the same as one JSON object on the last line
 * bypass doctor --uri afxdp:eth1?rxStallMs=10   # and what that port needs: capabilities, memlock, systemd lines
 * </pre>
 */
public final class DoctorCommand implements Command {
    /** The report's sections, in order. */
    public static final List<String> SECTIONS = List.of("kernel", "nics", "hugepages", "iommu_vfio", "onload",
        "capabilities", "privileges", "cpus", "rx_stall_budget", "backends");

    /** Drivers with native XDP (driver mode) in mainline Linux. */
    static final Set<String> XDP_NATIVE = Set.of("i40e", "ice", "ixgbe", "ixgbevf", "igb", "igc", "mlx4_en", "mlx4_core",
        "mlx5_core", "bnxt_en", "nfp", "qede", "virtio_net", "veth", "tun", "ena", "sfc", "stmmac", "mvneta", "mvpp2",
        "dpaa2-eth", "fec", "netsec", "hv_netvsc", "thunder-nicvf", "lan966x-switch", "gve", "idpf", "octeontx2-nicpf",
        "xen-netfront", "bonding", "netdevsim", "enetc", "ti-cpsw", "am65-cpsw-nuss", "atlantic", "mana");
    /** Drivers with AF_XDP zero-copy in mainline Linux (virtio_net since 6.6). */
    static final Set<String> XDP_ZEROCOPY = Set.of("i40e", "ice", "ixgbe", "igc", "mlx5_core", "stmmac", "gve", "idpf",
        "octeontx2-nicpf", "dpaa2-eth", "enetc", "netsec", "lan966x-switch", "virtio_net", "mana");

    /** Capabilities that matter for kernel bypass, and why. */
    private static final Map<String, String> CAP_WHY = Map.of(
        "CAP_NET_ADMIN", "attach XDP programs, configure NICs",
        "CAP_NET_RAW", "open AF_XDP and packet sockets",
        "CAP_BPF", "load BPF programs (kernel >= 5.8)",
        "CAP_SYS_ADMIN", "BPF before 5.8, DPDK net_af_xdp (libxdp), setns, vfio",
        "CAP_IPC_LOCK", "lock UMEM and hugepage memory",
        "CAP_SYS_NICE", "real-time priority for polling threads",
        "CAP_SYS_RESOURCE", "raise RLIMIT_MEMLOCK",
        "CAP_PERFMON", "BPF verifier accepts the afxdp program (Spectre hardening refuses it without)");

    private final Path root;

    /** Creates the command for this host. */
    public DoctorCommand() {
        this(Path.of("/"));
    }

    /**
     * @param root where /proc and /sys are looked up (tests use a fake tree)
     */
    public DoctorCommand(final Path root) {
        this.root = root;
    }

    @Override
    public String name() {
        return "doctor";
    }

    @Override
    public Options options() {
        return new Options("doctor", "host readiness report for kernel bypass")
            .flag("--json", "end with the report as one JSON object on the last line")
            .value("--uri", "URI", "also check what a port opened with URI needs here: capabilities, memlock against the bytes"
                + " it locks, and the systemd lines that give them", null)
            .flag("--quiet", "accepted for symmetry; the doctor prints no progress")
            .value("--duration", "TIME", "ignored (accepted for symmetry)", null);
    }

    @Override
    public int run(final Args args, final Context ctx) throws UsageException {
        final HostProbe p = new HostProbe(root);
        final Map<String, Object> report = new LinkedHashMap<>();
        report.put("kernel", kernel(p));
        report.put("nics", nics(p));
        report.put("hugepages", hugepages(p));
        report.put("iommu_vfio", iommu(p));
        report.put("onload", onload(p));
        report.put("capabilities", capabilities(p));
        report.put("privileges", PrivilegeReport.report(p, args.string("--uri")));
        report.put("cpus", cpus(p));
        report.put("rx_stall_budget", StallBudgetReport.report(p));
        report.put("backends", backends());
        print(ctx.out(), report);
        if (ctx.json()) {
            final Map<String, Object> json = new LinkedHashMap<>();
            json.put("command", "doctor");
            json.putAll(report);
            ctx.out().println(Json.write(json));
        }
        ctx.out().flush();
        return 0;
    }

    private static void print(final PrintStream out, final Map<String, Object> report) {
        for (final Map.Entry<String, Object> section : report.entrySet()) {
            out.println("== " + section.getKey() + " ==");
            printValue(out, section.getValue(), "  ");
        }
    }

    @SuppressWarnings("unchecked")
    private static void printValue(final PrintStream out, final Object v, final String indent) {
        if (v instanceof Map<?, ?> m) {
            for (final Map.Entry<?, ?> e : m.entrySet()) {
                final Object x = e.getValue();
                if (x instanceof Map<?, ?> || (x instanceof List<?> l && !l.isEmpty() && l.get(0) instanceof Map)) {
                    out.println(indent + e.getKey() + ":");
                    printValue(out, x, indent + "  ");
                } else if (x instanceof List<?> l) {
                    out.println(indent + e.getKey() + ": "
                        + (l.isEmpty() ? "none" : String.join(", ", (List<String>) (List<?>) l.stream().map(String::valueOf).toList())));
                } else {
                    out.println(indent + e.getKey() + ": " + (x == null ? "unknown" : x));
                }
            }
        } else if (v instanceof List<?> l) {
            for (final Object o : l) {
                if (o instanceof Map<?, ?> m && m.containsKey("name")) {
                    out.println(indent + "- " + m.get("name"));
                    final Map<Object, Object> rest = new LinkedHashMap<>(m);
                    rest.remove("name");
                    printValue(out, rest, indent + "    ");
                } else {
                    out.println(indent + "- " + o);
                }
            }
        } else {
            out.println(indent + v);
        }
    }

    private static Map<String, Object> kernel(final HostProbe p) {
        final Map<String, Object> m = new LinkedHashMap<>();
        final String release = p.read("/proc/sys/kernel/osrelease");
        m.put("release", release != null ? release : System.getProperty("os.version"));
        m.put("arch", System.getProperty("os.arch"));
        m.put("cmdline", p.read("/proc/cmdline"));
        final int[] v = version(release != null ? release : System.getProperty("os.version"));
        final List<String> notes = new ArrayList<>();
        if (v[0] * 100 + v[1] < 504) {
            notes.add("AF_XDP needs kernel 5.4 or newer (need_wakeup); this one is older");
        } else if (v[0] * 100 + v[1] < 510) {
            notes.add("kernel older than 5.10: AF_XDP works, busy-poll and some zero-copy drivers need newer");
        }
        if (v[0] * 100 + v[1] < 606) {
            notes.add("virtio_net AF_XDP zero-copy needs kernel 6.6+");
        }
        m.put("notes", notes);
        return m;
    }

    static int[] version(final String release) {
        final int[] out = new int[2];
        if (release == null) {
            return out;
        }
        final String[] parts = release.split("[.\\-]");
        for (int i = 0; i < 2 && i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i].replaceAll("\\D.*", ""));
            } catch (final NumberFormatException ignored) {
                // leave 0
            }
        }
        return out;
    }

    private static List<Object> nics(final HostProbe p) {
        final List<Object> out = new ArrayList<>();
        for (final String name : p.list("/sys/class/net")) {
            final String base = "/sys/class/net/" + name;
            final Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("state", p.read(base + "/operstate"));
            m.put("mtu", p.read(base + "/mtu"));
            m.put("mac", p.read(base + "/address"));
            String driver = p.linkName(base + "/device/driver");
            String driverSource = "sysfs";
            if (driver == null && "/".equals(p.path("/").toString())) {
                final String ethtool = HostProbe.run("ethtool", "-i", name);
                if (ethtool != null) {
                    for (final String line : ethtool.split("\n")) {
                        if (line.startsWith("driver:")) {
                            driver = line.substring(7).trim();
                            driverSource = "ethtool";
                        }
                    }
                }
            }
            if (driver == null && "lo".equals(name)) {
                driver = "loopback";
            }
            m.put("driver", driver != null ? driver : "unknown");
            m.put("driver_source", driver != null ? driverSource : "none");
            m.put("virtual", !p.exists(base + "/device"));
            m.put("rx_checksums", ChecksumReport.forDriver(driver));
            int rx = 0;
            int tx = 0;
            for (final String q : p.list(base + "/queues")) {
                if (q.startsWith("rx-")) {
                    rx++;
                } else if (q.startsWith("tx-")) {
                    tx++;
                }
            }
            m.put("rx_queues", rx);
            m.put("tx_queues", tx);
            final String numa = p.read(base + "/device/numa_node");
            m.put("numa_node", numa == null ? "none (virtual or not reported)" : "-1".equals(numa) ? "none (single node)" : numa);
            if ("/".equals(p.path("/").toString())) {
                final String link = HostProbe.run("ip", "-d", "link", "show", "dev", name);
                m.put("xdp_attached", link == null ? "unknown" : XdpReport.xdpAttached(link));
                final String owner = link == null ? null : XdpReport.xdpOwner(name, link, p.path("/proc"));
                if (owner != null) {
                    m.put("xdp_owner", owner);
                }
            }
            m.put("xdp_native", driver == null ? "unknown" : XDP_NATIVE.contains(driver) ? "yes"
                : "loopback".equals(driver) ? "no (generic/skb mode only)" : "unknown (generic/skb mode always works)");
            m.put("xdp_zerocopy", driver == null ? "unknown"
                : XDP_ZEROCOPY.contains(driver) ? ("virtio_net".equals(driver) ? "yes on kernel 6.6+" : "yes")
                : XDP_NATIVE.contains(driver) ? "no (copy mode)" : "unknown");
            out.add(m);
        }
        return out;
    }

    private static Map<String, Object> hugepages(final HostProbe p) {
        final Map<String, Object> m = new LinkedHashMap<>();
        for (final String line : p.lines("/proc/meminfo")) {
            if (line.startsWith("HugePages_Total") || line.startsWith("HugePages_Free") || line.startsWith("Hugepagesize")) {
                final String[] kv = line.split(":");
                m.put(kv[0].trim().toLowerCase(Locale.ROOT), kv[1].trim());
            }
        }
        for (final String size : p.list("/sys/kernel/mm/hugepages")) {
            m.put(size, p.read("/sys/kernel/mm/hugepages/" + size + "/nr_hugepages") + " pages");
        }
        final List<String> mounts = new ArrayList<>();
        for (final String line : p.lines("/proc/mounts")) {
            final String[] f = line.split(" ");
            if (f.length > 2 && "hugetlbfs".equals(f[2])) {
                mounts.add(f[1]);
            }
        }
        m.put("hugetlbfs_mounts", mounts);
        final String total = String.valueOf(m.get("hugepages_total"));
        m.put("notes", "0".equals(total) || "null".equals(total)
            ? List.of("no hugepages reserved: DPDK needs them (or --no-huge for tests); e.g. "
                + "echo 1024 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")
            : List.of());
        return m;
    }

    private static Map<String, Object> iommu(final HostProbe p) {
        final Map<String, Object> m = new LinkedHashMap<>();
        final int groups = p.list("/sys/kernel/iommu_groups").size();
        m.put("iommu_groups", groups);
        final String cmdline = p.read("/proc/cmdline");
        m.put("iommu_cmdline", cmdline == null ? "unknown"
            : cmdline.contains("intel_iommu=on") || cmdline.contains("amd_iommu=on") || cmdline.contains("iommu=pt") ? "set" : "not set");
        m.put("dev_vfio", p.exists("/dev/vfio"));
        m.put("vfio_pci_loaded", p.exists("/sys/module/vfio_pci"));
        final String noiommu = p.read("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode");
        m.put("vfio_noiommu_mode", noiommu == null ? "unknown (vfio not loaded)" : noiommu);
        final List<String> notes = new ArrayList<>();
        if (groups == 0) {
            notes.add("no IOMMU groups: DPDK with vfio-pci needs the IOMMU on (intel_iommu=on iommu=pt) or vfio no-IOMMU mode;"
                + " DPDK on net_af_xdp/net_af_packet vdevs needs neither");
        }
        if (!p.exists("/sys/module/vfio_pci")) {
            notes.add("vfio-pci not loaded: modprobe vfio-pci (only to bind a NIC to DPDK)");
        }
        m.put("notes", notes);
        return m;
    }

    private static Map<String, Object> onload(final HostProbe p) {
        final Map<String, Object> m = new LinkedHashMap<>();
        final String bin = "/".equals(p.path("/").toString()) ? HostProbe.which("onload") : null;
        m.put("onload_binary", bin != null ? bin : "not found");
        String lib = null;
        for (final String dir : List.of("/usr/lib64", "/usr/lib", "/usr/lib/x86_64-linux-gnu", "/lib64", "/lib/x86_64-linux-gnu",
            "/usr/local/lib", "/usr/local/lib64", "/usr/lib/aarch64-linux-gnu")) {
            if (p.exists(dir + "/libciul.so.1")) {
                lib = dir + "/libciul.so.1";
                break;
            }
        }
        m.put("libciul", lib != null ? lib : "not found");
        m.put("dev_onload", p.exists("/dev/onload"));
        m.put("onload_module", p.exists("/sys/module/onload"));
        m.put("sfc_module", p.exists("/sys/module/sfc"));
        m.put("notes", lib == null ? List.of("ef_vi needs Onload's libciul.so.1 and a Solarflare/AMD X2/X3 NIC (sfc driver)") : List.of());
        return m;
    }

    private static Map<String, Object> capabilities(final HostProbe p) {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("user", System.getProperty("user.name"));
        String capEff = null;
        for (final String line : p.lines("/proc/self/status")) {
            if (line.startsWith("CapEff:")) {
                capEff = line.substring(7).trim();
            } else if (line.startsWith("Uid:")) {
                m.put("uid", line.substring(4).trim().split("\\s+")[0]);
            }
        }
        m.put("cap_eff", capEff);
        final List<String> have = Privileges.decode(capEff);
        m.put("effective", have.size() >= 40 ? List.of("all (" + have.size() + ")") : have);
        final Map<String, Object> relevant = new LinkedHashMap<>();
        for (final Map.Entry<String, String> e : new java.util.TreeMap<>(CAP_WHY).entrySet()) {
            relevant.put(e.getKey(), (have.contains(e.getKey()) ? "yes" : "NO") + " - " + e.getValue());
        }
        m.put("relevant", relevant);
        for (final String line : p.lines("/proc/self/limits")) {
            if (line.startsWith("Max locked memory")) {
                final String[] f = line.substring("Max locked memory".length()).trim().split("\\s+");
                m.put("memlock_soft", f.length > 0 ? f[0] : null);
                m.put("memlock_hard", f.length > 1 ? f[1] : null);
            }
        }
        return m;
    }

    private static Map<String, Object> cpus(final HostProbe p) {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("online", p.read("/sys/devices/system/cpu/online"));
        m.put("available_to_jvm", Runtime.getRuntime().availableProcessors());
        final String isolated = p.read("/sys/devices/system/cpu/isolated");
        m.put("isolated", isolated == null || isolated.isEmpty() ? "none" : isolated);
        final String nohz = p.read("/sys/devices/system/cpu/nohz_full");
        m.put("nohz_full", nohz == null || nohz.isEmpty() || "(null)".equals(nohz) ? "none" : nohz);
        final List<String> nodes = new ArrayList<>();
        for (final String n : p.list("/sys/devices/system/node")) {
            if (n.matches("node\\d+")) {
                nodes.add(n + ": cpus " + p.read("/sys/devices/system/node/" + n + "/cpulist"));
            }
        }
        m.put("numa_nodes", nodes.isEmpty() ? List.of("unknown") : nodes);
        final Set<String> governors = new TreeSet<>();
        final List<String> cpuDirs = new ArrayList<>();
        for (final String c : p.list("/sys/devices/system/cpu")) {
            if (c.matches("cpu\\d+")) {
                cpuDirs.add(c);
                final String g = p.read("/sys/devices/system/cpu/" + c + "/cpufreq/scaling_governor");
                if (g != null) {
                    governors.add(g);
                }
            }
        }
        m.put("governor", governors.isEmpty() ? "unknown (no cpufreq: VM or fixed frequency)" : String.join(", ", governors));
        m.put("cpuidle_driver", p.read("/sys/devices/system/cpu/cpuidle/current_driver"));
        final List<String> states = new ArrayList<>();
        if (!cpuDirs.isEmpty()) {
            final String base = "/sys/devices/system/cpu/" + cpuDirs.get(0) + "/cpuidle";
            for (final String s : p.list(base)) {
                if (s.startsWith("state")) {
                    final String name = p.read(base + "/" + s + "/name");
                    final String latency = p.read(base + "/" + s + "/latency");
                    final String disabled = p.read(base + "/" + s + "/disable");
                    states.add(name + " (exit " + latency + " us" + ("1".equals(disabled) ? ", disabled" : "") + ")");
                }
            }
        }
        m.put("c_states_" + (cpuDirs.isEmpty() ? "cpu0" : cpuDirs.get(0)), states.isEmpty() ? List.of("unknown (no cpuidle)") : states);
        final List<String> notes = new ArrayList<>();
        if (isolated == null || isolated.isEmpty()) {
            notes.add("no isolated CPUs: for lowest jitter boot with isolcpus=/nohz_full= and pin pollers with --cpu");
        }
        if (!governors.isEmpty() && !governors.equals(Set.of("performance"))) {
            notes.add("governor is not 'performance': cpupower frequency-set -g performance");
        }
        if (Runtime.getRuntime().availableProcessors() <= 2) {
            notes.add("only " + Runtime.getRuntime().availableProcessors() + " CPUs: a busy-spinning poller starves the kernel's"
                + " softirq work (milliseconds of latency, drops); use --idle backoff or yield here, spin on isolated CPUs");
        }
        if (states.size() > 1) {
            notes.add("deep C-states enabled: consider intel_idle.max_cstate=1 or /dev/cpu_dma_latency for busy-polling hosts");
        }
        m.put("notes", notes);
        return m;
    }

    private static List<Object> backends() {
        final List<Object> out = new ArrayList<>();
        final List<BackendProvider> all = Bypass.backends();
        if (all.isEmpty()) {
            final Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", "none");
            m.put("available", false);
            m.put("cause", "no backend on the class path: add io.bypass:bypass-nio (or -afxdp, -dpdk, -efvi) as a runtime dependency");
            out.add(m);
            return out;
        }
        for (final BackendProvider b : all) {
            final Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", b.name());
            m.put("priority", b.priority());
            boolean available;
            String cause = null;
            try {
                available = b.isAvailable();
                if (!available) {
                    final Throwable t = b.unavailabilityCause();
                    cause = t == null ? "unknown" : t.getMessage();
                }
            } catch (final RuntimeException | LinkageError e) {
                available = false;
                cause = "probe failed: " + e;
            }
            m.put("available", available);
            if (cause != null) {
                m.put("cause_and_remedy", cause);
            }
            out.add(m);
        }
        return out;
    }
}
