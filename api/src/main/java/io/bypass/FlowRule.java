package io.bypass;

/**
 * A flow of IPv4 frames that a {@link Port} with {@link Capability#FLOW_STEERING} delivers to
 * one RX queue; every other frame stays with the kernel. Three kinds, made by the factories:
 *
 * <ul>
 *   <li>{@link #udp(int, int)}: UDP datagrams to a destination address (a multicast group, the
 *       port's unicast address, or 0 for any) and port;</li>
 *   <li>{@link #tcp(int, int, int, int)}: one TCP connection, by its 4-tuple: the segments the
 *       remote end sends to the local end;</li>
 *   <li>{@link #tcpListener(int, int)}: every TCP segment to a local address and port, from any
 *       remote end: the SYNs of a listener, and the segments of a connection it accepted until
 *       that connection's own rule is added.</li>
 * </ul>
 *
 * <pre>{@code
 * port.addFlow(0, FlowRule.udp(Ipv4.parse("239.1.1.1"), 30001));            // a market-data group
 * FlowRule order = port.addFlow(0, FlowRule.tcp(0, 0, exchange, 9000));      // our address, a port the kernel chose
 * int localPort = order.localPort();                                          // the SYN goes out from it
 * FlowRule gateway = port.addFlow(0, FlowRule.tcpListener(0, 8000));         // take connections on 8000
 * ...
 * port.removeFlow(0, order);                                                  // the rule addFlow returned
 * }</pre>
 *
 * <p>Where the kernel keeps the interface's address ({@code afxdp:}), adding a TCP rule also
 * reserves its local port in the kernel (a kernel TCP socket bound to it, never listening) so no
 * kernel socket is given that port, and the kernel never sees the flow's segments, so it never
 * answers them with a RST; {@link Port#removeFlow} and {@link Port#close()} release both. See
 * {@link Port#addFlow}. Fields are in the order a received frame carries them: its destination is
 * the local end, its source the remote end.
 *
 * @param protocol           {@link Protocol#UDP} or {@link Protocol#TCP}
 * @param destinationAddress IPv4 destination (the local address) as a big-endian int; 0: for UDP any
 *                           address, for TCP the port's own address
 * @param destinationPort    destination (local) port: UDP 1..65535; TCP 1..65535, or 0 in a connection
 *                           rule for a port the kernel chooses (see {@link Port#addFlow})
 * @param sourceAddress      a TCP connection's remote address; 0 for UDP and for a listener
 * @param sourcePort         a TCP connection's remote port, 1..65535; 0 for UDP and for a listener
 */
public record FlowRule(Protocol protocol, int destinationAddress, int destinationPort, int sourceAddress, int sourcePort) {

    /** The transport protocol a rule steers. */
    public enum Protocol {
        /** UDP datagrams, by destination address and port. */
        UDP,
        /** TCP segments, by 4-tuple (a connection) or by destination address and port (a listener). */
        TCP
    }

    /**
     * Validates the rule; the factories are the way to make one.
     *
     * @param protocol           UDP or TCP
     * @param destinationAddress local IPv4 address or 0
     * @param destinationPort    local port
     * @param sourceAddress      remote address of a TCP connection, else 0
     * @param sourcePort         remote port of a TCP connection, else 0
     * @throws IllegalArgumentException naming what is out of range
     */
    public FlowRule {
        if (protocol == null) {
            throw new IllegalArgumentException("protocol is null: use FlowRule.udp, FlowRule.tcp or FlowRule.tcpListener");
        }
        if (protocol == Protocol.UDP) {
            checkPort("UDP port", destinationPort, 1);
            if (sourceAddress != 0 || sourcePort != 0) {
                throw new IllegalArgumentException("a UDP rule steers by destination only: source "
                    + (sourceAddress & 0xFFFF_FFFFL) + ":" + sourcePort + " must be 0:0");
            }
        } else {
            if ((destinationAddress >>> 28) == 0xE) {
                throw new IllegalArgumentException("a TCP rule's local address cannot be a multicast group");
            }
            if (sourceAddress == 0 && sourcePort == 0) {
                checkPort("TCP listener port", destinationPort, 1);
            } else {
                checkPort("TCP local port", destinationPort, 0);
                checkPort("TCP remote port", sourcePort, 1);
                if (sourceAddress == 0 || (sourceAddress >>> 28) == 0xE) {
                    throw new IllegalArgumentException("a TCP connection's remote address must be a unicast address, not "
                        + (sourceAddress == 0 ? "0" : "a multicast group"));
                }
            }
        }
    }

