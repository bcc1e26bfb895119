package io.bypass.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Two fresh namespaces, A and B, joined by a veth pair: {@link #ifaceA()} in A with
 * {@link #addressA()}/24, {@link #ifaceB()} in B with {@link #addressB()}/24, both up,
 * {@code lo} up and IPv6 off in both. Close removes both namespaces, and with them the veth
 * pair, even after a partial setup. Nothing is added to the root namespace.
 *
 * <p>{@link #create()} is what the tests use: names with this process's pid and a random
 * suffix ({@code bypa-PID-X}/{@code bypb-PID-X}, {@code bvaX}/{@code bvbX}), removed at exit
 * if still open and by the next run if the process was killed (see {@link Netns}), and a
 * random subnet {@code 10.N.M.0/24} visible only inside
 * the namespaces, the route {@code 224.0.0.0/4} on the veth in each so kernel multicast
 * flows across, and TX checksum offload off on both ends (so frames the kernel sends carry
 * complete UDP checksums, as on a real wire; needs {@code ethtool}; {@link #createAsIpMakesIt()}
 * leaves it on). {@link #builder()}
 * changes any of that, for the benchmarks (permanent neighbours, no multicast route) and
 * the demo (its own names and addresses).
 *
 * <pre>{@code
 * try (VethPair t = VethPair.create()) {
 *     DatagramChannel rx = t.executorB().call(() -> DatagramChannel.open(StandardProtocolFamily.INET)
 *         .bind(new InetSocketAddress(t.addressBText(), 9000)));
 *     t.executorA().call(() -> endpointUnderTest = Bypass.openUdp("nio:" + t.ifaceA()));
 * }
 * }</pre>
 */
public final class VethPair implements AutoCloseable {
    /** Prefix length of the veth subnet. */
    public static final int PREFIX_LENGTH = 24;
    /** Longest interface name Linux takes (IFNAMSIZ less the terminating NUL). */
    public static final int MAX_IFACE_NAME = 15;

    private final String nsA;
    private final String nsB;
    private final String ifaceA;
    private final String ifaceB;
    private final int addressA;
    private final int addressB;
    private final boolean multicastRoute;
    private final boolean txChecksumOff;
    private final boolean permanentNeighbours;
    private final boolean removeOnExit;
    private final List<Netns> namespaces = new ArrayList<>(2);
    private Netns a;
    private Netns b;
    private long macA;
    private long macB;

    private VethPair(final Builder spec) {
        this.nsA = spec.nsA;
        this.nsB = spec.nsB;
        this.ifaceA = spec.ifaceA;
        this.ifaceB = spec.ifaceB;
        this.addressA = spec.addressA;
        this.addressB = spec.addressB;
        this.multicastRoute = spec.multicastRoute;
        this.txChecksumOff = spec.txChecksumOff;
        this.permanentNeighbours = spec.permanentNeighbours;
        this.removeOnExit = spec.removeOnExit;
    }

    /**
     * Builds the tests' topology (see the class comment).
     *
     * @return the pair, ready for traffic
     * @throws IllegalStateException naming the failed {@code ip} command and its stderr
     */
    public static VethPair create() {
        return builder().create();
    }

    /**
     * Builds the tests' topology with the veth pair left as {@code ip link add} makes it: TX
     * checksum offload on, so UDP and TCP the kernel sends carry only the pseudo-header sum
     * (CHECKSUM_PARTIAL), as on every container network built on veth.
     *
     * @return the pair, ready for traffic
     * @throws IllegalStateException naming the failed {@code ip} command and its stderr
     */
    public static VethPair createAsIpMakesIt() {
        return builder().txChecksumOff(false).create();
    }

    /**
     * @return a builder starting from the tests' defaults: names with the pid and a random
     *         suffix, random subnet, multicast route, TX checksum offload off, no permanent
     *         neighbours, removed at exit if still open
     */
    public static Builder builder() {
        return new Builder();
    }

    private void build() {
        a = Netns.createNamed(nsA, removeOnExit);
        namespaces.add(a);
        b = Netns.createNamed(nsB, removeOnExit);
        namespaces.add(b);
        a.ip("link", "add", ifaceA, "type", "veth", "peer", "name", ifaceB, "netns", b.name());
        a.ip("addr", "add", ipv4(addressA) + "/" + PREFIX_LENGTH, "dev", ifaceA);
        b.ip("addr", "add", ipv4(addressB) + "/" + PREFIX_LENGTH, "dev", ifaceB);
        a.ip("link", "set", ifaceA, "up");
        b.ip("link", "set", ifaceB, "up");
        if (multicastRoute) {
            a.ip("route", "add", "224.0.0.0/4", "dev", ifaceA);
            b.ip("route", "add", "224.0.0.0/4", "dev", ifaceB);
        }
        if (txChecksumOff) {
            // veth hands the kernel's UDP checksum to the peer unfinished (CHECKSUM_PARTIAL);
            // a backend reading raw frames (AF_XDP, DPDK) would see a bad checksum. With TX
            // checksum offload off the kernel completes it, as a real NIC would on the wire.
            a.exec("ethtool", "-K", ifaceA, "tx", "off");
            b.exec("ethtool", "-K", ifaceB, "tx", "off");
        }
        macA = a.macAddress(ifaceA);
        macB = b.macAddress(ifaceB);
        if (permanentNeighbours) {
            a.permanentNeighbour(ifaceA, ipv4(addressB), macB);
            b.permanentNeighbour(ifaceB, ipv4(addressA), macA);
        }
        a.awaitUp(ifaceA, 5000);
        b.awaitUp(ifaceB, 5000);
    }

    /** @return namespace A, where the device under test usually lives */
    public Netns a() {
        return a;
    }

    /** @return namespace B, the traffic generator's side */
    public Netns b() {
        return b;
    }

    /** @return the thread inside namespace A */
    public NetnsExecutor executorA() {
        return a.executor();
    }

    /** @return the thread inside namespace B */
    public NetnsExecutor executorB() {
        return b.executor();
    }

    /** @return the veth end in A */
    public String ifaceA() {
        return ifaceA;
    }

    /** @return the veth end in B */
    public String ifaceB() {
        return ifaceB;
    }

    /** @return A's IPv4 address, big-endian int */
    public int addressA() {
        return addressA;
    }

    /** @return B's IPv4 address, big-endian int */
    public int addressB() {
        return addressB;
    }

    /** @return A's IPv4 address, dotted */
    public String addressAText() {
        return ipv4(addressA);
    }

    /** @return B's IPv4 address, dotted */
    public String addressBText() {
        return ipv4(addressB);
    }

    /** @return MAC of {@link #ifaceA()}, low 48 bits */
    public long macA() {
        return macA;
    }

    /** @return MAC of {@link #ifaceB()}, low 48 bits */
    public long macB() {
        return macB;
    }

    /**
     * Deletes both namespaces (and so the veth pair). Idempotent; runs every step even
     * when one fails, then throws the first failure.
     *
     * @throws IllegalStateException if a namespace is still there afterwards
     */
    @Override
    public void close() {
        RuntimeException failure = null;
        for (final Netns ns : namespaces) {
            try {
                ns.close();
            } catch (final RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return a + " " + ifaceA + " " + addressAText() + " <-> " + b + " " + ifaceB + " " + addressBText();
    }

    /**
     * @param address a big-endian IPv4 address
     * @return it dotted
     */
    static String ipv4(final int address) {
        return (address >>> 24) + "." + ((address >>> 16) & 0xFF) + "." + ((address >>> 8) & 0xFF) + "." + (address & 0xFF);
    }

    /**
     * @param dotted such as {@code 10.0.0.1}
     * @return it as a big-endian int
     * @throws IllegalArgumentException if it is not four numbers 0..255
     */
    static int ipv4(final String dotted) {
        final String[] parts = dotted.split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address: " + dotted);
        }
        int address = 0;
        for (final String p : parts) {
            final int octet;
            try {
                octet = Integer.parseInt(p);
            } catch (final NumberFormatException e) {
                throw new IllegalArgumentException("not an IPv4 address: " + dotted, e);
            }
            if (octet < 0 || octet > 255) {
                throw new IllegalArgumentException("not an IPv4 address: " + dotted);
            }
            address = (address << 8) | octet;
        }
        return address;
    }

    /**
     * What {@link VethPair} to build. Starts from the tests' defaults: names
     * {@code bypa-PID-X}/{@code bypb-PID-X} and {@code bvaX}/{@code bvbX} with one random
     * suffix, subnet {@code 10.[100,250).[0,256).0/24}, multicast route on, TX checksum
     * offload off, no permanent neighbours, removed at exit if still open.
     */
    public static final class Builder {
        private String nsA;
        private String nsB;
        private String ifaceA;
        private String ifaceB;
        private int addressA;
        private int addressB;
        private boolean multicastRoute = true;
        private boolean txChecksumOff = true;
        private boolean permanentNeighbours;
        private boolean removeOnExit = true;

        private Builder() {
            // What a killed run left with the default names goes before this run adds its own.
            Netns.removeStaleOnce("bypa-");
            Netns.removeStaleOnce("bypb-");
            final String suffix = Netns.randomSuffix();
            final long pid = ProcessHandle.current().pid();
            names("bypa-" + pid + "-" + suffix, "bypb-" + pid + "-" + suffix, "bva" + suffix, "bvb" + suffix); // interfaces: 9 chars, inside IFNAMSIZ
            final ThreadLocalRandom rnd = ThreadLocalRandom.current();
            final int net = (10 << 24) | (rnd.nextInt(100, 250) << 16) | (rnd.nextInt(0, 256) << 8);
            addressA = net | 1;
            addressB = net | 2;
        }

        /**
         * @param nsA    namespace A's name
         * @param nsB    namespace B's name
         * @param ifaceA the veth end in A
         * @param ifaceB the veth end in B
         * @return this
         * @throws IllegalArgumentException if an interface name is longer than {@link #MAX_IFACE_NAME}
         */
        public Builder names(final String nsA, final String nsB, final String ifaceA, final String ifaceB) {
            for (final String iface : new String[] {ifaceA, ifaceB}) {
                if (iface.isEmpty() || iface.length() > MAX_IFACE_NAME) {
                    throw new IllegalArgumentException("interface name '" + iface + "' must be 1 to " + MAX_IFACE_NAME + " characters");
                }
            }
            this.nsA = nsA;
            this.nsB = nsB;
            this.ifaceA = ifaceA;
            this.ifaceB = ifaceB;
            return this;
        }

        /**
         * @param addressA A's IPv4 address, dotted, in the same /24 as B's
         * @param addressB B's IPv4 address, dotted
         * @return this
         * @throws IllegalArgumentException if either is not a dotted IPv4 address
         */
        public Builder addresses(final String addressA, final String addressB) {
            this.addressA = ipv4(addressA);
            this.addressB = ipv4(addressB);
            return this;
        }

        /**
         * @param on whether each side gets the route {@code 224.0.0.0/4} on its veth end
         *           (kernel multicast senders need a route to the group)
         * @return this
         */
        public Builder multicastRoute(final boolean on) {
            this.multicastRoute = on;
            return this;
        }

        /**
         * @param off whether TX checksum offload is turned off on both ends (needs {@code ethtool})
         * @return this
         */
        public Builder txChecksumOff(final boolean off) {
            this.txChecksumOff = off;
            return this;
        }

        /**
         * @param on whether each side gets a permanent neighbour entry for the other, so no
         *           ARP happens during a measurement
         * @return this
         */
        public Builder permanentNeighbours(final boolean on) {
            this.permanentNeighbours = on;
            return this;
        }

        /**
         * @param on whether a shutdown hook deletes both namespaces if they are still open
         *           when the JVM exits (on SIGTERM and Ctrl-C too). Off for a program whose
         *           own hook must stop what runs inside them first, such as the benchmark
         *           harness and the demo.
         * @return this
         */
        public Builder removeOnExit(final boolean on) {
            this.removeOnExit = on;
            return this;
        }

        /**
         * Creates the namespaces and the veth pair.
         *
         * @return the pair, ready for traffic
         * @throws IllegalStateException naming the failed command; what was made is removed
         */
        public VethPair create() {
            final VethPair t = new VethPair(this);
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
    }
}
