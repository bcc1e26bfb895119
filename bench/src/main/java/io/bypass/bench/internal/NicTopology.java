package io.bypass.bench.internal;

import io.bypass.testkit.Cmd;
import io.bypass.testkit.Netns;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Two existing interfaces the user names ({@code bin/bench --nics A,B}: two NIC ports
 * cabled back to back, two VFs...), borrowed for a run: each is moved from the root
 * namespace into a fresh namespace {@code bbna-X} / {@code bbnb-X}, its addresses are
 * flushed and replaced by the harness's test address (10.N.M.1/24, .2/24), TX checksum
 * offload is turned off and static neighbours are added, exactly as on the harness's own
 * veth pair (the namespaces are made by the testkit's {@link Netns}, as the pair's are). {@link #close()} moves both back
 * to the root namespace and restores what
 * they had: up/down, MTU, IPv4 and global IPv6 addresses, TX checksum offload. Routes other
 * than those implied by the addresses, and anything else bound to the interface (bonds,
 * bridges, qdiscs, XDP programs of other tools), are not restored: the interfaces must be
 * dedicated to the benchmark while it runs.
 */
public final class NicTopology implements Topology {
    private static final Pattern MTU = Pattern.compile(" mtu (\\d+)");
    private static final Pattern FLAGS = Pattern.compile("<([^>]*)>");
    private static final Pattern ADDR = Pattern.compile("\\s(inet6?)\\s+(\\S+)(?:\\s+brd\\s+(\\S+))?.*?\\sscope\\s+(\\S+)");

    /** What an interface looked like in the root namespace before the run. */
    private record Saved(String name, boolean up, int mtu, List<String[]> addresses, boolean txChecksum, String facts) {
    }

    private final String nsA;
    private final String nsB;
    private final Saved savedA;
    private final Saved savedB;
    private final String addressA;
    private final String addressB;
    private final List<String> restoreProblems = new ArrayList<>();
    private boolean inA;
    private boolean inB;
    private String macA;
    private String macB;
    private boolean closed;

    private NicTopology(final String suffix, final int n, final int m, final Saved a, final Saved b) {
        this.nsA = "bbna-" + suffix;
        this.nsB = "bbnb-" + suffix;
        this.addressA = "10." + n + "." + m + ".1";
        this.addressB = "10." + n + "." + m + ".2";
        this.savedA = a;
        this.savedB = b;
    }

    /**
     * Checks a {@code --nics} value without changing anything: two names, different, both
     * in this (root) namespace, neither loopback nor the interface of a default route, and
     * the user is root.
     *
     * @param spec "IFACE_A,IFACE_B"
     * @return the two names
     * @throws IllegalArgumentException saying what is wrong and what to do
     */
    public static List<String> validate(final String spec) {
        final String[] parts = spec.split(",", -1);
        if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
            throw new IllegalArgumentException("--nics needs two interface names, IFACE_A,IFACE_B (got '" + spec + "')");
        }
        final String a = parts[0].strip();
        final String b = parts[1].strip();
        if (a.equals(b)) {
            throw new IllegalArgumentException("--nics names " + a + " twice; name two different interfaces (one per namespace)");
        }
        if (!"0".equals(Cmd.runUnchecked("id", "-u").stdout().strip())) {
            throw new IllegalArgumentException("--nics needs root (it moves " + a + " and " + b + " into network namespaces); "
                + "run: sudo bin/bench ...");
        }
        final List<String> defaults = defaultRouteInterfaces();
        for (final String name : List.of(a, b)) {
            final Cmd.Result r = Cmd.runUnchecked("ip", "-o", "link", "show", "dev", name);
            if (r.exitCode() != 0) {
                throw new IllegalArgumentException("--nics: no interface '" + name + "' in this network namespace "
                    + "(ip link show lists the interfaces): " + r.stderr().strip());
            }
            final Matcher f = FLAGS.matcher(r.stdout());
            if ("lo".equals(name) || (f.find() && List.of(f.group(1).split(",")).contains("LOOPBACK"))) {
                throw new IllegalArgumentException("--nics: " + name + " is a loopback interface; name two Ethernet interfaces "
                    + "dedicated to the benchmark");
            }
            if (defaults.contains(name)) {
                throw new IllegalArgumentException("--nics: " + name + " carries the default route; the benchmark takes its "
                    + "addresses and traffic away for the run, so it refuses. Name two interfaces dedicated to the benchmark.");
            }
        }
        return List.of(a, b);
    }

    private static List<String> defaultRouteInterfaces() {
        final List<String> names = new ArrayList<>();
        for (final String family : List.of("-4", "-6")) {
            final Matcher m = Pattern.compile("\\sdev\\s+(\\S+)").matcher(Cmd.runUnchecked("ip", family, "route", "show", "default").stdout());
            while (m.find()) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    /**
     * Validates, records the interfaces' state, moves them into two fresh namespaces and
     * gives them the test addresses.
     *
     * @param spec "IFACE_A,IFACE_B"
     * @return the topology, ready for traffic
     * @throws IllegalArgumentException if {@link #validate(String)} refuses (nothing changed)
     * @throws IllegalStateException naming the failed command; what was moved is moved back
     */
    public static NicTopology create(final String spec) {
        final List<String> names = validate(spec);
        final ThreadLocalRandom rnd = ThreadLocalRandom.current();
        final NicTopology t = new NicTopology(String.format("%06x", rnd.nextInt(1 << 24)), rnd.nextInt(100, 250),
            rnd.nextInt(0, 256), save(names.get(0)), save(names.get(1)));
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

    private static Saved save(final String name) {
        final String link = Cmd.run("ip", "-o", "link", "show", "dev", name);
        final Matcher f = FLAGS.matcher(link);
        final boolean up = f.find() && List.of(f.group(1).split(",")).contains("UP");
        final Matcher mtu = MTU.matcher(link);
        final int mtuValue = mtu.find() ? Integer.parseInt(mtu.group(1)) : -1;
        final List<String[]> addresses = new ArrayList<>();
        for (final String line : Cmd.run("ip", "-o", "addr", "show", "dev", name).split("\n")) {
            final Matcher m = ADDR.matcher(line);
            // IPv6 link-local addresses come back by themselves when the interface goes up
            if (m.find() && !("inet6".equals(m.group(1)) && "link".equals(m.group(4)))) {
                addresses.add(new String[] {m.group(2), m.group(3), m.group(4)});
            }
        }
        final boolean tx = Cmd.runUnchecked("ethtool", "-k", name).stdout().contains("tx-checksumming: on");
        return new Saved(name, up, mtuValue, addresses, tx, facts(name));
    }

    private static String facts(final String name) {
        final Cmd.Result info = Cmd.runUnchecked("ethtool", "-i", name);
        String driver = "?";
        String version = "";
        String bus = "";
        for (final String line : info.stdout().split("\n")) {
            if (line.startsWith("driver:")) {
                driver = line.substring(7).strip();
            } else if (line.startsWith("version:")) {
                version = line.substring(8).strip();
            } else if (line.startsWith("bus-info:")) {
                bus = line.substring(9).strip();
            }
        }
        final Path sys = Path.of("/sys/class/net", name);
        final String numa = read(sys.resolve("device/numa_node"));
        return name + ": driver " + driver + (version.isEmpty() ? "" : " " + version) + (bus.isEmpty() ? "" : ", bus " + bus)
            + ", queues rx " + count(sys.resolve("queues"), "rx-") + " tx " + count(sys.resolve("queues"), "tx-")
            + channels(name) + ", NUMA node " + (numa.isEmpty() ? "n/a (no device node)" : numa);
    }

    private static String channels(final String name) {
        final Cmd.Result r = Cmd.runUnchecked("ethtool", "-l", name);
        if (r.exitCode() != 0) {
            return "";
        }
        final String out = r.stdout();
        final int current = out.indexOf("Current hardware settings:");
        if (current < 0) {
            return "";
        }
        final Matcher m = Pattern.compile("Combined:\\s+(\\d+)").matcher(out.substring(current));
        return m.find() ? " (ethtool -l combined " + m.group(1) + ")" : "";
    }

    private static String count(final Path dir, final String prefix) {
        try (var s = Files.list(dir)) {
            return Long.toString(s.filter(p -> p.getFileName().toString().startsWith(prefix)).count());
        } catch (final Exception e) {
            return "?";
        }
    }

    private static String read(final Path p) {
        try {
            return Files.readString(p).strip();
        } catch (final Exception e) {
            return "";
        }
    }

    private void build() {
        final Netns a = Netns.createNamed(nsA);
        final Netns b = Netns.createNamed(nsB);
        Cmd.run("ip", "link", "set", "dev", savedA.name(), "netns", nsA);
        inA = true;
        Cmd.run("ip", "link", "set", "dev", savedB.name(), "netns", nsB);
        inB = true;
        final String ifaceA = savedA.name();
        final String ifaceB = savedB.name();
        a.ip("addr", "flush", "dev", ifaceA);
        b.ip("addr", "flush", "dev", ifaceB);
        a.ip("addr", "add", addressA + "/24", "dev", ifaceA);
        b.ip("addr", "add", addressB + "/24", "dev", ifaceB);
        a.ip("link", "set", ifaceA, "up");
        b.ip("link", "set", ifaceB, "up");
        // some NICs cannot turn TX checksum offload off; frames then carry whatever the NIC does
        a.execUnchecked("ethtool", "-K", ifaceA, "tx", "off");
        b.execUnchecked("ethtool", "-K", ifaceB, "tx", "off");
        final long macOfA = mac(a, ifaceA);
        final long macOfB = mac(b, ifaceB);
        macA = Netns.macToString(macOfA);
        macB = Netns.macToString(macOfB);
        a.permanentNeighbour(ifaceA, addressB, macOfB);
        b.permanentNeighbour(ifaceB, addressA, macOfA);
        // a real link needs autonegotiation: allow longer than for veth
        awaitUp(a, ifaceA);
        awaitUp(b, ifaceB);
    }

    private static long mac(final Netns ns, final String iface) {
        try {
            return ns.macAddress(iface);
        } catch (final IllegalStateException e) {
            throw new IllegalStateException("--nics: " + iface + " has no Ethernet MAC address: " + e.getMessage(), e);
        }
    }

    private static void awaitUp(final Netns ns, final String iface) {
        try {
            ns.awaitUp(iface, 15_000);
        } catch (final IllegalStateException e) {
            throw new IllegalStateException("--nics: " + iface + " has no link (not UP after 15 s); are the two ports cabled "
                + "to each other?", e);
        }
    }

    @Override
    public String nsA() {
        return nsA;
    }

    @Override
    public String nsB() {
        return nsB;
    }

    @Override
    public String ifaceA() {
        return savedA.name();
    }

    @Override
    public String ifaceB() {
        return savedB.name();
    }

    @Override
    public String addressA() {
        return addressA;
    }

    @Override
    public String addressB() {
        return addressB;
    }

    @Override
    public String macA() {
        return macA;
    }

    @Override
    public String macB() {
        return macB;
    }

    @Override
    public String describe() {
        return "named NICs (--nics) " + savedA.name() + " <-> " + savedB.name() + ", moved into two namespaces for the run "
            + "(test addresses, TX checksum offload off, static neighbours) and given back afterwards, dedicated to the "
            + "benchmark: their own traffic, addresses and routes were taken away while it ran";
    }

    @Override
    public String driverFacts() {
        return savedA.facts() + " / " + savedB.facts();
    }

    /** @return what could not be restored at {@link #close()} (empty if all was) */
    public List<String> restoreProblems() {
        return restoreProblems;
    }

    /**
     * Moves both interfaces back to the root namespace, restores their state and deletes the
     * namespaces. Idempotent; safe from a shutdown hook.
     *
     * @throws IllegalStateException if an interface could not be moved back (its namespace is
     *                               then kept, and the message says how to recover it)
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        final List<String> stranded = new ArrayList<>();
        if (inA) {
            giveBack(nsA, savedA, stranded);
        }
        if (inB) {
            giveBack(nsB, savedB, stranded);
        }
        for (final String ns : new String[] {nsA, nsB}) {
            if (stranded.stream().noneMatch(s -> s.contains(ns))) {
                Cmd.runUnchecked("ip", "netns", "del", ns);
            }
        }
        if (!stranded.isEmpty()) {
            throw new IllegalStateException("--nics: could not move back " + String.join("; ", stranded));
        }
        if (!restoreProblems.isEmpty()) {
            System.err.println("[net] --nics: not fully restored: " + String.join("; ", restoreProblems));
        }
    }

    private void giveBack(final String ns, final Saved s, final List<String> stranded) {
        final String name = s.name();
        Cmd.runUnchecked("ip", "-n", ns, "link", "set", "dev", name, "down");
        for (final String mode : new String[] {"xdpgeneric", "xdpdrv", "xdp"}) {
            Cmd.runUnchecked("ip", "-n", ns, "link", "set", "dev", name, mode, "off");
        }
        Cmd.runUnchecked("ip", "-n", ns, "addr", "flush", "dev", name);
        // "netns PID": the namespace of this JVM, which is where the interface came from
        final Cmd.Result moved = Cmd.runUnchecked("ip", "-n", ns, "link", "set", "dev", name, "netns",
            Long.toString(ProcessHandle.current().pid()));
        if (moved.exitCode() != 0) {
            stranded.add(name + " is still in namespace " + ns + " (" + moved.stderr().strip() + "); recover with: ip -n " + ns
                + " link set dev " + name + " netns 1 && ip netns del " + ns);
            return;
        }
        check(Cmd.runUnchecked("ip", "link", "set", "dev", name, "mtu", Integer.toString(s.mtu())), name + " mtu " + s.mtu());
        if (s.txChecksum()) {
            check(Cmd.runUnchecked("ethtool", "-K", name, "tx", "on"), name + " tx checksum offload on");
        }
        if (s.up()) {
            check(Cmd.runUnchecked("ip", "link", "set", "dev", name, "up"), name + " up");
        }
        for (final String[] a : s.addresses()) {
            final List<String> cmd = new ArrayList<>(List.of("ip", "addr", "add", a[0]));
            if (a[1] != null) {
                cmd.addAll(List.of("brd", a[1]));
            }
            cmd.addAll(List.of("scope", a[2], "dev", name));
            final Cmd.Result r = Cmd.runUnchecked(cmd.toArray(String[]::new));
            if (r.exitCode() != 0 && !r.stderr().contains("File exists")) {
                restoreProblems.add(name + " address " + a[0] + ": " + r.stderr().strip());
            }
        }
    }

    private void check(final Cmd.Result r, final String what) {
        if (r.exitCode() != 0) {
            restoreProblems.add(what + ": " + r.stderr().strip());
        }
    }

    @Override
    public String toString() {
        return nsA + "/" + savedA.name() + " " + addressA + " <-> " + nsB + "/" + savedB.name() + " " + addressB;
    }
}
