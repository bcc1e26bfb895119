package io.bypass.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A network namespace made for one test, one benchmark run or one demo, removed on
 * {@link #close()}; {@link VethPair} joins two of them, {@link #executor()} runs code inside.
 *
 * <p>Everything is done with {@code ip} (iproute2) through {@link Cmd}, exit codes checked
 * and stderr quoted in errors. Names carry a random suffix (or a pid) so parallel or
 * crashed runs never collide, and nothing is added to the root namespace. Needs root.
 *
 * <p>What a run leaves behind is removed: a namespace made by {@link #create} (or by a
 * {@link VethPair} that keeps {@link VethPair.Builder#removeOnExit}) and still open when the
 * JVM exits, on SIGTERM or Ctrl-C too, is deleted by a shutdown hook; and because its name
 * carries the creating process's pid, one left by a run killed with SIGKILL is deleted by
 * the next run that creates one with the same prefix ({@link #removeStale}).
 */
public final class Netns implements AutoCloseable {
    private static final Pattern MAC = Pattern.compile("link/ether ([0-9a-f]{2}(?::[0-9a-f]{2}){5})");
    private static final long CAP_NET_ADMIN = 1L << 12;
    private static final long CAP_SYS_ADMIN = 1L << 21;

    /** Open namespaces the shutdown hook deletes; each leaves on close. */
    private static final Set<Netns> REMOVE_ON_EXIT = ConcurrentHashMap.newKeySet();
    /** Prefixes already swept for namespaces of dead processes in this JVM. */
    private static final Set<String> SWEPT = ConcurrentHashMap.newKeySet();
    private static final Thread EXIT_HOOK = new Thread(Netns::removeLeftOpen, "bypass-netns-cleanup");

    static {
        try {
            Runtime.getRuntime().addShutdownHook(EXIT_HOOK);
        } catch (final IllegalStateException shuttingDown) {
            // First used during shutdown: nothing of it can be left open past this point anyway.
        }
    }

    private final String name;
    private NetnsExecutor executor;
    private boolean closed;

    private Netns(final String name) {
        this.name = name;
    }

    /**
     * Creates a namespace named {@code PREFIX-PID-SUFFIX} (this process's pid, a random
     * suffix), with {@code lo} up and IPv6 off (so no router solicitations or MLD reports
     * disturb frame-level tests). It is deleted at exit if still open; the first call with a
     * prefix first deletes that prefix's namespaces whose process is gone.
     *
     * @param prefix a short prefix, such as {@code "bypx"}
     * @return the namespace
     */
    public static Netns create(final String prefix) {
        removeStaleOnce(prefix + "-");
        return createNamed(prefix + "-" + ProcessHandle.current().pid() + "-" + randomSuffix(), true);
    }

    /**
     * Creates a namespace with an exact name, {@code lo} up and IPv6 off. The caller owns its
     * removal, at exit too (a benchmark that moved a NIC into it must move the NIC back first).
     *
     * @param name the namespace name
     * @return the namespace
     * @throws IllegalStateException naming the failed {@code ip} command
     */
    public static Netns createNamed(final String name) {
        return createNamed(name, false);
    }

    /**
     * Creates a namespace with an exact name, {@code lo} up and IPv6 off.
     *
     * @param name         the namespace name
     * @param removeOnExit whether a shutdown hook deletes it if it is still open when the JVM
     *                     exits (also on SIGTERM and Ctrl-C; not on SIGKILL)
     * @return the namespace
     * @throws IllegalStateException naming the failed {@code ip} command
     */
    public static Netns createNamed(final String name, final boolean removeOnExit) {
        Cmd.run("ip", "netns", "add", name);
        final Netns ns = new Netns(name);
        if (removeOnExit) {
            REMOVE_ON_EXIT.add(ns);
        }
        try {
            // Best effort: a kernel without IPv6 has no such sysctl, and then has no IPv6 noise either.
            Cmd.runUnchecked("ip", "netns", "exec", name, "sysctl", "-qw",
                "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
            ns.ip("link", "set", "lo", "up");
            return ns;
        } catch (final RuntimeException e) {
            ns.closeQuietly(e);
            throw e;
        }
    }

    /**
     * A namespace for loopback tests: {@code lo} up with multicast on and the multicast
     * route {@code 224.0.0.0/4 dev lo}, so kernel multicast works on 127.0.0.1 without
     * touching the root namespace's routes; and {@code route_localnet}, {@code accept_local}
     * on, {@code rp_filter} off, so frames injected on {@code lo} with a raw socket reach
     * its sockets.
     *
     * @return the namespace
     */
    public static Netns createLoopback() {
        final Netns ns = create("byplo");
        try {
            ns.ip("link", "set", "lo", "multicast", "on");
            ns.ip("route", "add", "224.0.0.0/4", "dev", "lo");
            // Frames injected on lo with a raw socket arrive without a route attached, so
            // the kernel would drop 127.0.0.1 as a martian and a local source as spoofed.
            ns.exec("sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1", "net.ipv4.conf.lo.route_localnet=1",
                "net.ipv4.conf.all.accept_local=1", "net.ipv4.conf.lo.accept_local=1",
                "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.lo.rp_filter=0");
            return ns;
        } catch (final RuntimeException e) {
            ns.closeQuietly(e);
            throw e;
        }
    }

    /**
     * @return why namespaces cannot be made here, or null if they can ({@code ip} installed,
     *         CAP_SYS_ADMIN and CAP_NET_ADMIN effective)
     */
    public static String cannotCreate() {
        if (!Cmd.exists("ip")) {
            return "the 'ip' command (iproute2) is not installed";
        }
        try {
            for (final String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    final long caps = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                    if ((caps & CAP_SYS_ADMIN) == 0 || (caps & CAP_NET_ADMIN) == 0) {
                        return "creating network namespaces needs CAP_SYS_ADMIN and CAP_NET_ADMIN (run as root)";
                    }
                }
            }
        } catch (final IOException | NumberFormatException e) {
            return "cannot read capabilities: " + e.getMessage();
        }
        return null;
    }

    /**
     * Removes namespaces named {@code PREFIX<pid>-<tag>} (a tag without {@code '-'}) whose
     * process no longer exists: what a killed run left behind. Never throws; a namespace
     * {@code ip netns del} fails on is left, and not listed.
     *
     * @param prefix such as {@code "bpdemo-"}
     * @return the names removed
     */
    public static List<String> removeStale(final String prefix) {
        final List<String> removed = new ArrayList<>();
        final Cmd.Result list = Cmd.runUnchecked("ip", "netns", "list");
        if (list.exitCode() != 0) {
            return removed;
        }
        for (final String line : list.stdout().split("\n")) {
            final String name = line.trim().split("\\s+")[0];
            if (name.startsWith(prefix)) {
                final String[] parts = name.substring(prefix.length()).split("-");
                if (parts.length == 2 && parts[0].matches("\\d+") && !Files.exists(Path.of("/proc", parts[0]))) {
                    if (Cmd.runUnchecked("ip", "netns", "del", name).exitCode() == 0) {
                        removed.add(name);
                    }
                }
            }
        }
        return removed;
    }

    /**
     * {@link #removeStale} once per prefix in this JVM, saying on stderr what it removed: the
     * sweep a test or benchmark run needs before its first namespace, without an
     * {@code ip netns list} before every one.
     *
     * @param prefix such as {@code "bypa-"}
     */
    public static void removeStaleOnce(final String prefix) {
        if (SWEPT.add(prefix)) {
            for (final String name : removeStale(prefix)) {
                System.err.println("[testkit] removed namespace " + name + ", left by a run that was killed");
            }
        }
    }

    /** The shutdown hook: deletes the namespaces still open, and says so (a test that forgot one is a defect). */
    private static void removeLeftOpen() {
        for (final Netns ns : REMOVE_ON_EXIT) {
            try {
                // Not waiting for a task still running inside: the namespace outlives its name
                // until that thread leaves, and the JVM is ending it.
                if (ns.close(false)) {
                    System.err.println("[testkit] removed namespace " + ns.name + ", still open at exit");
                } else {
                    // A close() still waiting for its executor, which the JVM may end first.
                    Cmd.runUnchecked("ip", "netns", "del", ns.name);
                }
            } catch (final RuntimeException e) {
                System.err.println("[testkit] could not remove namespace " + ns.name + " at exit: " + e.getMessage());
            }
        }
    }

    /**
     * @return six random hex digits
     */
    public static String randomSuffix() {
        return String.format("%06x", ThreadLocalRandom.current().nextInt(1 << 24));
    }

    /**
     * @return this namespace's name (as under {@code /var/run/netns})
     */
    public String name() {
        return name;
    }

    /**
     * Runs {@code ip -n NAME args...}.
     *
     * @param args the ip arguments
     * @return its standard output
     * @throws IllegalStateException naming the command and its stderr if it fails
     */
    public String ip(final String... args) {
        final String[] cmd = new String[args.length + 3];
        cmd[0] = "ip";
        cmd[1] = "-n";
        cmd[2] = name;
        System.arraycopy(args, 0, cmd, 3, args.length);
        return Cmd.run(cmd);
    }

    /**
     * Runs a command inside this namespace ({@code ip netns exec NAME cmd...}).
     *
     * @param cmd the command and its arguments
     * @return its standard output
     * @throws IllegalStateException naming the command and its stderr if it fails
     */
    public String exec(final String... cmd) {
        return Cmd.run(execLine(cmd));
    }

    /**
     * Runs a command inside this namespace without checking its exit code.
     *
     * @param cmd the command and its arguments
     * @return exit code, stdout and stderr
     */
    public Cmd.Result execUnchecked(final String... cmd) {
        return Cmd.runUnchecked(execLine(cmd));
    }

    private String[] execLine(final String... cmd) {
        final String[] full = new String[cmd.length + 4];
        full[0] = "ip";
        full[1] = "netns";
        full[2] = "exec";
        full[3] = name;
        System.arraycopy(cmd, 0, full, 4, cmd.length);
        return full;
    }

    /**
     * @return the thread inside this namespace, started on first use and stopped on close
     */
    public synchronized NetnsExecutor executor() {
        if (closed) {
            throw new IllegalStateException("namespace " + name + " is closed");
        }
        if (executor == null) {
            executor = new NetnsExecutor(name);
        }
        return executor;
    }

    /**
     * @param iface an interface in this namespace
     * @return its MAC address in the low 48 bits
     */
    public long macAddress(final String iface) {
        final String out = ip("-o", "link", "show", "dev", iface);
        final Matcher m = MAC.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("no MAC address for " + iface + " in " + name + ": " + out);
        }
        return parseMac(m.group(1));
    }

    /**
     * @param iface an interface in this namespace
     * @return true if {@code ip link} shows it
     */
    public boolean hasInterface(final String iface) {
        return Cmd.runUnchecked("ip", "-n", name, "-o", "link", "show", "dev", iface).exitCode() == 0;
    }

    /**
     * Adds (or replaces) a permanent neighbour entry, so no ARP happens for that address.
     *
     * @param iface   the interface in this namespace
     * @param address the neighbour's IPv4 address, dotted
     * @param mac     its MAC in the low 48 bits
     */
    public void permanentNeighbour(final String iface, final String address, final long mac) {
        ip("neigh", "replace", address, "lladdr", macToString(mac), "dev", iface, "nud", "permanent");
    }

    /**
     * Waits until an interface's operational state is UP (veth or NIC carrier).
     *
     * @param iface         the interface
     * @param timeoutMillis how long to wait
     * @throws IllegalStateException if it is not UP in time
     */
    public void awaitUp(final String iface, final long timeoutMillis) {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        String out = "";
        while (System.nanoTime() < deadline) {
            out = ip("-o", "link", "show", "dev", iface);
            if (out.contains("state UP")) {
                return;
            }
            try {
                Thread.sleep(20);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for " + iface + " in " + name, e);
            }
        }
        throw new IllegalStateException(iface + " in " + name + " not UP after " + timeoutMillis + " ms: " + out);
    }

    /**
     * Stops the executor and deletes the namespace (and every virtual interface in it; a
     * physical one goes back to the initial namespace). Idempotent.
     *
     * @throws IllegalStateException if the namespace is still there afterwards
     */
    @Override
    public void close() {
        close(true);
    }

    /**
     * @return false if another call closed it (or is closing it) already
     */
    private boolean close(final boolean waitForExecutor) {
        final NetnsExecutor executor;
        // Only the claim is under the lock: the exit hook must not wait while a test's close()
        // waits up to 10 s for a busy executor.
        synchronized (this) {
            if (closed) {
                return false;
            }
            closed = true;
            executor = this.executor;
        }
        try {
            RuntimeException failure = null;
            if (executor != null) {
                try {
                    if (waitForExecutor) {
                        executor.close();
                    } else {
                        executor.stop();
                    }
                } catch (final RuntimeException e) {
                    failure = e;
                }
            }
            final Cmd.Result r = Cmd.runUnchecked("ip", "netns", "del", name);
            if (r.exitCode() != 0 && Files.exists(Path.of("/var/run/netns", name))) {
                final IllegalStateException e = new IllegalStateException("ip netns del " + name + " failed: " + r.stderr());
                if (failure != null) {
                    e.addSuppressed(failure);
                }
                throw e;
            }
            if (failure != null) {
                throw failure;
            }
            return true;
        } finally {
            REMOVE_ON_EXIT.remove(this);
        }
    }

    void closeQuietly(final Throwable primary) {
        try {
            close();
        } catch (final RuntimeException e) {
            primary.addSuppressed(e);
        }
    }

    @Override
    public String toString() {
        return "netns " + name;
    }

    /**
     * @param text such as {@code 02:00:00:00:00:01}
     * @return the MAC in the low 48 bits
     */
    public static long parseMac(final String text) {
        final String[] parts = text.split(":");
        if (parts.length != 6) {
            throw new IllegalArgumentException("not a MAC address: " + text);
        }
        long mac = 0;
        for (final String p : parts) {
            mac = (mac << 8) | Integer.parseInt(p, 16);
        }
        return mac;
    }

    /**
     * @param mac a MAC in the low 48 bits
     * @return colon-separated lower-case hex
     */
    public static String macToString(final long mac) {
        final StringBuilder sb = new StringBuilder(17);
        for (int shift = 40; shift >= 0; shift -= 8) {
            if (sb.length() > 0) {
                sb.append(':');
            }
            sb.append(String.format("%02x", (mac >>> shift) & 0xFF));
        }
        return sb.toString();
    }
}
