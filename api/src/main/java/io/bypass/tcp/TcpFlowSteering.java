package io.bypass.tcp;

import io.bypass.BypassException;
import io.bypass.Capability;
import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.FlowRule;
import io.bypass.Port;
import io.bypass.net.Ipv4;
import io.bypass.spi.Closer;

import java.util.Collection;

/**
 * The flows {@link L2TcpEndpoint} takes from the kernel, on a port where the kernel keeps the
 * interface's address ({@link Capability#KERNEL_NEIGHBOURS}: {@code afxdp:}, {@code efvi:}). There
 * the kernel would answer our segments with a RST and hand our local ports to its own sockets, so
 * every listener and connection adds a {@link FlowRule} before its first segment can arrive (the
 * port steers it to our queue and reserves its local port in the kernel) and removes it when it
 * ends. On a port Bypass owns ({@code dpdk:}) nothing is steered: every frame is ours already.
 *
 * <ul>
 *   <li>listen: {@link FlowRule#tcpListener} until the listener is closed;</li>
 *   <li>connect: {@link FlowRule#tcp} with local port 0 before the SYN goes out: the kernel picks the
 *       ephemeral port as {@code bind(0)} does, so it is one no kernel socket holds (and none of ours:
 *       every port we use is reserved by a bound socket until its rule goes) - one {@code bind}, instead
 *       of guessing ports and retrying on {@code EADDRINUSE};</li>
 *   <li>an accepted connection: its own {@link FlowRule#tcp} once its handshake completes. The listener's
 *       rule steers its segments until then, but the connection may outlive the listener: with its own
 *       rule it keeps its steering (and, through the shared reservation, its port) after the listener
 *       is closed, while the kernel answers new SYNs to the closed port with a RST, as for a closed
 *       kernel listener;</li>
 *   <li>a connection's rule is removed when it is CLOSED, whichever way (close, abort, reset, time-out,
 *       the end of TIME_WAIT, the endpoint's close).</li>
 * </ul>
 * Rules change only when connections are made and end, never per segment.
 */
final class TcpFlowSteering {
    private final Port port;
    private final int queue;
    private final boolean enabled;
    private final Counters counters;
    /** A rule that could not be added or removed inside a burst: thrown once the burst is done. */
    private RuntimeException failure;

    /**
     * @param port     the endpoint's port
     * @param queue    the endpoint's RX queue, where the flows are steered
     * @param counters the endpoint's counters
     */
    TcpFlowSteering(final Port port, final int queue, final Counters counters) {
        this.port = port;
        this.queue = queue;
        this.counters = counters;
        this.enabled = port.capabilities().contains(Capability.KERNEL_NEIGHBOURS);
    }

    /** @return whether flows are steered (the kernel keeps the address) */
    boolean enabled() {
        return enabled;
    }

    /**
     * @param localAddress our address
     * @param localPort    the port listened on
     * @return the rule added, or null where nothing is steered
     */
    FlowRule listen(final int localAddress, final int localPort) {
        return enabled ? port.addFlow(queue, FlowRule.tcpListener(localAddress, localPort)) : null;
    }

    /**
     * Steers an active open to {@code remoteAddress:remotePort} from a local port the kernel chooses.
     *
     * @param localAddress  our address
     * @param remoteAddress the peer
     * @param remotePort    its port
     * @return the rule added, whose {@link FlowRule#localPort()} the connection uses; null where nothing is steered
     * @throws BypassException if the kernel has no ephemeral port left (counted as {@code TCP_CONNECT_FAILED})
     */
    FlowRule connect(final int localAddress, final int remoteAddress, final int remotePort) {
        if (!enabled) {
            return null;
        }
        try {
            return port.addFlow(queue, FlowRule.tcp(localAddress, 0, remoteAddress, remotePort));
        } catch (final BypassException e) {
            counters.increment(Counter.TCP_CONNECT_FAILED);
            throw new BypassException("no ephemeral port free to " + Ipv4.toString(remoteAddress) + ":" + remotePort
                + ": on " + port.backend() + " the kernel chooses and reserves our local ports (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Gives an accepted connection whose handshake just completed (inside a burst) its own rule.
     * Should that fail, the listener's rule still steers it while the listener lives, and the failure
     * is thrown once the burst is done ({@link #throwFailure()}).
     *
     * @param c the connection
     */
    void accepted(final L2TcpConnection c) {
        if (!enabled) {
            return;
        }
        try {
            c.flow = port.addFlow(queue, FlowRule.tcp(c.localAddress, c.localPort, c.remoteAddress, c.remotePort));
        } catch (final RuntimeException e) {
            failLater(e);
        }
    }

    /**
     * A connection is CLOSED: its rule goes (a failure is thrown once the burst is done).
     *
     * @param c the connection
     */
    void released(final L2TcpConnection c) {
        final FlowRule flow = c.flow;
        if (flow != null) {
            c.flow = null;
            try {
                remove(flow);
            } catch (final RuntimeException e) {
                failLater(e);
            }
        }
    }

    /**
     * Removes a rule this class added; nothing if it is null or the port is already closed (closing
     * the port removed every rule and reservation).
     *
     * @param rule the rule, or null
     */
    void remove(final FlowRule rule) {
        if (rule != null && !port.isClosed()) {
            port.removeFlow(queue, rule);
        }
    }

    /**
     * Removes {@code flow} after an open failed with {@code e}.
     *
     * @param e    the failure, which gets any new one as suppressed
     * @param flow the rule added for the open, or null
     */
    void removeAfterFailure(final RuntimeException e, final FlowRule flow) {
        try {
            remove(flow);
        } catch (final RuntimeException again) {
            e.addSuppressed(again);
        }
    }

    /**
     * The endpoint is closing (its connections already ended): every listener's rule goes, each even if
     * another fails, and any failure left from a burst is reported.
     *
     * @param listeners the listeners still open
     * @param closer    collects the failures
     */
    void closing(final Collection<L2TcpListener> listeners, final Closer closer) {
        for (final L2TcpListener l : listeners) {
            final FlowRule flow = l.flow;
            l.flow = null;
            closer.run("removing the flow of the listener on port " + l.localPort(), () -> remove(flow));
        }
        final RuntimeException e = failure;
        if (e != null) {
            failure = null;
            closer.run("removing the flows of connections", () -> {
                throw e;
            });
        }
    }

    private void failLater(final RuntimeException e) {
        if (failure == null) {
            failure = e;
        } else if (failure != e) {
            failure.addSuppressed(e);
        }
    }

    /** Throws what failed in the burst just done, if anything did. */
    void throwFailure() {
        final RuntimeException e = failure;
        if (e != null) {
            failure = null;
            throw e;
        }
    }
}