    /**
     * A UDP flow, as {@link #udp(int, int)}; kept for the callers written before TCP rules existed.
     *
     * @param destinationAddress IPv4 destination (unicast or multicast group) as a big-endian int, or 0 for any address
     * @param destinationPort    UDP destination port, 1..65535
     */
    public FlowRule(final int destinationAddress, final int destinationPort) {
        this(Protocol.UDP, destinationAddress, destinationPort, 0, 0);
    }

    /**
     * UDP datagrams to an address and port.
     *
     * @param destinationAddress IPv4 destination (unicast or multicast group) as a big-endian int, or 0 for any address
     * @param destinationPort    UDP destination port, 1..65535
     * @return the rule
     */
    public static FlowRule udp(final int destinationAddress, final int destinationPort) {
        return new FlowRule(Protocol.UDP, destinationAddress, destinationPort, 0, 0);
    }

    /**
     * One TCP connection: the segments {@code remoteAddress:remotePort} sends to
     * {@code localAddress:localPort}. For an active open, pass local port 0 and use the rule
     * {@link Port#addFlow} returns: it holds the port the kernel chose and reserved.
     *
     * @param localAddress  our IPv4 address, or 0 for the port's own
     * @param localPort     our port, 1..65535, or 0 to have one chosen
     * @param remoteAddress the peer's unicast IPv4 address
     * @param remotePort    the peer's port, 1..65535
     * @return the rule
     */
    public static FlowRule tcp(final int localAddress, final int localPort, final int remoteAddress, final int remotePort) {
        return new FlowRule(Protocol.TCP, localAddress, localPort, remoteAddress, remotePort);
    }

    /**
     * Every TCP segment to a local address and port, from any peer: what a listener receives
     * (SYNs, and an accepted connection's segments until its own {@link #tcp} rule is added).
     *
     * @param localAddress our IPv4 address, or 0 for the port's own
     * @param localPort    the listening port, 1..65535
     * @return the rule
     */
    public static FlowRule tcpListener(final int localAddress, final int localPort) {
        return new FlowRule(Protocol.TCP, localAddress, localPort, 0, 0);
    }

    /**
     * @return true for a TCP rule, connection or listener
     */
    public boolean isTcp() {
        return protocol == Protocol.TCP;
    }

    /**
     * @return true for a TCP listener rule (no remote end)
     */
    public boolean isTcpListener() {
        return protocol == Protocol.TCP && sourcePort == 0;
    }

    /**
     * @return the local address: the destination of the frames steered
     */
    public int localAddress() {
        return destinationAddress;
    }

    /**
     * @return the local port: the destination port of the frames steered
     */
    public int localPort() {
        return destinationPort;
    }

    /**
     * @param address the local address to use
     * @param port    the local port to use
     * @return this rule with another local end (what a port installed, its own address or chosen port filled in)
     */
    public FlowRule withLocal(final int address, final int port) {
        return new FlowRule(protocol, address, port, sourceAddress, sourcePort);
    }

    /**
     * Written out rather than left to the record's bootstrap, whose first call spins classes (hundreds of
     * KB, milliseconds) on whatever thread first compares two rules: a poller tearing down a connection.
     */
    @Override
    public boolean equals(final Object o) {
        return o instanceof FlowRule r && protocol == r.protocol && destinationAddress == r.destinationAddress
            && destinationPort == r.destinationPort && sourceAddress == r.sourceAddress && sourcePort == r.sourcePort;
    }

    @Override
    public int hashCode() {
        int h = protocol.hashCode();
        h = 31 * h + destinationAddress;
        h = 31 * h + destinationPort;
        h = 31 * h + sourceAddress;
        return 31 * h + sourcePort;
    }

    @Override
    public String toString() {
        final String local = ipv4(destinationAddress) + ":" + destinationPort;
        if (protocol == Protocol.UDP) {
            return "udp " + local;
        }
        return sourcePort == 0 ? "tcp listener " + local : "tcp " + local + " <- " + ipv4(sourceAddress) + ":" + sourcePort;
    }

    private static String ipv4(final int a) {
        return (a >>> 24) + "." + ((a >>> 16) & 0xFF) + "." + ((a >>> 8) & 0xFF) + "." + (a & 0xFF);
    }

    private static void checkPort(final String what, final int port, final int min) {
        if (port < min || port > 65535) {
            throw new IllegalArgumentException(what + " " + port + " outside " + min + "..65535");
        }
    }
}
