package io.bypass.dpdk.internal;

import io.bypass.BypassException;
import io.bypass.dpdk.DpdkContext;
import io.bypass.dpdk.DpdkUriParams;
import io.bypass.dpdk.internal.gen.Eal;
import io.bypass.spi.UriParam;
import io.bypass.spi.UriParams;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The process's one DPDK environment (EAL): started by the first port (or explicitly), shared
 * by every later port, never cleaned up (DPDK cannot start its EAL twice in one process).
 * Devices are probed and removed here with {@code rte_dev_probe} and
 * {@code rte_eal_hotplug_remove}, on the caller's thread, so a vdev opened from a thread in
 * another network namespace finds that namespace's interface.
 *
 * <p>The calling thread keeps its CPU affinity: {@code rte_eal_init} pins it to the main
 * lcore's CPU set, and {@link #ensureStarted} restores the set it had before. Hotplug
 * ({@code rte_dev_probe}) and {@code rte_thread_register} leave the caller's affinity alone
 * (DPDK 22.11 only records it; checked by DpdkAffinityTest).
 */
public final class EalRuntime {

    private static final int EALREADY = 114;
    private static final int EACCES = 13;
    private static final int EPERM = 1;
    private static final int EINVAL = 22;

    private static DpdkContext defaults = new DpdkContext();
    private static DpdkContext running;
    private static List<String> runningArgs;
    private static String firstFailure;

    private EalRuntime() {
    }

    /**
     * @return the settings new ports start from: those of the running EAL, or the defaults
     */
    public static synchronized DpdkContext defaults() {
        return running != null ? running : defaults;
    }

    /**
     * @return the EAL arguments in use, or null before the EAL started
     */
    public static synchronized List<String> arguments() {
        return runningArgs;
    }

