package io.bypass.afxdp;

import io.bypass.Port;

/**
 * A {@link Port} opened by the {@code afxdp:} backend, for the few things only AF_XDP
 * has. Most applications never need it: {@link Port#capabilities()} already says
 * whether receive and transmit are zero-copy.
 *
 * <p>Closing the port unmaps the UMEM: every method then throws
 * {@link io.bypass.BypassException}, but a {@code DirectBuffer} or {@code FrameClaim}
 * buffer kept from before the close points at unmapped memory, as with any Agrona buffer
 * over freed memory; do not keep them past the callback or the commit. For the same
 * reason close the port from the thread that polls and sends, or after those threads
 * have stopped: a close racing a poll can unmap the UMEM under the handler.
 *
 * <p>If a {@link io.bypass.FrameHandler} throws, {@code poll} rethrows it; the frame it was
 * handed is counted as received, and the frames after it stay in the RX ring for the next
 * poll, so none is lost uncounted.
 *
 * <pre>{@code
 * try (Port port = Bypass.open("afxdp:eth1?mode=auto")) {
 *     if (port instanceof AfXdpPort x && !x.isZeroCopy()) {
 *         log.warn("AF_XDP fell back to copy mode on {}", x.interfaceName());
 *     }
 * }
 * }</pre>
 */
public interface AfXdpPort extends Port {
    /**
     * @return true if the sockets are bound in zero-copy mode; with {@code mode=auto} this
     *         says which mode the driver gave us
     */
    boolean isZeroCopy();

    /**
     * @return the XDP attach mode asked for: {@code drv}, {@code skb} or {@code auto}
     */
    String xdpMode();

    /**
     * @return the interface name
     */
    String interfaceName();

    /**
     * @return the interface index in the port's network namespace
     */
    int interfaceIndex();

    /**
     * @return the first RX/TX queue id of the NIC this port is bound to ({@code nicQueue=} in the URI);
     *         port queue {@code i} is NIC queue {@code firstQueueId() + i}
     */
    int firstQueueId();
}
