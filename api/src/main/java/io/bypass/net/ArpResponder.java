package io.bypass.net;

import io.bypass.TxQueue;
import org.agrona.DirectBuffer;

/**
 * Answers ARP for our address and learns neighbours from what it hears, into the
 * {@link NextHopResolver}'s table (RFC 826, with Linux's caution about what to learn):
 * <ul>
 *   <li>A request for our address is answered with a reply to its sender, and the sender
 *       learned (it is about to talk to us).</li>
 *   <li>A reply for our address (the answer to our request) is learned.</li>
 *   <li>Anything else that reaches us (gratuitous ARP, announcements) only refreshes a
 *       neighbour already in the table, never adds one: a failover announced this way moves
 *       traffic at once, and strangers cannot fill the table.</li>
 *   <li>A sender with address 0 (a probe), our own address, or a zero or multicast MAC is
 *       never learned.</li>
 * </ul>
 *
 * <p>Frames reach it already validated and filtered by a {@link FrameClassifier}
 * ({@link FrameClassifier#ARP}: well formed, broadcast or to our MAC, for our address or
 * gratuitous). Where the port has {@link io.bypass.Capability#KERNEL_NEIGHBOURS} the kernel
 * answers ARP and this class is not used.
 *
 * <pre>{@code
 * if (classifier.classify(buffer, offset, length) == FrameClassifier.ARP) {
 *     arpResponder.onArp(buffer, classifier.l4Offset(), tx);
 * }
 * }</pre>
 *
 * <p>Not thread-safe: use from the polling thread. Allocates nothing and keeps no string
 * constant (see {@link io.bypass.spi.HotPathErrors}).
 */
public final class ArpResponder {
    private final Ipv4Link link;
    private final NextHopResolver resolver;
    private final NeighbourTable neighbours;
    private final int localAddress;
    private final Arp arp = new Arp();

    /**
     * @param link     our end of the link: the address we answer for, and how replies are written
     * @param resolver whose {@link NextHopResolver#neighbours() table} learns, at its {@link NextHopResolver#nowNanos() time}
     */
    public ArpResponder(final Ipv4Link link, final NextHopResolver resolver) {
        this.link = link;
        this.resolver = resolver;
        this.neighbours = resolver.neighbours();
        this.localAddress = link.localAddress();
    }

    /**
     * Handles one ARP packet: learns its sender as the rules above say, and answers a
     * request for our address (the reply goes out on {@code tx} and is flushed; a full
     * TX ring drops it, as a busy host's would be, and the peer asks again).
     *
     * @param buffer the frame's buffer
     * @param offset where the ARP packet starts ({@link FrameClassifier#l4Offset()})
     * @param tx     the queue the reply goes out on
     */
    public void onArp(final DirectBuffer buffer, final int offset, final TxQueue tx) {
        final Arp a = arp.wrap(buffer, offset, Arp.LENGTH);
        final long senderMac = a.senderMac();
        final int senderAddress = a.senderAddress();
        final boolean validSender = senderAddress != 0 && senderAddress != localAddress
            && !Mac.isMulticast(senderMac) && senderMac != Mac.ZERO;
        final long now = resolver.nowNanos();
        if (a.targetAddress() != localAddress) {
            // gratuitous: update a neighbour we already use (RFC 826 merge), never add one
            if (validSender) {
                neighbours.refresh(senderAddress, senderMac, now);
            }
            return;
        }
        if (validSender) {
            neighbours.learn(senderAddress, senderMac, now);
        }
        if (a.operation() == Arp.OP_REQUEST) {
            link.sendArp(tx, Arp.OP_REPLY, senderMac, senderMac, senderAddress);
            tx.flush();
        }
    }
}