    /**
     * Starts the EAL with {@code ctx} unless it runs already; if it does, checks that
     * {@code ctx} asks for the same environment.
     *
     * @param ctx        the concluded settings
     * @param pciFromUri a PCI address named by the opening port, added to the allowlist, or null
     * @param explicitKeys EAL settings the caller named explicitly (URI keys), checked against a running EAL
     * @throws BypassException naming the cause and the remedy
     */
    public static synchronized void ensureStarted(final DpdkContext ctx, final String pciFromUri, final List<String> explicitKeys) {
        ctx.conclude();
        if (running != null) {
            for (final String key : explicitKeys) {
                final Object want = value(ctx, key);
                final Object have = value(running, key);
                if (!want.equals(have)) {
                    throw new BypassException("dpdk: the EAL of this process already runs with " + key + "=" + have
                        + " (arguments " + String.join(" ", runningArgs) + "); DPDK starts its EAL once per process, so a "
                        + "later port cannot ask for " + key + "=" + want + ": drop the parameter or use the same value");
                }
            }
            return;
        }
        final List<String> args = ctx.ealArguments(pciFromUri);
        if (firstFailure != null) {
            throw new BypassException("dpdk: the EAL failed to start earlier in this process (" + firstFailure
                + ") and DPDK cannot retry rte_eal_init; fix the cause and restart the JVM");
        }
        if (!ctx.isPrivatePrefix()) {
            checkPrefixFree(ctx.filePrefix());
        }
        // argv lives for the process: DPDK keeps pointers into some of it.
        final Arena arena = Arena.global();
        final MemorySegment argv = arena.allocate(ValueLayout.ADDRESS, args.size() + 1L);
        for (int i = 0; i < args.size(); i++) {
            argv.setAtIndex(ValueLayout.ADDRESS, i, arena.allocateFrom(args.get(i)));
        }
        argv.setAtIndex(ValueLayout.ADDRESS, args.size(), MemorySegment.NULL);
        // rte_eal_init pins this thread to the main lcore's CPU set (all allowed CPUs by default); give the
        // caller back the affinity it had, so a polling thread pinned before its first port stays pinned.
        final byte[] affinity = ThreadAffinity.get();
        final int rc = Eal.rte_eal_init(args.size(), argv);
        final int err = rc < 0 ? Rte.errno() : 0;
        final int restore = ThreadAffinity.set(affinity);
        if (restore != 0) {
            System.getLogger("io.bypass.dpdk").log(System.Logger.Level.WARNING, "dpdk: could not restore the CPU affinity "
                + "({0}) of thread {1} after rte_eal_init: errno {2}; it now runs on CPUs {3}", ThreadAffinity.toList(affinity),
                Thread.currentThread().getName(), restore, ThreadAffinity.toList(ThreadAffinity.get()));
        }
        if (rc < 0) {
            final String message = "rte_eal_init(" + String.join(" ", args) + ") failed: " + Rte.strerror(err)
                + " (the EAL log on stderr has the details)";
            // DPDK lets rte_eal_init run again only after an argument error.
            if (err != EALREADY && err != EINVAL) {
                firstFailure = message;
            }
            throw new BypassException("dpdk: " + message + "; " + remedy(err, ctx));
        }
        running = ctx;
        runningArgs = List.copyOf(args);
        if (ctx.isPrivatePrefix()) {
            // rte_eal_init makes /var/run/dpdk/<prefix> even without shared files (--no-shconf, --in-memory), and
            // then never uses it: no multi-process channel, no telemetry socket, no hugepage or fbarray files. A
            // private prefix is never reused, so remove the empty directory now (or, failing that, at exit) rather
            // than leave one per process; JMH forks and killed JVMs would never run the exit hook.
            final Path dir = runtimeDir(ctx.filePrefix());
            try {
                Files.deleteIfExists(dir);
            } catch (final IOException e) {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        Files.deleteIfExists(dir);
                    } catch (final IOException ignored) {
                        // not empty or already gone: leave it
                    }
                }, "bypass-dpdk-runtime-dir-cleanup"));
            }
        }
    }

    /**
     * Makes {@code ctx} the settings of the EAL, starting it now.
     *
     * @param ctx the settings
     */
    public static synchronized void start(final DpdkContext ctx) {
        if (running == null) {
            defaults = ctx;
        }
        ensureStarted(ctx, null, running == null ? List.of() : DpdkUriParams.EAL.stream().map(UriParam::name).toList());
    }

    private static Object value(final DpdkContext c, final String key) {
        return switch (key) {
            case DpdkUriParams.LCORES_PARAM_NAME -> c.lcores();
            case DpdkUriParams.PREFIX_PARAM_NAME -> c.filePrefix();
            case UriParams.HUGEPAGES_PARAM_NAME -> c.hugepages();
            case DpdkUriParams.MEMORY_PARAM_NAME -> c.memoryMb();
            default -> throw new IllegalArgumentException(key);
        };
    }

    private static String remedy(final int err, final DpdkContext ctx) {
        final StringBuilder sb = new StringBuilder();
        if (err == EINVAL) {
            sb.append("an EAL argument is invalid (the EAL lines on stderr name it); ");
        }
        if (err == EACCES || err == EPERM || !isRoot()) {
            sb.append(isRoot() ? "" : "this process is not root (euid " + euid() + "): ").append(DpdkPrivileges.ealRemedy()).append("; ");
        }
        if (Boolean.TRUE.equals(ctx.hugepages())) {
            sb.append("check the hugepages (grep Huge /proc/meminfo) or try hugepages=false; ");
        } else {
            sb.append("without hugepages the EAL needs -m MB of ordinary memory (memory=").append(ctx.memoryMb()).append("); ");
        }
        if (!ctx.isPrivatePrefix()) {
            sb.append("another DPDK primary process may be using --file-prefix=").append(ctx.filePrefix())
                .append(" (choose another prefix); ");
        }
        sb.append("check lcores=").append(ctx.lcores()).append(" names CPUs this process may run on");
        return sb.toString();
    }

    /**
     * Fails clearly if another process holds the EAL config lock of {@code prefix}, as
     * {@code rte_eal_init} would with only a log line. DPDK takes an fcntl write lock on
     * {@code <runtime dir>/config}; the JDK's FileChannel locks are fcntl locks too.
     */
    private static void checkPrefixFree(final String prefix) {
        final Path config = runtimeDir(prefix).resolve("config");
        try (FileChannel ch = FileChannel.open(config, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            final FileLock lock = ch.tryLock(0, Long.MAX_VALUE, false);
            if (lock == null) {
                throw new BypassException("dpdk: another DPDK primary process already runs with --file-prefix=" + prefix
                    + " (it holds the lock on " + config + "); use another prefix (prefix=... in the URI or "
                    + "DpdkContext.filePrefix), or leave it unset for a private one");
            }
            lock.release();
        } catch (final NoSuchFileException e) {
            // no process ever used this prefix
        } catch (final IOException e) {
            // unreadable: let rte_eal_init decide and report
        }
    }

    private static Path runtimeDir(final String prefix) {
        if (isRoot()) {
            return Path.of("/var/run/dpdk", prefix);
        }
        final String xdg = System.getenv("XDG_RUNTIME_DIR");
        return Path.of(xdg != null ? xdg : "/tmp", "dpdk", prefix);
    }

    /**
     * Probes a device ({@code rte_dev_probe}), on the calling thread.
     *
     * @param devargs such as {@code net_af_packet0,iface=veth0}
     * @param name    the device name (devargs up to the first comma)
     * @throws BypassException naming the device and the remedy
     */
    public static void probe(final String devargs, final String name) {
        final int rc;
        try (Arena arena = Arena.ofConfined()) {
            rc = Eal.rte_dev_probe(arena.allocateFrom(devargs));
        }
        if (rc < 0) {
            final String hint;
            if (-rc == 17) { // EEXIST
                hint = "a device named " + name + " is already open in this process; give each port its own name (net_af_packet0, net_af_packet1, ...)";
            } else if (name.startsWith("net_af_xdp")) {
                hint = "check iface= names an interface that exists and is up in this thread's network namespace, that its "
                    + "queue (start_queue=) exists, and that no other XDP program is attached (ip link show)";
            } else if (name.startsWith("net_af_packet")) {
                hint = "check iface= names an interface that exists in this thread's network namespace";
            } else if (isPci(name)) {
                hint = "check the device is bound to vfio-pci (dpdk-devbind.py --status) and listed in the EAL allowlist "
                    + "(the EAL started with " + String.join(" ", runningArgs) + ")";
            } else {
                hint = "check the driver name and its arguments (the EAL log on stderr names the bad one); dpdk-testpmd --vdev="
                    + devargs + " reproduces it";
            }
            throw new BypassException("dpdk: rte_dev_probe(" + devargs + ") failed: " + Rte.strerror(rc) + "; " + hint
                + DpdkPrivileges.privilegeRemedy(devargs));
        }
    }

    /**
     * Removes a device probed with {@link #probe}; failures are returned, not thrown, for close paths.
     *
     * @param name the device name
     * @return null, or what failed
     */
    public static String remove(final String name) {
        final int rc;
        try (Arena arena = Arena.ofConfined()) {
            rc = Eal.rte_eal_hotplug_remove(arena.allocateFrom(isPci(name) ? "pci" : "vdev"), arena.allocateFrom(name));
        }
        return rc < 0 && -rc != 19 && -rc != 2 ? "rte_eal_hotplug_remove(" + name + ") failed: " + Rte.strerror(rc) : null;
    }

    /**
     * @param name a device name
     * @return true if it looks like a PCI address ({@code 0000:03:00.0} or {@code 03:00.0})
     */
    public static boolean isPci(final String name) {
        return name.matches("([0-9a-fA-F]{4,8}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]");
    }

    /**
     * @return true if the effective uid is 0
     */
    public static boolean isRoot() {
        return euid() == 0;
    }

    private static long euid() {
        try {
            for (final String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.substring(4).strip().split("\\s+")[1]);
                }
            }
        } catch (final IOException | RuntimeException ignored) {
            // unknown
        }
        return -1;
    }
}
