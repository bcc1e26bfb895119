package io.bypass.udp;

import io.bypass.Capability;
import io.bypass.Counters;
import io.bypass.PortUri;
import org.agrona.DirectBuffer;

import java.util.Set;

/**
 * UDP over IPv4 on any backend: unicast bind, multicast join and leave on the URI's
 * interface, zero-copy poll and send. The same code runs on {@code efvi:},
 * {@code dpdk:}, {@code afxdp:} and {@code nio:}.
 *
 * <pre>{@code
 * try (UdpEndpoint udp = Bypass.openUdp("auto:eth1")) {
 *     udp.join(Ipv4.parse("239.1.1.1"), 30001);
 *     DatagramHandler onData = (buffer, offset, length, meta) -> book.apply(buffer, offset, length);
 *     IdleStrategy idle = new BusySpinIdleStrategy();
 *     while (running) {
 *         idle.idle(udp.poll(onData, 64));
 *     }
 * }
 * }</pre>
 *
 * <p>Use from one thread. Hot-path methods ({@link #poll}, {@link #tryClaim},
 * {@link #send}, {@link #flush}) allocate nothing and report problems through return
 * codes and {@link #counters()}; they throw only after {@link #close()}.
 */
public interface UdpEndpoint extends AutoCloseable {
    /** {@link #tryClaim} and {@link #send} succeeded. */
    int OK = 0;
    /** The TX ring or socket buffer is full: {@link #flush()} and retry. */
    int BACK_PRESSURED = -1;
    /** The next hop's MAC is being resolved (ARP); retry shortly. Counted as a drop if given up. */
    int NEIGHBOUR_PENDING = -2;
    /** The payload does not fit one frame (no fragmentation). */
    int TOO_LONG = -3;

    /**
     * @return the backend's name, such as {@code afxdp} or {@code nio}
     */
    String backend();

    /**
     * @return the URI this endpoint was opened with
     */
    PortUri uri();

    /**
     * @return what this endpoint can do
     */
    Set<Capability> capabilities();

    /**
     * Receives unicast datagrams sent to this interface's address on {@code port}. Also
     * the source port of datagrams sent after this call. Not for the hot path.
     *
     * @param port UDP port, 1..65535
     */
    void bind(int port);

    /**
     * Joins a multicast group on the URI's interface and receives datagrams sent to
     * {@code group:port}. IGMP reports go out (from the kernel, or from the protocol
     * layer on backends that own the NIC). Not for the hot path.
     *
     * @param group IPv4 group as a big-endian int, 224.0.0.0/4
     * @param port  UDP port
     */
    void join(int group, int port);

    /**
     * Leaves a group joined with {@link #join(int, int)}; its traffic is no longer delivered.
     *
     * @param group IPv4 group
     * @param port  UDP port
     */
    void leave(int group, int port);

    /**
     * Delivers up to {@code limit} datagrams. Malformed frames and traffic for ports not
     * bound or groups not joined are counted by reason in {@link #counters()}, never thrown.
     *
     * @param handler called once per datagram
     * @param limit   most datagrams to deliver, at least 1
     * @return datagrams delivered
     */
    int poll(DatagramHandler handler, int limit);

    /**
     * Claims room for a payload of {@code length} bytes to {@code destination}; the
     * endpoint writes the Ethernet, IPv4 and UDP headers.
     *
     * @param destination where it goes
     * @param length      payload bytes
     * @param claim       the flyweight to point at the payload
     * @return {@link #OK}, {@link #BACK_PRESSURED}, {@link #NEIGHBOUR_PENDING} or {@link #TOO_LONG}
     */
    int tryClaim(UdpDestination destination, int length, DatagramClaim claim);

    /**
     * Copies a payload into a claim and commits it.
     *
     * @param destination where it goes
     * @param buffer      the payload
     * @param offset      where it starts
     * @param length      payload bytes
     * @return as {@link #tryClaim}
     */
    int send(UdpDestination destination, DirectBuffer buffer, int offset, int length);

    /**
     * Sends every committed datagram: at most one syscall.
     *
     * @return datagrams handed to the NIC or kernel by this call
     */
    int flush();

    /**
     * @return the largest payload one datagram can carry
     */
    int maxPayloadLength();

    /**
     * @return the local IPv4 address datagrams are sent from, or 0 if any
     */
    int localAddress();

    /**
     * @return the source UDP port of sent datagrams
     */
    int localPort();

    /**
     * @return counters, drops by reason included
     */
    Counters counters();

    /**
     * @return true once {@link #close()} has run
     */
    boolean isClosed();

    /**
     * Leaves every group, unbinds, and frees everything; closes the underlying port.
     * Idempotent.
     */
    @Override
    void close();
}
