package io.bypass.conformance;

import io.bypass.Port;
import io.bypass.net.Ipv4;
import io.bypass.testkit.Netns;
import io.bypass.testkit.NetnsExecutor;
import io.bypass.testkit.VethPair;
import io.bypass.udp.UdpEndpoint;

import java.util.Deque;

/**
 * Where a conformance suite runs the device under test (DUT) and its peer. Both kinds
 * live in namespaces the suite creates, so no test touches the root namespace.
 *
 * <ul>
 *   <li>{@link Kind#VETH}: DUT in namespace A on its veth end, peer (kernel sockets and a
 *       raw socket) in namespace B on the other end.</li>
 *   <li>{@link Kind#LOOPBACK}: DUT and peer share one namespace and its {@code lo}
 *       (127.0.0.1), with multicast enabled on {@code lo}.</li>
 * </ul>
 */
public final class ConformanceSite implements AutoCloseable {
    /** The two layouts. */
    public enum Kind {
        /** Two namespaces joined by a veth pair, TX checksum offload off (as a NIC on the wire). */
        VETH,
        /**
         * Two namespaces joined by a veth pair left as {@code ip link add} makes it: the
         * kernel peer's UDP carries partial checksums.
         */
        VETH_OFFLOAD_ON,
        /** One namespace, everything over its loopback interface. */
        LOOPBACK
    }

    private static final int LOCALHOST = Ipv4.parse("127.0.0.1");

    private final Kind kind;
    private final VethPair topology;
    private final Netns loopback;

    private ConformanceSite(final Kind kind) {
        this.kind = kind;
        this.topology = kind == Kind.VETH ? VethPair.create()
            : kind == Kind.VETH_OFFLOAD_ON ? VethPair.createAsIpMakesIt() : null;
        this.loopback = kind == Kind.LOOPBACK ? Netns.createLoopback() : null;
    }

    /**
     * Creates the namespaces (and veth pair) for a site.
     *
     * @param kind which layout
     * @return the site, ready for traffic
     */
    public static ConformanceSite create(final Kind kind) {
        return new ConformanceSite(kind);
    }

    /** @return the layout */
    public Kind kind() {
        return kind;
    }

    /** @return the veth topology, or null for a loopback site */
    public VethPair topology() {
        return topology;
    }

    /** @return the DUT's namespace */
    public Netns dutNamespace() {
        return topology != null ? topology.a() : loopback;
    }

    /** @return the peer's namespace (the DUT's, for a loopback site) */
    public Netns peerNamespace() {
        return topology != null ? topology.b() : loopback;
    }

    /** @return the thread inside the DUT's namespace */
    public NetnsExecutor dut() {
        return dutNamespace().executor();
    }

    /** @return the thread inside the peer's namespace (the same thread for a loopback site) */
    public NetnsExecutor peer() {
        return peerNamespace().executor();
    }

    /** @return the interface the DUT opens */
    public String dutIface() {
        return topology != null ? topology.ifaceA() : "lo";
    }

    /** @return the interface the peer sends and captures on */
    public String peerIface() {
        return topology != null ? topology.ifaceB() : "lo";
    }

    /** @return the DUT interface's IPv4 address */
    public int dutAddress() {
        return topology != null ? topology.addressA() : LOCALHOST;
    }

    /** @return the peer's IPv4 address */
    public int peerAddress() {
        return topology != null ? topology.addressB() : LOCALHOST;
    }

    /** @return the DUT interface's MAC (0 for lo) */
    public long dutMac() {
        return topology != null ? topology.macA() : 0L;
    }

    /** @return the peer interface's MAC (0 for lo) */
    public long peerMac() {
        return topology != null ? topology.macB() : 0L;
    }

    /**
     * Closes what a test opened, newest first: ports and endpoints on the DUT's thread
     * (in its namespace), anything else directly. Every close runs even when one fails;
     * then the first failure is thrown with the others suppressed.
     *
     * @param opened what the test opened, newest on top; emptied
     * @throws Exception the first close that failed
     */
    public void closeAll(final Deque<AutoCloseable> opened) throws Exception {
        Exception failure = null;
        while (!opened.isEmpty()) {
            final AutoCloseable c = opened.pop();
            try {
                if (c instanceof Port || c instanceof UdpEndpoint || c instanceof io.bypass.tcp.TcpEndpoint) {
                    dut().run(c::close);
                } else {
                    c.close();
                }
            } catch (final Exception e) {
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

    /** Removes the namespaces. */
    @Override
    public void close() {
        if (topology != null) {
            topology.close();
        }
        if (loopback != null) {
            loopback.close();
        }
    }

    @Override
    public String toString() {
        return kind + " " + (topology != null ? topology.toString() : loopback + " lo");
    }
}
