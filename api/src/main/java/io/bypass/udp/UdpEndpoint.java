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
 * codes and {@link #counters()}; they throw only after {@link #close()} (a
 * {@link io.bypass.BypassException} "endpoint closed: URI (open a new one)", from every
 * method but {@link #close()}, {@link #isClosed()} and {@link #counters()}) and for
 * programming errors (an {@link IllegalArgumentException}: a negative length).
 *
 * <p>Every backend behaves the same: the conformance suite asserts it.
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
     * @throws IllegalArgumentException if the port is out of range
     */
    void bind(int port);

    /**
     * Joins a multicast group on the URI's interface and receives datagrams sent to
     * {@code group:port}. IGMP reports go out (from the kernel, or from the protocol
     * layer on backends that own the NIC). Joining a group and port already joined is a
     * no-op. Not for the hot path.
     *
     * @param group IPv4 group as a big-endian int, 224.0.0.0/4
     * @param port  UDP port
     * @throws IllegalArgumentException if {@code group} is not multicast (use {@link #bind} for unicast)
     *                                  or the port is out of range
     */
    void join(int group, int port);

    /**
     * Leaves a group joined with {@link #join(int, int)}; its traffic is no longer delivered.
     *
     * @param group IPv4 group
     * @param port  UDP port
     * @throws IllegalArgumentException if {@code group:port} is not joined
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
     *         (longer than {@link #maxPayloadLength()}, counted as {@code DROP_TOO_LONG})
     * @throws IllegalArgumentException if {@code length} is negative
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
     * Warms up the receive and send paths before the market opens: pushes {@code datagrams}
     * synthetic datagrams carrying {@code payload} through this endpoint's own classification,
     * checksum and delivery code (and, where the backend supports it, its own poll loop over
     * private rings) into {@code handler}, and as many sends to the first joined group (or a
     * placeholder group) through header building into discarded frames. Nothing is sent on
     * the wire and no real frame is taken: what arrives meanwhile waits in the receive ring,
     * within the stall budget. Counters do not move.
     *
     * <p>Why: the JIT compiles code for the paths it has seen. A poll loop that saw only empty
     * polls until the open is compiled for no frames, and the first burst runs through
     * deoptimised, reinterpreted code while frames pile up. Pass a handler of the same class as
     * the live one over scratch state (a scratch order book), and a payload the live handler
     * will see (a real message), so its code is compiled too.
     *
     * <pre>{@code
     * md.join(group, port);
     * md.warmUp(new BookUpdater(new Book()), samplePacket, 0, samplePacket.capacity(), 100_000);
     * while (running) idle.idle(md.poll(liveHandler, 64));
     * }</pre>
     *
     * @param handler   receives the synthetic datagrams
     * @param payload   the payload of each synthetic datagram
     * @param offset    where it starts
     * @param length    its length, at most {@link #maxPayloadLength()}
     * @param datagrams how many to receive and send
     * @return datagrams delivered to {@code handler}
     * @throws IllegalStateException    before any {@link #join} or {@link #bind}, or on a closed endpoint
     * @throws IllegalArgumentException if {@code length} or {@code datagrams} is out of range
     */
    int warmUp(DatagramHandler handler, DirectBuffer payload, int offset, int length, int datagrams);

    /**
     * Warms up the application's whole polling loop, not just its handler: runs
     * {@code dutyCycle} (the very method the live loop calls) while this endpoint is diverted as
     * in {@link #warmUp(DatagramHandler, DirectBuffer, int, int, int)}, until this endpoint has
     * delivered at least {@code datagrams} synthetic datagrams carrying {@code payload} to
     * whatever handler the duty cycle polls with. The synthetic datagrams come from a
     * placeholder sender that the duty cycle may answer: a unicast reply to
     * {@link DatagramMeta#sourceAddress()} takes the unicast send path (its next hop is
     * resolved for the warm-up, without ARP or a kernel query) and goes nowhere. Nothing is sent
     * on the wire, no real frame is taken, and counters do not move. The endpoint reads
     * {@code payload} again before each turn, so a duty cycle may change it between turns
     * (move a sequence number on) and the datagrams made after it carry the change (on nio a
     * few already queued on loopback still carry the previous payload).
     *
     * <p>Why: a loop the JIT compiled while it only ever polled an empty ring has no code for
     * "a datagram arrived, answer it"; the first live datagram deoptimises it, and it runs in
     * the interpreter while it is compiled again (measured on afxdp: about 20 methods of the
     * receive-and-reply path deoptimised within a millisecond of the first live datagram).
     *
     * @param dutyCycle one turn of the application's loop; it must poll this endpoint
     * @param payload   the payload of each synthetic datagram
     * @param offset    where it starts
     * @param length    its length, at most {@link #maxPayloadLength()}
     * @param datagrams how many synthetic datagrams to deliver
     * @return datagrams delivered (at least {@code datagrams}: a poll's last batch may go past it)
     * @throws IllegalStateException    before any {@link #join} or {@link #bind}, on a closed
     *                                  endpoint, or when the duty cycle stops polling this endpoint
     *                                  (no datagram delivered in {@value #WARM_UP_IDLE_TURNS} turns)
     * @throws IllegalArgumentException if {@code length} or {@code datagrams} is out of range
     */
    int warmUpDutyCycle(DutyCycle dutyCycle, DirectBuffer payload, int offset, int length, int datagrams);

    /** Turns of a {@link DutyCycle} in a row that may deliver nothing before a warm-up gives up. */
    int WARM_UP_IDLE_TURNS = 10_000;

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
     * {@code RX_PACKETS}/{@code RX_BYTES} count datagrams and payload bytes delivered;
     * {@code TX_PACKETS}/{@code TX_BYTES} count frames sent and their Ethernet length (headers
     * included, padded to 60 bytes, no FCS), on every backend.
     *
     * @return counters, drops by reason included
     */
    Counters counters();

    /**
     * @return true once {@link #close()} has run
     */
    boolean isClosed();

    /**
     * Leaves every group, unbinds, and frees everything; closes the underlying port. Every
     * step runs even after one fails. Idempotent.
     *
     * @throws io.bypass.BypassException after freeing everything else, if any step failed: its message
     *                                   names every failed step, its cause is the first failure, the
     *                                   others are suppressed
     */
    @Override
    void close();
}
