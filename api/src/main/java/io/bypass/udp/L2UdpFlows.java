package io.bypass.udp;

import io.bypass.FlowRule;
import io.bypass.Port;
import io.bypass.TxQueue;
import io.bypass.net.FrameClassifier;
import io.bypass.net.IgmpReporter;
import io.bypass.net.Ipv4;
import io.bypass.spi.Closer;
import io.bypass.spi.UdpRules;

import java.util.ArrayList;
import java.util.List;

/**
 * The flows one {@link L2UdpEndpoint} receives: each bound port and joined group is
 * steered to the endpoint's RX queue ({@link Port#addFlow}), accepted by its
 * {@link FrameClassifier}, and for a group also joined at the port
 * ({@link Port#joinMulticast}) and reported by IGMP (unless the kernel owns IGMP: then
 * {@code igmp} is null). Undone one by one by {@link #leave}, all at once by {@link #removeAll}.
 * Arguments are checked by the endpoint; not thread-safe.
 */
final class L2UdpFlows {
    private final Port port;
    private final int queueId;
    private final int localAddress;
    private final FrameClassifier classifier;
    private final IgmpReporter igmp;
    private final List<FlowRule> bound = new ArrayList<>();
    private final List<FlowRule> joined = new ArrayList<>();

    /**
     * @param port         the port flows are steered on
     * @param queueId      the RX queue they are steered to
     * @param localAddress the address bound ports are steered for
     * @param classifier   accepts what is bound and joined
     * @param igmp         reports joins and leaves, or null where the kernel owns IGMP
     */
    L2UdpFlows(final Port port, final int queueId, final int localAddress, final FrameClassifier classifier,
               final IgmpReporter igmp) {
        this.port = port;
        this.queueId = queueId;
        this.localAddress = localAddress;
        this.classifier = classifier;
        this.igmp = igmp;
    }

    /**
     * Steers {@code FlowRule(localAddress, udpPort)} here, once.
     *
     * @param udpPort a valid UDP port
     */
    void bind(final int udpPort) {
        if (!classifier.subscriptions().isBound(udpPort)) {
            final FlowRule rule = new FlowRule(localAddress, udpPort);
            port.addFlow(queueId, rule);
            classifier.subscriptions().bind(udpPort);
            bound.add(rule);
        }
    }

    /**
     * Steers {@code FlowRule(group, udpPort)} here and, for a group new here, joins it at
     * the port and reports it (flushed on {@code tx}). Joining twice is a no-op; if the port
     * refuses the group, the flow is removed again and the failure thrown.
     *
     * @param group   a multicast group
     * @param udpPort a valid UDP port
     * @param tx      the queue IGMP goes out on
     */
    void join(final int group, final int udpPort, final TxQueue tx) {
        if (classifier.subscriptions().isJoined(group, udpPort)) {
            return;
        }
        final FlowRule rule = new FlowRule(group, udpPort);
        port.addFlow(queueId, rule);
        final boolean newGroup = !classifier.subscriptions().isJoined(group);
        if (newGroup) {
            try {
                port.joinMulticast(group);
            } catch (final RuntimeException e) {
                port.removeFlow(queueId, rule);
                throw e;
            }
        }
        classifier.subscriptions().join(group, udpPort);
        joined.add(rule);
        if (newGroup && igmp != null) {
            igmp.reportJoin(group, tx);
        }
    }

    /**
     * Undoes {@link #join}: removes the flow and, for the group's last port, reports the
     * leave (flushed on {@code tx}) and leaves the group at the port.
     *
     * @throws IllegalArgumentException if {@code group:udpPort} is not joined
     */
    void leave(final int group, final int udpPort, final TxQueue tx) {
        if (!classifier.subscriptions().isJoined(group, udpPort)) {
            throw UdpRules.notJoined(group, udpPort);
        }
        doLeave(group, udpPort, tx);
        joined.remove(new FlowRule(group, udpPort));
    }

    private void doLeave(final int group, final int udpPort, final TxQueue tx) {
        final boolean lastPort = classifier.subscriptions().leave(group, udpPort);
        port.removeFlow(queueId, new FlowRule(group, udpPort));
        if (lastPort) {
            if (igmp != null) {
                igmp.reportLeave(group, tx);
            }
            port.leaveMulticast(group);
        }
    }

    /**
     * @return the first group joined, else the first port bound, else null: the flow a warm-up takes
     */
    FlowRule first() {
        return !joined.isEmpty() ? joined.get(0) : !bound.isEmpty() ? bound.get(0) : null;
    }

    /**
     * Leaves every group and removes every flow, carrying on past failures.
     *
     * @param tx     the queue IGMP leaves go out on
     * @param closer records each failure
     */
    void removeAll(final TxQueue tx, final Closer closer) {
        for (final FlowRule rule : joined) {
            closer.run("leaving " + Ipv4.toString(rule.destinationAddress()) + ":" + rule.destinationPort(),
                () -> doLeave(rule.destinationAddress(), rule.destinationPort(), tx));
        }
        for (final FlowRule rule : bound) {
            closer.run("unbinding port " + rule.destinationPort(), () -> port.removeFlow(queueId, rule));
        }
        clear();
    }

    /** Forgets every flow without touching the port (closed, or its removal failed). */
    void clear() {
        joined.clear();
        bound.clear();
    }
}
