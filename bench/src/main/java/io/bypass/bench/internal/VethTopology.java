package io.bypass.bench.internal;

import io.bypass.testkit.Netns;
import io.bypass.testkit.VethPair;

/**
 * Two fresh network namespaces joined by a veth pair, for benchmarks: {@code bbna-PID-X} holds
 * {@link #ifaceA()} = 10.N.M.1/24, {@code bbnb-PID-X} holds {@link #ifaceB()} = 10.N.M.2/24
 * (random N, M, visible only inside the namespaces). IPv6 is off (no stray router
 * solicitations in a measured window), TX checksum offload is off on both ends (frames
 * carry real checksums, as on a wire) and each side has a permanent neighbour entry for
 * the other, so no ARP happens during a measurement. {@link #close()} deletes both
 * namespaces, which removes the veth pair; the pair a run killed with SIGKILL left is
 * removed by the next run ({@link Netns#removeStale}). Nothing is added to the root
 * namespace. Built by the testkit's {@link VethPair}, the same as the tests' pairs.
 */
public final class VethTopology implements Topology {
    private final VethPair pair;
    private final String macA;
    private final String macB;

    private VethTopology(final VethPair pair) {
        this.pair = pair;
        this.macA = Netns.macToString(pair.macA());
        this.macB = Netns.macToString(pair.macB());
    }

    /**
     * Creates the namespaces and the veth pair.
     *
     * @return the topology, ready for traffic
     * @throws IllegalStateException naming the failed command (needs root and iproute2, ethtool)
     */
    public static VethTopology create() {
        Netns.removeStaleOnce("bbna-");
        Netns.removeStaleOnce("bbnb-");
        final String suffix = Netns.randomSuffix();
        final long pid = ProcessHandle.current().pid();
        return new VethTopology(VethPair.builder()
            .names("bbna-" + pid + "-" + suffix, "bbnb-" + pid + "-" + suffix, "bba" + suffix, "bbb" + suffix)
            .multicastRoute(false)
            .permanentNeighbours(true)
            .removeOnExit(false) // the harness's own hook stops the workers inside first
            .create());
    }

    /** @return namespace A (device under test) */
    @Override
    public String nsA() {
        return pair.a().name();
    }

    /** @return namespace B (peer: generator, sink, reflector) */
    @Override
    public String nsB() {
        return pair.b().name();
    }

    /** @return the veth end in A */
    @Override
    public String ifaceA() {
        return pair.ifaceA();
    }

    /** @return the veth end in B */
    @Override
    public String ifaceB() {
        return pair.ifaceB();
    }

    /** @return A's IPv4 address as text */
    @Override
    public String addressA() {
        return pair.addressAText();
    }

    /** @return B's IPv4 address as text */
    @Override
    public String addressB() {
        return pair.addressBText();
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

    @Override
    public String describe() {
        return "veth pair " + ifaceA() + " <-> " + ifaceB() + " (two namespaces, TX checksum offload off, static neighbours)";
    }

    @Override
    public String driverFacts() {
        return "veth (virtual Ethernet, kernel driver 'veth')";
    }

    /** Deletes both namespaces (and so the veth pair). Idempotent. */
    @Override
    public void close() {
        pair.close();
    }

    @Override
    public String toString() {
        return nsA() + "/" + ifaceA() + " " + addressA() + " <-veth-> " + nsB() + "/" + ifaceB() + " " + addressB();
    }
}
