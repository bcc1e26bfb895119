package io.bypass.tcp;

import io.bypass.Counters;
import io.bypass.PortUri;

/**
 * TCP over IPv4 on one interface: active opens ({@link #connect}), passive opens ({@link #listen}),
 * and the connections they make, for the order link. Opened by {@link io.bypass.Bypass#openTcp(String)}.
 *
 * <pre>{@code
 * try (TcpEndpoint tcp = Bypass.openTcp("nio:eth1")) {              // Nagle and delayed ACKs off by default
 *     TcpConnection exchange = tcp.connect(Ipv4.parse("10.0.0.2"), 9000);
 *     while (exchange.state() == TcpState.SYN_SENT) {
 *         idle.idle(tcp.poll(16));
 *     }
 *     if (exchange.state() != TcpState.ESTABLISHED) {
 *         throw new IllegalStateException("exchange: " + exchange.closeReason());   // "refused", "timed out"...
 *     }
 *     ...
 * }
 * }</pre>
 *
 * <p>{@code nio:} opens TCP on kernel sockets ({@code SocketChannel} with {@code TCP_NODELAY}) and
 * {@code dpdk:}, {@code afxdp:} and {@code efvi:} run Bypass's own TCP over the port ({@link L2TcpEndpoint});
 * on the last two the kernel keeps the interface's address, and each flow is steered past it. The conformance suite
 * ({@code TcpConformanceSuite}, in the api test-jar) holds every backend to the same behaviour against
 * the kernel's TCP.
 *
 * <p>Use the endpoint and its connections from one thread. Hot-path methods allocate nothing in
 * steady state and report through return codes, connection states and counters; the endpoint's
 * methods throw a {@link io.bypass.BypassException} after {@link #close()}.
 */
public interface TcpEndpoint extends AutoCloseable {
    /** @return the backend's name, such as {@code nio} */
    String backend();

    /** @return the URI this endpoint was opened with */
    PortUri uri();

    /**
     * Starts an active open from this endpoint's interface. Returns at once: the connection is
     * {@link TcpState#SYN_SENT} (or already {@link TcpState#ESTABLISHED}); {@link #poll(int)} or the
     * connection's own poll completes it. A refused or unanswered open ends as {@link TcpState#CLOSED}
     * with a {@link TcpConnection#closeReason()} and a counter, never an exception. Not for the hot path
     * (it allocates the connection).
     *
     * @param remoteAddress the peer's IPv4 address, big-endian int
     * @param remotePort    the peer's port, 1..65535
     * @return the connection
     * @throws IllegalArgumentException if the port is out of range or the address is 0
     * @throws io.bypass.BypassException if no socket or buffer can be had (the process's file limit), or after close
     */
    TcpConnection connect(int remoteAddress, int remotePort);

    /**
     * Starts a passive open on this endpoint's address.
     *
     * @param localPort 1..65535
     * @return the listener
     * @throws IllegalArgumentException if the port is out of range
     * @throws io.bypass.BypassException if the port is taken (naming it), or after close
     */
    TcpListener listen(int localPort);

    /**
     * Drives the stack: completes active opens, carries closes through (queued bytes, the FIN, the
     * peer's FIN), and on a backend with its own TCP, handshakes, timers and retransmissions. It does
     * not deliver bytes: each connection's {@link TcpConnection#poll} does.
     *
     * @param limit most units of work, at least 1
     * @return units of work done (state changes, bytes moved for closing connections); 0 when idle
     */
    int poll(int limit);

    /** @return every connection's counters added up, and the endpoint's own */
    Counters counters();

    /** @return true once {@link #close()} has run */
    boolean isClosed();

    /**
     * Closes every listener and connection (each connection's queued bytes get one last flush; the
     * kernel or stack then sends FIN, or RST if unread bytes remain) and frees everything. Every step
     * runs even after one fails. Idempotent.
     *
     * @throws io.bypass.BypassException after freeing everything else, naming every step that failed
     */
    @Override
    void close();
}
