package io.bypass.bench.internal;

/**
 * Two network namespaces, A (device under test) and B (peer), each holding one end of a
 * link with a test address, a known MAC and a permanent neighbour entry for the other
 * end: either a veth pair the harness creates ({@link VethTopology}) or two interfaces
 * the user names ({@link NicTopology}). Traffic goes only between {@link #addressA()} and
 * {@link #addressB()}.
 */
public interface Topology extends AutoCloseable {
    /** @return namespace A (device under test) */
    String nsA();

    /** @return namespace B (peer: generator, sink, reflector) */
    String nsB();

    /** @return the interface in A */
    String ifaceA();

    /** @return the interface in B */
    String ifaceB();

    /** @return A's IPv4 address as text */
    String addressA();

    /** @return B's IPv4 address as text */
    String addressB();

    /** @return A's MAC as text */
    String macA();

    /** @return B's MAC as text */
    String macB();

    /** @return one line for the report's host facts: what the link is */
    String describe();

    /** @return the interfaces' drivers, queue counts and NUMA nodes for the host facts */
    String driverFacts();

    /** Removes the namespaces and gives back anything borrowed. Idempotent. */
    @Override
    void close();
}
