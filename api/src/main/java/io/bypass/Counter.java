package io.bypass;

/**
 * Every counter a port or endpoint keeps. Those with {@link #isDrop()} true count
 * frames that were lost or refused, each for one reason, so nothing is lost silently.
 */
public enum Counter {
    /** Frames or datagrams delivered to the application. */
    RX_PACKETS(false, "packets delivered to the application"),
    /** Bytes delivered: whole frames on a {@link Port}, payload bytes on a UDP endpoint. */
    RX_BYTES(false, "bytes delivered to the application"),
    /** Frames or datagrams handed to the NIC or kernel for sending. */
    TX_PACKETS(false, "packets sent"),
    /** Bytes handed to the NIC or kernel for sending: Ethernet frames (no FCS, padded to 60) on every backend, nio included. */
    TX_BYTES(false, "bytes sent"),
    /** Claims refused because the TX ring (on TCP: the connection's send queue) was full; the application may retry. */
    TX_BACK_PRESSURED(false, "claims refused because the TX ring or send queue was full"),
    /** Frames answered or consumed by the protocol layer itself (ARP, IGMP). */
    RX_CONTROL(false, "ARP and IGMP frames handled by the protocol layer"),
    /**
     * Datagrams (and TCP segments) delivered whose checksum field held only the
     * pseudo-header sum: sent by a kernel peer on the same host over a veth pair, which
     * leaves the sum to a NIC that is not there ({@code CHECKSUM_PARTIAL}). Their payload
     * was not checked (it never left the host's memory): the field is compared before any
     * payload is summed, so a complete checksum that happens to equal the pseudo-header sum
     * (about 1 in 65536 from a host on the wire) is counted here too. Counted under the
     * checksum policies {@code partial} and {@code nic} (the default); under {@code verify}
     * such datagrams are dropped as {@link #DROP_BAD_UDP_CHECKSUM} unless the complete sum
     * checks. See {@link io.bypass.net.ChecksumPolicy}.
     */
    RX_PARTIAL_CHECKSUM(false, "datagrams accepted with a kernel peer's partial checksum"),
    /** Times the kernel was woken to send but found the TX ring empty (AF_XDP tx_ring_empty_descs); not a loss. */
    TX_RING_EMPTY(false, "kernel woken to send found the TX ring empty"),
    /**
     * TX kicks (the one syscall of a flush that tells the kernel or NIC to send) that
     * returned an error, such as AF_XDP's {@code sendto} failing with EAGAIN, EBUSY or
     * ENOBUFS (kernel busy, or copy mode's per-call budget used up) or ENETDOWN (interface
     * down). Not a loss: the committed frames stay in the TX ring and the next flush kicks
     * again; a count that keeps rising while {@code TX_PACKETS} does not means the
     * interface is not sending.
     */
    TX_KICK_FAILED(false, "TX kicks that failed (frames stay queued; the next flush retries)"),
    /**
     * RX wakeups (the syscall a poll makes when the kernel asks to be woken to refill
     * its receive path, AF_XDP's fill-ring {@code recvfrom}) that returned an error. Not a
     * loss by itself: the next poll wakes it again; frames the kernel could not place are
     * counted in {@link #DROP_FILL_RING_EMPTY}.
     */
    RX_WAKEUP_FAILED(false, "RX wakeups that failed (the next poll retries)"),
    /**
     * Times the port found the XDP program it receives through gone from its interface:
     * removed by another process (such as {@code ip link set dev IFACE xdp off}), replaced by
     * another program, or the interface deleted. The port logs one warning naming the
     * interface. It counts events, not frames, and is not a drop reason: from then on the
     * interface's frames go to the kernel's stack, where no counter of the port sees them, so
     * their number is unknown; a non-zero value means the port receives nothing more and must
     * be reopened. Checked off the hot path, about once a second and on every refresh.
     */
    XDP_PROGRAM_DETACHED(false, "XDP program removed from under the port: reception stopped"),

