package io.bypass;

import java.util.Set;

/**
 * An L2 port: one NIC (or VF, or veth) driven by one backend, with its RX and TX queues.
 * Open it with {@link Bypass#open(String)}; close it to free everything it holds
 * (XDP programs detached, memory unmapped, mbufs returned), even after errors.
 *
 * <pre>{@code
 * try (Port port = Bypass.open("afxdp:eth1?nicQueue=0")) {
 *     port.addFlow(0, FlowRule.udp(Ipv4.parse("239.1.1.1"), 30001));
 *     RxQueue rx = port.rxQueue(0);
 *     while (running) {
 *         rx.poll(handler, 64);
 *     }
 * }
 * }</pre>
 */
public interface Port extends AutoCloseable {
    /**
     * @return the backend's name, such as {@code afxdp}
     */
    String backend();

    /**
     * @return the URI this port was opened with
     */
    PortUri uri();

    /**
     * @return what this port can do
     */
    Set<Capability> capabilities();

    /**
     * @return number of RX queues opened on this port
     */
    int rxQueueCount();

    /**
     * @return number of TX queues opened on this port
     */
    int txQueueCount();

    /**
     * @param id queue index, 0 until {@link #rxQueueCount()}
     * @return the RX queue
     */
    RxQueue rxQueue(int id);

    /**
     * @param id queue index, 0 until {@link #txQueueCount()}
     * @return the TX queue
     */
    TxQueue txQueue(int id);

    /**
     * @return the port's counters, including the kernel's or NIC's statistics
     */
    Counters counters();

    /**
     * @return the port's MAC address in the low 48 bits, network order
     */
    long macAddress();

    /**
     * @return the IPv4 address the port answers for (kernel's or configured), or 0 if none
     */
    int ipv4Address();

    /**
     * @return prefix length of {@link #ipv4Address()}'s subnet
     */
    int ipv4PrefixLength();

    /**
     * @return the default gateway's IPv4 address, or 0 if none is known
     */
    int ipv4Gateway();

    /**
     * @return the MTU in bytes (IP packet size, without the Ethernet header)
     */
    int mtu();

    /**
     * Steers a flow (UDP, a TCP connection or a TCP listener, see {@link FlowRule}) to an RX
     * queue. Ports without {@link Capability#FLOW_STEERING} deliver everything and accept this
     * as a no-op, returning the rule as given. Not for the hot path.
     *
     * <p>TCP, where the kernel keeps the interface's address ({@code afxdp:}): the kernel never
     * sees the flow's segments (so it never answers them with a RST), and the rule's local port
     * is reserved in the kernel, as Onload does, by a kernel TCP socket bound to the local
     * address and port (never listening) that the port holds until the rule is removed or the
     * port closed (the kernel closes it if the process dies). A connection rule with local port
     * 0 gets a port the kernel chooses (an ephemeral port, as {@code bind} to port 0 gives); a
     * local address 0 means the port's own. The rule returned says which: keep it, and pass it
     * to {@link #removeFlow}. Rules sharing a local address and port (a listener and the
     * connections it accepted) share one reservation. A port that cannot steer TCP throws
     * {@link UnsupportedByBackendException} naming the backend; a port already reserved by
     * another socket of the host fails with a {@link BypassException} ("Address already in use").
     *
     * @param rxQueueId the queue that receives the flow
     * @param rule      the flow
     * @return the rule as installed: {@code rule}, or for TCP with its local address or port filled in
     * @throws UnsupportedByBackendException if the port cannot steer this kind of flow
     */
    FlowRule addFlow(int rxQueueId, FlowRule rule);

    /**
     * Stops steering a flow added with {@link #addFlow}, and releases the local port it
     * reserved (TCP, unless another rule still shares it).
     *
     * @param rxQueueId the queue it was steered to
     * @param rule      the flow, as {@link #addFlow} returned it
     */
    void removeFlow(int rxQueueId, FlowRule rule);

    /**
     * Joins an IPv4 multicast group at the NIC: programs its multicast filter and, where
     * the kernel owns the interface ({@link Capability#KERNEL_NEIGHBOURS}), joins in the
     * kernel so it sends the IGMP reports. Not for the hot path.
     *
     * @param group the group, big-endian int
     */
    void joinMulticast(int group);

    /**
     * Leaves a group joined with {@link #joinMulticast(int)}.
     *
     * @param group the group, big-endian int
     */
    void leaveMulticast(int group);

    /**
     * Asks the kernel's neighbour table for a next hop's MAC, for ports with
     * {@link Capability#KERNEL_NEIGHBOURS}; others return -1 and the UDP layer uses ARP.
     * May start resolution in the kernel. Not for the hot path.
     *
     * @param ipv4 next-hop address
     * @return the MAC in the low 48 bits, or -1 if not (yet) known
     */
    default long resolveNeighbour(final int ipv4) {
        return -1;
    }

    /**
     * @return true once {@link #close()} has run
     */
    boolean isClosed();

    /**
     * Frees everything the port holds (XDP programs detached, memory unmapped, devices
     * released), every step even after one fails. Idempotent; never throws for a second call.
     *
     * @throws BypassException after freeing everything else, if any step failed: its message names
     *                         every failed step, its cause is the first failure, the others are suppressed
     */
    @Override
    void close();
}
