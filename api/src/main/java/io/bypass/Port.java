package io.bypass;

import java.util.Set;

/**
 * An L2 port: one NIC (or VF, or veth) driven by one backend, with its RX and TX queues.
 * Open it with {@link Bypass#open(String)}; close it to free everything it holds
 * (XDP programs detached, memory unmapped, mbufs returned), even after errors.
 *
 * <pre>{@code
 * try (Port port = Bypass.open("afxdp:eth1?nicQueue=0")) {
 *     port.addFlow(0, new FlowRule(Ipv4.parse("239.1.1.1"), 30001));
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
     * Steers a UDP flow to an RX queue. Ports without {@link Capability#FLOW_STEERING}
     * deliver everything and accept this as a no-op. Not for the hot path.
     *
     * @param rxQueueId the queue that receives the flow
     * @param rule      the flow
     */
    void addFlow(int rxQueueId, FlowRule rule);

    /**
     * Stops steering a flow added with {@link #addFlow}.
     *
     * @param rxQueueId the queue it was steered to
     * @param rule      the flow
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