    // TCP (io.bypass.tcp): the same meaning on every backend. Connection events count connections, not segments.
    /** TCP stream bytes delivered to the application by {@code TcpConnection.poll}. */
    TCP_BYTES_IN(false, "TCP stream bytes delivered to the application"),
    /** TCP stream bytes handed to the kernel or NIC for sending (written by a flush; not yet acknowledged). */
    TCP_BYTES_OUT(false, "TCP stream bytes handed to the kernel or NIC"),
    /** Active opens started ({@code TcpEndpoint.connect}), whatever became of them (SNMP tcpActiveOpens). */
    TCP_ACTIVE_OPENS(false, "TCP active opens started"),
    /** Connections accepted from a listener (SNMP tcpPassiveOpens). */
    TCP_PASSIVE_OPENS(false, "TCP connections accepted"),
    /** Connections that reached ESTABLISHED, active and passive. */
    TCP_ESTABLISHED(false, "TCP connections established"),
    /** Active opens the peer refused (a RST answered the SYN: nothing listens there). */
    TCP_CONNECT_REFUSED(false, "TCP active opens refused by the peer"),
    /** Active opens given up after the SYN went unanswered, or the destination was unreachable. */
    TCP_CONNECT_FAILED(false, "TCP active opens timed out or unreachable"),
    /** Connections ended by a RST from the peer ({@code closeReason} "reset by peer"). */
    TCP_RESETS_RECEIVED(false, "TCP connections reset by the peer"),
    /** Connections this side ended with a RST ({@code TcpConnection.abort}). */
    TCP_RESETS_SENT(false, "TCP connections aborted with a RST"),
    /** Established connections given up after retransmissions or keepalive probes went unanswered. */
    TCP_TIMEOUTS(false, "TCP connections timed out (retransmission or keepalive)"),
    /** Connections whose peer sent its FIN (an orderly close from the other side). */
    TCP_FINS_RECEIVED(false, "TCP connections closed by the peer (FIN received)"),
    /** Connections that reached CLOSED and let go of every resource, each counted once whatever the reason. */
    TCP_CLOSED(false, "TCP connections ended (CLOSED), whatever the reason"),
    /**
     * Flushes that left bytes queued because the send buffer below (the kernel's socket buffer, or
     * the peer's window on a user-space TCP) was full. Not a loss: the bytes stay queued and the
     * next flush sends them. Claims refused for a full queue count as {@link #TX_BACK_PRESSURED}.
     */
    TCP_SEND_BACK_PRESSURED(false, "TCP flushes that left bytes queued (send buffer or peer window full)"),
    /** Bytes that arrived after {@code TcpConnection.close()}, read and discarded while the close completed. */
    TCP_BYTES_DISCARDED(false, "TCP bytes received after close() and discarded"),
    /** Segments a user-space TCP sent again: after a retransmission timeout or by fast retransmit. */
    TCP_RETRANSMITTED_SEGMENTS(false, "TCP segments retransmitted (timeout or fast retransmit)"),
    /** Fast retransmits (three duplicate ACKs, RFC 5681) by a user-space TCP. */
    TCP_FAST_RETRANSMITS(false, "TCP fast retransmits on three duplicate ACKs"),
    /**
     * Holes a user-space TCP repaired in fast recovery from the peer's SACK blocks (RFC 2018, RFC 6675),
     * each a segment resent on a duplicate ACK in place of new data; also counted in
     * {@link #TCP_RETRANSMITTED_SEGMENTS}.
     */
    TCP_SACK_RETRANSMITS(false, "TCP holes resent from the peer's SACK blocks in fast recovery"),
    /**
     * Retransmission timeouts a user-space TCP undid: the peer's D-SACK (RFC 2883) showed the segment
     * resent had arrived the first time (RFC 3708), so the congestion window went back. Also counted
     * in {@link #TCP_RETRANSMIT_TIMEOUTS}.
     */
    TCP_SPURIOUS_TIMEOUTS_UNDONE(false, "TCP retransmission timeouts undone on the peer's D-SACK"),
    /**
     * Tail loss probes a user-space TCP sent (RFC 8985 7): a segment sent when a window's ACKs stopped
     * for two round trips, to draw an ACK before the retransmission timer fires.
     */
    TCP_TAIL_LOSS_PROBES(false, "TCP tail loss probes sent"),
    /** Retransmission timeouts that fired on a user-space TCP (each backs the timer off). */
    TCP_RETRANSMIT_TIMEOUTS(false, "TCP retransmission timeouts"),
    /** Segments that arrived ahead of a hole and were held until it was filled. */
    TCP_OUT_OF_ORDER_SEGMENTS(false, "TCP segments received out of order and held"),
    /** Zero-window probes sent by a user-space TCP to a peer whose window was closed. */
    TCP_ZERO_WINDOW_PROBES(false, "TCP zero-window probes sent"),
    /** Keepalive probes sent by a user-space TCP on an idle connection. */
    TCP_KEEPALIVE_PROBES(false, "TCP keepalive probes sent"),

