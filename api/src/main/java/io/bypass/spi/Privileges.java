package io.bypass.spi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The capabilities and locked memory of this process, read from {@code /proc} (no native call),
 * and the remedies backends give when the kernel refuses them.
 *
 * <p>A service gets capabilities as <em>ambient</em> capabilities, which survive {@code execve} of
 * an ordinary binary: systemd's {@code AmbientCapabilities=} (with {@code User=}), or
 * {@code setpriv --inh-caps=... --ambient-caps=...} / {@code capsh --addamb=...} from a shell.
 * Never as file capabilities on the {@code java} binary ({@code setcap}): those put the dynamic
 * loader in secure mode, which ignores the JDK's {@code $ORIGIN} run path, and {@code java} fails to
 * start ({@code libjli.so: cannot open shared object file}). Locked memory (an AF_XDP UMEM, a
 * packet ring) is charged to {@code RLIMIT_MEMLOCK} unless the process has {@code CAP_IPC_LOCK}:
 * systemd's {@code LimitMEMLOCK=}, {@code ulimit -l} in a shell.
 */
public final class Privileges {
    /** Open raw (AF_XDP, AF_PACKET) sockets. */
    public static final String CAP_NET_RAW = "CAP_NET_RAW";
    /** Attach XDP programs, configure interfaces. */
    public static final String CAP_NET_ADMIN = "CAP_NET_ADMIN";
    /** Create BPF maps and load BPF programs (Linux 5.8+). */
    public static final String CAP_BPF = "CAP_BPF";
    /** Lets the BPF verifier accept programs that need pointer comparisons Spectre hardening refuses (Linux 5.8+). */
    public static final String CAP_PERFMON = "CAP_PERFMON";
    /** Lock memory past RLIMIT_MEMLOCK. */
    public static final String CAP_IPC_LOCK = "CAP_IPC_LOCK";
    /** Many things; libxdp's AF_XDP sockets look their program and maps up by id with it. */
    public static final String CAP_SYS_ADMIN = "CAP_SYS_ADMIN";
    /** Where the deployment guide is, for messages. */
    public static final String GUIDE = "docs/deployment.md";

