package io.bypass.bench.internal;

import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Two fresh network namespaces joined by a veth pair, for benchmarks: {@code bbna-X} holds
 * {@link #ifaceA()} = 10.N.M.1/24, {@code bbnb-X} holds {@link #ifaceB()} = 10.N.M.2/24
 * (random N, M, visible only inside the namespaces). IPv6 is off (no stray router
 * solicitations in a measured window), TX checksum offload is off on both ends (frames
 * carry real checksums, as on a wire) and each side has a permanent neighbour entry for
 * the other, so no ARP happens during a measurement. {@link #close()} deletes both
 * namespaces, which removes the veth pair. Nothing is added to the root namespace.
 */
public final class VethTopology implements Topology {
    private static final Pattern MAC = Pattern.compile("link/ether ([0-9a-f:]{17})");

    private final String nsA;
    private final String nsB;
    private final String ifaceA;
    private final String ifaceB;
    private final String addressA;
    private final String addressB;
    private String macA;
    private String macB;
    private boolean closed;

    private VethTopology(final String suffix, final int n, final int m) {
        this.nsA = "bbna-" + suffix;
        this.nsB = "bbnb-" + suffix;
        this.ifaceA = "bba" + suffix;
        this.ifaceB = "bbb" + suffix;
        this.addressA = "10." + n + "." + m + ".1";
        this.addressB = "10." + n + "." + m + ".2";
    }

    /**
     * Creates the namespaces and the veth pair.
     *
     * @return the topology, ready for traffic
     * @throws IllegalStateException naming the failed command (needs root and iproute2, ethtool)
     */
    public static VethTopology create() {
        final ThreadLocalRandom rnd = ThreadLocalRandom.current();
        final VethTopology t = new VethTopology(String.format("%06x", rnd.nextInt(1 << 24)), rnd.nextInt(100, 250), rnd.nextInt(0, 256));
        try {
            t.build();
            return t;
        } catch (final RuntimeException e) {
            try {
                t.close();
            } catch (final RuntimeException c) {
                e.addSuppressed(c);
            }
            throw e;
        }
    }

    private void build() {
        Cmd.run("ip", "netns", "add", nsA);
        Cmd.run("ip", "netns", "add", nsB);
        for (final String ns : new String[] {nsA, nsB}) {
            Cmd.runUnchecked("ip", "netns", "exec", ns, "sysctl", "-qw",
                "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
            Cmd.run("ip", "-n", ns, "link", "set", "lo", "up");
        }
        Cmd.run("ip", "-n", nsA, "link", "add", ifaceA, "type", "veth", "peer", "name", ifaceB, "netns", nsB);
        Cmd.run("ip", "-n", nsA, "addr", "add", addressA + "/24", "dev", ifaceA);
        Cmd.run("ip", "-n", nsB, "addr", "add", addressB + "/24", "dev", ifaceB);
        Cmd.run("ip", "-n", nsA, "link", "set", ifaceA, "up");
        Cmd.run("ip", "-n", nsB, "link", "set", ifaceB, "up");
        Cmd.run("ip", "netns", "exec", nsA, "ethtool", "-K", ifaceA, "tx", "off");
        Cmd.run("ip", "netns", "exec", nsB, "ethtool", "-K", ifaceB, "tx", "off");
        macA = mac(nsA, ifaceA);
        macB = mac(nsB, ifaceB);
        Cmd.run("ip", "-n", nsA, "neigh", "replace", addressB, "lladdr", macB, "dev", ifaceA, "nud", "permanent");
        Cmd.run("ip", "-n", nsB, "neigh", "replace", addressA, "lladdr", macA, "dev", ifaceB, "nud", "permanent");
        awaitUp(nsA, ifaceA);
        awaitUp(nsB, ifaceB);
    }

    private static String mac(final String ns, final String iface) {
        final String out = Cmd.run("ip", "-n", ns, "-o", "link", "show", "dev", iface);
        final Matcher m = MAC.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("no MAC for " + iface + " in " + ns + ": " + out);
        }
        return m.group(1);
    }

    private static void awaitUp(final String ns, final String iface) {
        final long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (Cmd.run("ip", "-n", ns, "-o", "link", "show", "dev", iface).contains("state UP")) {
                return;
            }
            try {
                Thread.sleep(20);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        throw new IllegalStateException(iface + " in " + ns + " not UP after 5 s");
    }

    /** @return namespace A (device under test) */
    @Override
    public String nsA() {
        return nsA;
    }

    /** @return namespace B (peer: generator, sink, reflector) */
    @Override
    public String nsB() {
        return nsB;
    }

    /** @return the veth end in A */
    @Override
    public String ifaceA() {
        return ifaceA;
    }

    /** @return the veth end in B */
    @Override
    public String ifaceB() {
        return ifaceB;
    }

    /** @return A's IPv4 address as text */
    @Override
    public String addressA() {
        return addressA;
    }

    /** @return B's IPv4 address as text */
    @Override
    public String addressB() {
        return addressB;
    }

    /** @return A's MAC as text */
    @Override
    public String macA() {
        return macA;
    }

    /** @return B's MAC as text */
    @Override
    public String macB() {
        return macB;
    }

    /**
     * Flushes A's kernel address (for DPDK, which answers ARP for it itself) or restores it.
     *
     * @param present true to have the kernel own A's address
     */
    public void kernelAddressA(final boolean present) {
        if (present) {
            Cmd.runUnchecked("ip", "-n", nsA, "addr", "add", addressA + "/24", "dev", ifaceA);
        } else {
            Cmd.runUnchecked("ip", "-n", nsA, "addr", "flush", "dev", ifaceA);
        }
    }

    @Override
    public String describe() {
        return "veth pair " + ifaceA + " <-> " + ifaceB + " (two namespaces, TX checksum offload off, static neighbours)";
    }

    @Override
    public String driverFacts() {
        return "veth (virtual Ethernet, kernel driver 'veth')";
    }

    /** Deletes both namespaces (and so the veth pair). Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        final Cmd.Result a = Cmd.runUnchecked("ip", "netns", "del", nsA);
        final Cmd.Result b = Cmd.runUnchecked("ip", "netns", "del", nsB);
        if (a.exitCode() != 0 && Cmd.runUnchecked("ip", "netns", "list").stdout().contains(nsA)) {
            throw new IllegalStateException("ip netns del " + nsA + ": " + a.stderr());
        }
        if (b.exitCode() != 0 && Cmd.runUnchecked("ip", "netns", "list").stdout().contains(nsB)) {
            throw new IllegalStateException("ip netns del " + nsB + ": " + b.stderr());
        }
    }

    @Override
    public String toString() {
        return nsA + "/" + ifaceA + " " + addressA + " <-veth-> " + nsB + "/" + ifaceB + " " + addressB;
    }
}