    /** Frame shorter than the headers it claims to carry. */
    DROP_TRUNCATED(true, "frame shorter than its headers"),
    /** Ethernet type neither IPv4 nor ARP (nor a VLAN carrying them). */
    DROP_BAD_ETHERNET(true, "unsupported EtherType or VLAN nesting"),
    /** IPv4 version not 4, or IHL below 5 or beyond the frame. */
    DROP_BAD_IP_HEADER(true, "bad IPv4 version or header length"),
    /** IPv4 total length below the header or beyond the frame. */
    DROP_BAD_IP_LENGTH(true, "bad IPv4 total length"),
    /** IPv4 header checksum wrong. */
    DROP_BAD_IP_CHECKSUM(true, "bad IPv4 header checksum"),
    /** IPv4 fragment; Bypass does not reassemble. */
    DROP_IP_FRAGMENT(true, "IPv4 fragment (not reassembled)"),
    /** UDP length below 8 or beyond the IPv4 payload. */
    DROP_BAD_UDP_LENGTH(true, "bad UDP length"),
    /** UDP checksum present and wrong. */
    DROP_BAD_UDP_CHECKSUM(true, "bad UDP checksum"),
    /**
     * A frame of a steered flow that arrived on a NIC queue the port has no socket on (afxdp:
     * a TCP segment, which the kernel would otherwise answer with a RST; steer the flow to the
     * port's queues with the NIC's ntuple rules, or open the port on every queue).
     */
    DROP_NO_QUEUE_SOCKET(true, "steered frame on a NIC queue without a socket of the port"),
    /** Well-formed but not addressed to anything bound or joined here. */
    DROP_NOT_OURS(true, "not addressed to a bound port or joined group"),
    /** Malformed ARP or IGMP. */
    DROP_BAD_CONTROL(true, "malformed ARP or IGMP"),
    /** TCP checksum wrong (and not a kernel peer's partial sum under a policy that accepts one). */
    DROP_BAD_TCP_CHECKSUM(true, "bad TCP checksum"),
    /** TCP data offset below 5 or beyond the segment, or options that run past the header. */
    DROP_BAD_TCP_HEADER(true, "bad TCP data offset or options"),
    /** A TCP segment outside the receive window of its connection (acknowledged, not delivered). */
    DROP_TCP_OUT_OF_WINDOW(true, "TCP segment outside the receive window"),
    /** A TCP segment for no connection or listener here (answered with a RST unless it was one). */
    DROP_TCP_NO_CONNECTION(true, "TCP segment for no connection"),
    /** The kernel or NIC dropped because the RX ring was full (AF_XDP rx_ring_full, DPDK imissed). */
    DROP_RX_RING_FULL(true, "RX ring full"),
    /** The kernel had no fill-ring buffer for an arriving frame (AF_XDP rx_fill_ring_empty_descs). */
    DROP_FILL_RING_EMPTY(true, "fill ring empty"),
    /** No buffer to receive into (DPDK rx_nombuf). */
    DROP_NO_BUFFER(true, "no receive buffer"),
    /** Dropped by the kernel or NIC for other reasons (AF_XDP rx_dropped, DPDK ierrors). */
    DROP_RX_OTHER(true, "dropped by the kernel or NIC"),
    /** Transmit descriptors the kernel or NIC refused (AF_XDP tx_invalid_descs, DPDK oerrors). */
    DROP_TX_INVALID(true, "TX descriptors refused"),
    /** A datagram could not be sent because the next hop's MAC is not known yet. */
    DROP_NEIGHBOUR_UNRESOLVED(true, "next-hop MAC unresolved"),
    /** A datagram too long for the frame size or the kernel socket buffer. */
    DROP_TOO_LONG(true, "datagram too long"),
    /** A datagram larger than the receive buffer was cut to fit. */
    DROP_RX_OVERSIZE(true, "datagram larger than the receive buffer"),
    /**
     * A frame of another VLAN than the port is configured for (URI key {@code vlan}, see
     * {@link io.bypass.spi.PortVlan}): an 802.1Q-tagged frame on a port for untagged frames,
     * or an untagged frame or another VLAN id on a port for one VLAN. Not delivered. Where
     * the kernel keeps the interface (afxdp), such a frame is left to the kernel, which
     * owns the other VLANs; it is counted only when it is addressed to one of our flows.
     */
    DROP_WRONG_VLAN(true, "frame of a VLAN the port is not configured for");

    private final boolean drop;
    private final String description;

    Counter(final boolean drop, final String description) {
        this.drop = drop;
        this.description = description;
    }

    /**
     * @return true if this counter counts lost or refused frames
     */
    public boolean isDrop() {
        return drop;
    }

    /**
     * @return a short human description, for reports
     */
    public String description() {
        return description;
    }
}