    private static final String[] NAMES = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
        "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", CAP_NET_ADMIN, CAP_NET_RAW, CAP_IPC_LOCK, "CAP_IPC_OWNER",
        "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", CAP_SYS_ADMIN,
        "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
        "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
        "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", CAP_PERFMON, CAP_BPF,
        "CAP_CHECKPOINT_RESTORE"};

    private Privileges() {
    }

    /**
     * @param hex a capability set as {@code /proc/PID/status} shows it ({@code CapEff:} and friends)
     * @return the capability names in it, lowest bit first; empty if {@code hex} is null or not hex
     */
    public static List<String> decode(final String hex) {
        final List<String> out = new ArrayList<>();
        if (hex == null) {
            return out;
        }
        final long bits;
        try {
            bits = Long.parseUnsignedLong(hex.trim(), 16);
        } catch (final NumberFormatException e) {
            return out;
        }
        for (int i = 0; i < 64; i++) {
            if ((bits & (1L << i)) != 0) {
                out.add(i < NAMES.length ? NAMES[i] : "CAP_" + i);
            }
        }
        return out;
    }

    /**
     * The calling thread's effective capabilities (capabilities are per thread; the JVM's
     * threads all start with the process's). Empty if {@code /proc} cannot be read.
     *
     * @return the capability names
     */
    public static Set<String> effective() {
        for (final String file : List.of("/proc/thread-self/status", "/proc/self/status")) {
            try {
                for (final String line : Files.readAllLines(Path.of(file))) {
                    if (line.startsWith("CapEff:")) {
                        return new LinkedHashSet<>(decode(line.substring("CapEff:".length())));
                    }
                }
            } catch (final IOException | RuntimeException ignored) {
                // try the next file
            }
        }
        return Set.of();
    }

    /**
     * @param needed capability names
     * @return those this thread does not have, in the order given
     */
    public static List<String> missing(final Collection<String> needed) {
        final Set<String> have = effective();
        return needed.stream().filter(c -> !have.contains(c)).toList();
    }

    /**
     * @return this process's soft {@code RLIMIT_MEMLOCK} in bytes, {@link Long#MAX_VALUE} if
     *         unlimited, -1 if it cannot be read
     */
    public static long memlockLimit() {
        try {
            return memlockLimit(Files.readAllLines(Path.of("/proc/self/limits")));
        } catch (final IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * @param limits the lines of a {@code /proc/PID/limits} file
     * @return its soft {@code Max locked memory} in bytes, {@link Long#MAX_VALUE} if unlimited, -1 if absent
     */
    public static long memlockLimit(final List<String> limits) {
        for (final String line : limits) {
            if (line.startsWith("Max locked memory")) {
                final String[] f = line.substring("Max locked memory".length()).trim().split("\\s+");
                if (f.length == 0 || f[0].isEmpty()) {
                    return -1;
                }
                try {
                    return "unlimited".equals(f[0]) ? Long.MAX_VALUE : Long.parseLong(f[0]);
                } catch (final NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }

    /**
     * The systemd unit lines ({@code [Service]} section, with {@code User=}) that give a service
     * what {@code needs} says.
     *
     * @param needs    what the port needs
     * @param ipcLock  for a port that locks memory: true to give {@code CAP_IPC_LOCK}, false to
     *                 raise the limit instead ({@code LimitMEMLOCK=}, {@code infinity} when the
     *                 bytes are unknown)
     * @return {@code AmbientCapabilities=} and {@code CapabilityBoundingSet=} (if any capability is
     *         needed) and {@code LimitMEMLOCK=} (if asked for)
     */
    public static List<String> systemdLines(final PrivilegeNeeds needs, final boolean ipcLock) {
        final List<String> caps = capabilities(needs, ipcLock);
        final List<String> lines = new ArrayList<>();
        if (!caps.isEmpty()) {
            lines.add("AmbientCapabilities=" + String.join(" ", caps));
            lines.add("CapabilityBoundingSet=" + String.join(" ", caps));
        }
        if (needs.locksMemory() && !ipcLock) {
            lines.add("LimitMEMLOCK=" + (needs.lockedBytes() > 0 ? String.valueOf(needs.lockedBytes()) : "infinity"));
        }
        return lines;
    }

    /**
     * The command line that starts {@code command} as an ordinary user holding {@code needs}'
     * capabilities as ambient capabilities ({@code setpriv}, run as root, e.g. with sudo).
     *
     * @param needs   what the port needs
     * @param ipcLock for a port that locks memory: true to give {@code CAP_IPC_LOCK}, false to
     *                raise the memlock limit first with {@code prlimit}
     * @param command what to start, such as {@code java ...}
     * @return the command line ({@code USER} and {@code GROUP} to fill in)
     */
    public static String setprivCommand(final PrivilegeNeeds needs, final boolean ipcLock, final String command) {
        final List<String> caps = capabilities(needs, ipcLock);
        final String prlimit = needs.locksMemory() && !ipcLock
            ? "prlimit --memlock=" + (needs.lockedBytes() > 0 ? needs.lockedBytes() + ":" + needs.lockedBytes() : "unlimited:unlimited") + " "
            : "";
        final String user = "setpriv --reuid=USER --regid=GROUP --init-groups";
        if (caps.isEmpty()) {
            return prlimit + user + " " + command;
        }
        final String list = String.join(",", caps.stream().map(c -> "+" + c.substring(4).toLowerCase(Locale.ROOT)).toList());
        return prlimit + user + " --inh-caps=" + list + " --ambient-caps=" + list + " " + command;
    }

    /**
     * The remedy for a call the kernel refused for want of a capability (EPERM, EACCES).
     *
     * @param backend the backend, for the message
     * @param needs   what the backend's port needs
     * @return what is missing and how to give it, as ambient capabilities
     */
    public static String capabilityRemedy(final String backend, final PrivilegeNeeds needs) {
        final List<String> missing = missing(needs.capabilities());
        final StringBuilder sb = new StringBuilder();
        if (missing.isEmpty()) {
            sb.append("this process has ").append(String.join(", ", needs.capabilities()))
                .append(" yet the kernel refused: capabilities held in a user namespace (a rootless container) do not count"
                    + " for BPF, XDP or the host's devices, or a seccomp or LSM (SELinux, AppArmor) policy forbids the call; ");
        } else {
            sb.append("this process lacks ").append(String.join(", ", missing)).append("; ");
        }
        sb.append(backend).append(" needs ").append(String.join(" ", needs.capabilities()));
        if (needs.locksMemory()) {
            sb.append(" (and CAP_IPC_LOCK or a memlock limit").append(needs.lockedBytes() > 0
                ? " of " + needs.lockedBytes() + " bytes" : "").append(")");
        }
        sb.append(". Run as root, or give them as ambient capabilities: systemd '")
            .append(String.join("' '", systemdLines(needs, true))).append("' with User=, or from a shell '")
            .append(setprivCommand(needs, true, "java ...")).append("'. Not setcap on the java binary: file capabilities make the"
                + " loader ignore the JDK's run path and java fails to start (libjli.so: cannot open shared object file). See ")
            .append(GUIDE);
        return sb.toString();
    }

    /**
     * The remedy for locked memory the kernel refused (ENOBUFS for an AF_XDP UMEM, EAGAIN or ENOMEM
     * for other locked mappings).
     *
     * @param what       what was to be locked, such as {@code the UMEM}
     * @param bytes      how many bytes
     * @param accounting how the kernel counts it against the limit, such as {@code per process}
     * @param lockLess   how to lock less with the URI, such as {@code rxStallMs=10 or frames=N}
     * @return the limit in force and how to raise it
     */
    public static String memlockRemedy(final String what, final long bytes, final String accounting, final String lockLess) {
        final long limit = memlockLimit();
        final long kib = (bytes + 1023) / 1024;
        return what + ": " + bytes + " bytes (" + mib(bytes) + ") of locked memory, charged to RLIMIT_MEMLOCK (here "
            + (limit == Long.MAX_VALUE ? "unlimited" : limit < 0 ? "unknown" : limit + " bytes") + ", " + accounting + ")"
            + (effective().contains(CAP_IPC_LOCK) ? "" : " because the process lacks CAP_IPC_LOCK")
            + ". Raise the limit: systemd 'LimitMEMLOCK=" + bytes + "' (or infinity), a shell 'ulimit -l " + kib
            + "' (KiB; above the hard limit only root can: prlimit --memlock=" + bytes + ":" + bytes + " COMMAND, or 'USER - memlock "
            + kib + "' in /etc/security/limits.conf); or give CAP_IPC_LOCK (systemd AmbientCapabilities=CAP_IPC_LOCK); or lock less: "
            + lockLess + ". 'bypass doctor --uri URI' shows what a URI locks. See " + GUIDE;
    }

    private static List<String> capabilities(final PrivilegeNeeds needs, final boolean ipcLock) {
        final List<String> caps = new ArrayList<>(needs.capabilities());
        if (ipcLock && needs.locksMemory() && !caps.contains(CAP_IPC_LOCK)) {
            caps.add(CAP_IPC_LOCK);
        }
        return caps;
    }

    private static String mib(final long bytes) {
        return bytes % (1 << 20) == 0 ? bytes / (1 << 20) + " MiB" : String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }
}
