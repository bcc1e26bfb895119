package io.bypass.samples.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Two network namespaces joined by a veth pair, made with {@code ip}, for the demo:
 * {@code NAME-a} holds {@code IFACE_A} = 10.251.0.1/24 and {@code NAME-b} holds
 * {@code IFACE_B} = 10.251.0.2/24, both up with a multicast route. Names include this
 * process's pid so a later run can remove what a killed run left behind.
 * {@link #close()} deletes both namespaces (the veth pair goes with them).
 */
public final class VethPair implements AutoCloseable {
    /** Address of side A. */
    public static final String ADDRESS_A = "10.251.0.1";
    /** Address of side B. */
    public static final String ADDRESS_B = "10.251.0.2";
    private static final String PREFIX = "bpdemo-";

    private final String nsA;
    private final String nsB;
    private final String ifaceA;
    private final String ifaceB;
    private boolean closed;

    private VethPair(final String nsA, final String nsB, final String ifaceA, final String ifaceB) {
        this.nsA = nsA;
        this.nsB = nsB;
        this.ifaceA = ifaceA;
        this.ifaceB = ifaceB;
    }

    /**
     * @return why namespaces cannot be made here, or null if they can (root and ip present)
     */
    public static String cannotCreate() {
        if (!Files.isExecutable(Path.of("/usr/sbin/ip")) && !Files.isExecutable(Path.of("/sbin/ip"))
            && !Files.isExecutable(Path.of("/usr/bin/ip")) && !Files.isExecutable(Path.of("/bin/ip"))) {
            return "the 'ip' command (iproute2) is not installed";
        }
        try {
            for (final String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    final long caps = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                    if ((caps & (1L << 21)) == 0 || (caps & (1L << 12)) == 0) {
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
     * Removes namespaces left by demo runs whose process no longer exists.
     *
     * @return names removed
     */
    public static List<String> removeStale() {
        final List<String> removed = new ArrayList<>();
        final String list = ip(false, "netns", "list");
        if (list == null) {
            return removed;
        }
        for (final String line : list.split("\n")) {
            final String name = line.trim().split("\\s+")[0];
            if (name.startsWith(PREFIX)) {
                final String[] parts = name.substring(PREFIX.length()).split("-");
                if (parts.length == 2 && parts[0].matches("\\d+") && !Files.exists(Path.of("/proc", parts[0]))) {
                    ip(false, "netns", "del", name);
                    removed.add(name);
                }
            }
        }
        return removed;
    }

    /**
     * Creates the pair.
     *
     * @return the pair, up and addressed
     * @throws IllegalStateException naming the failed {@code ip} command and its output
     */
    public static VethPair create() {
        final long pid = ProcessHandle.current().pid();
        final String suffix = pid + "-" + Integer.toHexString((int) (System.nanoTime() & 0xfff));
        final VethPair p = new VethPair(PREFIX + pid + "-a", PREFIX + pid + "-b", "bpd" + suffix.replace("-", "") + "a",
            "bpd" + suffix.replace("-", "") + "b");
        if (p.ifaceA.length() > 15) {
            throw new IllegalStateException("interface name too long: " + p.ifaceA);
        }
        try {
            ip(true, "netns", "add", p.nsA);
            ip(true, "netns", "add", p.nsB);
            ip(true, "link", "add", p.ifaceA, "netns", p.nsA, "type", "veth", "peer", "name", p.ifaceB, "netns", p.nsB);
            for (final String[] side : new String[][] {{p.nsA, p.ifaceA, ADDRESS_A}, {p.nsB, p.ifaceB, ADDRESS_B}}) {
                ip(true, "-n", side[0], "addr", "add", side[2] + "/24", "dev", side[1]);
                ip(true, "-n", side[0], "link", "set", side[1], "up");
                ip(true, "-n", side[0], "link", "set", "lo", "up");
                ip(true, "-n", side[0], "route", "add", "224.0.0.0/4", "dev", side[1]);
            }
        } catch (final RuntimeException e) {
            p.close();
            throw e;
        }
        return p;
    }

    /** @return namespace of side A (the sender in the demo) */
    public String namespaceA() {
        return nsA;
    }

    /** @return namespace of side B */
    public String namespaceB() {
        return nsB;
    }

    /** @return veth interface in namespace A */
    public String interfaceA() {
        return ifaceA;
    }

    /** @return veth interface in namespace B */
    public String interfaceB() {
        return ifaceB;
    }

    /** Deletes both namespaces; idempotent and never throws. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        ip(false, "netns", "del", nsA);
        ip(false, "netns", "del", nsB);
    }

    private static String ip(final boolean check, final String... args) {
        final List<String> cmd = new ArrayList<>();
        cmd.add("ip");
        cmd.addAll(List.of(args));
        try {
            final Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", cmd) + " timed out");
            }
            if (p.exitValue() != 0) {
                if (check) {
                    throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
                }
                return null;
            }
            return out;
        } catch (final IOException e) {
            if (check) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + e.getMessage(), e);
            }
            return null;
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + String.join(" ", cmd), e);
        }
    }
}
