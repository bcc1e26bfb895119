package io.bypass.tcp;

import io.bypass.Counter;
import io.bypass.FrameClaim;
import io.bypass.TxQueue;
import io.bypass.net.Ethernet;
import io.bypass.net.Ipv4Header;
import io.bypass.net.Ipv4Link;
import io.bypass.net.NeighbourTable;
import io.bypass.net.NextHopResolver;
import io.bypass.net.Tcp;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * What goes on the wire for the endpoint's connections: data segments within the congestion and
 * peer windows (RFC 5681, RFC 9293 3.8.6), retransmissions, SYN, SYN-ACK, FIN, ACKs, probes and
 * RSTs. Each segment is written into a TX frame in place (Ethernet, IPv4, TCP, options, payload
 * copied from the send ring) with its checksum computed here; {@link #flush()} kicks the TX queue
 * once for every frame written since the last kick.
 */
final class TcpOutput {
    /** {@link #segment}: the frame was written. */
    static final int SENT = 0;
    /** {@link #segment}: the next hop's MAC is not known yet (an ARP request is out). */
    static final int NO_MAC = 1;
    /** {@link #segment}: the TX ring is full. */
    static final int TX_FULL = 2;

    private static final int IP_HEADER = Ipv4Header.MIN_HEADER_LENGTH;
    /** SACK blocks per segment: three fit beside the 20-byte header in 40 bytes of options (RFC 2018 3). */
    private static final int SACK_BLOCKS_SENT = 3;


    private final Ipv4Link link;
    private final NextHopResolver resolver;
    private final L2TcpEndpoint endpoint;
    private final int ttl;
    private final boolean nagle;
    private final FrameClaim claim = new FrameClaim();
    /** Which held ranges the SACK option being written reports ({@link TcpReceiveBuffer#sackOrder}). */
    private final int[] sackOrder = new int[SACK_BLOCKS_SENT];
    private final Ipv4Header ip = new Ipv4Header();
    private final Tcp tcp = new Tcp();
    private TxQueue tx;
    private boolean dirty;

    TcpOutput(final L2TcpEndpoint endpoint, final Ipv4Link link, final NextHopResolver resolver, final TxQueue tx, final int ttl,
              final boolean nagle) {
        this.endpoint = endpoint;
        this.link = link;
        this.resolver = resolver;
        this.tx = tx;
        this.ttl = ttl;
        this.nagle = nagle;
    }

    /** @return the MSS a frame of this TX queue and the link's MTU can carry */
    int linkMss() {
        return Math.min(link.mtu(), tx.maxFrameLength() - link.ipOffset()) - IP_HEADER - Tcp.HEADER_LENGTH;
    }

    /** Kicks the TX queue if frames were written since the last kick: one syscall at most. */
    void flush() {
        if (dirty) {
            dirty = false;
            tx.flush();
        }
    }

    /**
     * Writes one segment of {@code c}'s.
     *
     * @param data       the send ring to copy the payload from, or null
     * @param dataOffset stream offset of the payload
     * @param synMss     MSS option to add (a SYN), or 0 for none
     * @param synScale   window scale option to add with the MSS, or -1 for none
     * @return {@link #SENT}, {@link #NO_MAC} or {@link #TX_FULL}
     */
    int segment(final L2TcpConnection c, final int seq, final int flags, final TcpSendBuffer data, final long dataOffset,
                final int length, final int synMss, final int synScale) {
        final long mac = resolver.resolve(c.remoteAddress, tx);
        if (mac == NeighbourTable.NO_MAC) {
            endpoint.count(Counter.DROP_NEIGHBOUR_UNRESOLVED, 1);
            return NO_MAC;
        }
        final boolean syn = synMss > 0;
        // SACK blocks only as many as fit beside the payload in the link's MTU (a full-size data segment carries none;
        // the duplicate ACKs that matter carry no data)
        final boolean dsack = c.dsackPending && !syn && (flags & Tcp.RST) == 0 && length == 0;
        final int sackBlocks = !syn && c.sackOk && (flags & Tcp.RST) == 0
            ? Math.min(Math.min(SACK_BLOCKS_SENT, c.receive.ranges() + (dsack ? 1 : 0)), Math.max(0, (linkMss() - length - 4) / 8))
            : 0;
        final int options = syn ? 4 + (synScale >= 0 ? 4 : 0) + (c.offerSack ? 4 : 0) : sackBlocks > 0 ? 4 + 8 * sackBlocks : 0;
        final int tcpLength = Tcp.HEADER_LENGTH + options + length;
        final int ipOffset = link.ipOffset();
        final int frameLength = ipOffset + IP_HEADER + tcpLength;
        final int claimLength = Math.max(frameLength, Ethernet.MIN_FRAME_LENGTH);
        if (!tx.tryClaim(claimLength, claim)) {
            return TX_FULL;
        }
        final MutableDirectBuffer b = claim.buffer();
        final int o = claim.offset();
        link.writeEthernet(b, o, claimLength, mac, Ethernet.ETHERTYPE_IPV4);
        ip.wrap(b, o + ipOffset, IP_HEADER + tcpLength).header(IP_HEADER, 0, IP_HEADER + tcpLength, link.nextIdentification(),
            Ipv4Header.FLAG_DF, ttl, Ipv4Header.PROTOCOL_TCP, c.localAddress, c.remoteAddress).computeChecksum();
        final int t = o + ipOffset + IP_HEADER;
        final int ack = (flags & Tcp.ACK) != 0 ? c.rcvNxt() : 0;
        tcp.wrap(b, t, tcpLength).header(c.localPort, c.remotePort, seq, ack, Tcp.HEADER_LENGTH + options, flags,
            (flags & Tcp.SYN) != 0 ? Math.min(0xFFFF, c.receive.window()) : c.advertisedWindow());
        if (syn) {
            Tcp.writeSynOptions(b, t + Tcp.HEADER_LENGTH, synMss, synScale, c.offerSack);
        } else if (sackBlocks > 0) {
            writeSack(c, b, t + Tcp.HEADER_LENGTH, sackBlocks, dsack);
        }
        if (length > 0) {
            data.copyOut(dataOffset, b, t + Tcp.HEADER_LENGTH + options, length);
        }
        tcp.computeChecksum(c.localAddress, c.remoteAddress);
        if (claimLength > frameLength) {
            b.setMemory(o + frameLength, claimLength - frameLength, (byte) 0);
        }
        claim.commit(claimLength);
        dirty = true;
        if ((flags & Tcp.ACK) != 0) {
            c.ackPending = false;
            c.ackUrgent = false;
            c.unackedSegments = 0;
            c.delayedAckDeadline = 0;
        }
        return SENT;
    }

    /** Sends the SYN (active open) or SYN-ACK (passive open); arms the retransmission timer. */
    int syn(final L2TcpConnection c, final long now) {
        final int flags = c.state == TcpState.SYN_RECEIVED ? Tcp.SYN | Tcp.ACK : Tcp.SYN;
        final int status = segment(c, c.iss, flags, null, 0, 0, linkMss(), c.offerScale ? c.rcvWscale : -1);
        c.synUnsent = status != SENT;
        if (status == SENT && c.rttStart == 0 && c.retries == 0) {
            c.rttStart = now;
        }
        if (c.rtoDeadline == 0) {
            c.rtoDeadline = now + (status == NO_MAC ? 10_000_000L : c.congestion.currentRto());
        }
        return status;
    }

    /** An ACK with no data (window update, acknowledgement, or the answer to a segment out of window). */
    void ack(final L2TcpConnection c) {
        segment(c, c.seqAfterSent(), Tcp.ACK, null, 0, 0, 0, -1);
    }

    /** A probe: SEG.SEQ = SND.UNA - 1 and no data, which the peer must answer with an ACK (keepalive, zero window). */
    void probe(final L2TcpConnection c) {
        segment(c, c.sndUnaSeq() - 1, Tcp.ACK, null, 0, 0, 0, -1);
    }

    /** A RST for {@code c} (abort): at SND.NXT, with an ACK. */
    void reset(final L2TcpConnection c) {
        segment(c, c.seqAfterSent(), Tcp.RST | Tcp.ACK, null, 0, 0, 0, -1);
    }

    /**
     * Retransmits the first unacknowledged segment (fast retransmit, a partial ACK in recovery, or
     * after a timeout).
     */
    void retransmitFirst(final L2TcpConnection c, final long now) {
        final long outstanding = c.sndMax - c.sndUna;
        if (outstanding > 0) {
            final int len = (int) Math.min(c.sendMss, outstanding);
            if (segment(c, c.seqOf(c.sndUna), Tcp.ACK | Tcp.PSH, c.send, c.sndUna, len, 0, -1) == SENT) {
                c.count(Counter.TCP_RETRANSMITTED_SEGMENTS);
                c.rttOffset = -1; // Karn: no sample across a retransmission
                if (c.sndNxt < c.sndUna + len) {
                    c.sndNxt = c.sndUna + len;
                }
                if (c.loss.highRxt < c.sndUna + len) {
                    c.loss.highRxt = c.sndUna + len;
                }
                c.loss.rtxMark = c.sndMax;
            }
        } else if (c.finSent && !c.finAcked) {
            if (segment(c, c.seqOf(c.sndMax), Tcp.FIN | Tcp.ACK, null, 0, 0, 0, -1) == SENT) {
                c.count(Counter.TCP_RETRANSMITTED_SEGMENTS);
                c.finInFlight = true;
            }
        }
        c.rtoDeadline = now + c.congestion.currentRto();
    }

    /**
     * Retransmits the next hole the peer's SACK blocks show (RFC 6675 NextSeg, rule 1): the first byte
     * at or past both SND.UNA and the highest already retransmitted in this recovery that the peer does
     * not hold, below a range it does; one segment, at most to the hole's end.
     *
     * @return true if a segment went
     */
    boolean retransmitNextHole(final L2TcpConnection c, final long now) {
        final long hole = c.loss.nextHole(Math.max(c.loss.highRxt, c.sndUna));
        if (hole < 0 || hole >= c.sndMax) {
            return false;
        }
        final int len = (int) Math.min(c.sendMss, c.loss.holeEnd(hole) - hole);
        if (len <= 0 || segment(c, c.seqOf(hole), Tcp.ACK | Tcp.PSH, c.send, hole, len, 0, -1) != SENT) {
            return false;
        }
        c.count(Counter.TCP_RETRANSMITTED_SEGMENTS);
        c.rttOffset = -1; // Karn
        c.loss.highRxt = hole + len;
        if (c.rtoDeadline == 0) {
            c.rtoDeadline = now + c.congestion.currentRto();
        }
        return true;
    }

    /**
     * Arms the tail loss probe (RFC 8985 7.2) when more than a segment is in flight outside recovery
     * and SACK is on, else disarms it. A lost ACK otherwise leaves the last segments of a small window
     * waiting on the peer's delayed ACK (40 to 200 ms on Linux), and our 20 ms timer fires first, for
     * nothing.
     */
    void armProbe(final L2TcpConnection c, final long now) {
        final long pto = c.congestion.probeTimeout();
        if (c.sackOk && pto > 0 && !c.congestion.inRecovery && c.flight() > c.sendMss
            && (c.rtoDeadline == 0 || now + pto < c.rtoDeadline)) {
            c.probeDeadline = now + pto;
        } else {
            c.probeDeadline = 0;
        }
    }

    /**
     * The tail loss probe fired (RFC 8985 7.3): one new segment past the congestion window if the peer's
     * window has room for it, else the last segment sent again. Either draws an ACK at once, whose SACK
     * blocks start fast recovery if something was lost. Not re-armed until an ACK comes.
     */
    void probeTail(final L2TcpConnection c, final long now) {
        final TcpState s = c.state;
        if (c.congestion.inRecovery || c.flight() == 0 || s != TcpState.ESTABLISHED && s != TcpState.CLOSE_WAIT) {
            return;
        }
        final long unsent = c.send.end() - c.sndNxt;
        final long room = c.sndUna + c.sndWnd - c.sndNxt;
        if (c.sndNxt == c.sndMax && unsent > 0 && room > 0) {
            final int len = (int) Math.min(c.sendMss, Math.min(unsent, room));
            if (segment(c, c.seqOf(c.sndNxt), Tcp.ACK | Tcp.PSH, c.send, c.sndNxt, len, 0, -1) != SENT) {
                return;
            }
            c.sndNxt += len;
            c.count(Counter.TCP_BYTES_OUT, c.sndNxt - c.sndMax);
            c.sndMax = c.sndNxt;
        } else {
            final int len = (int) Math.min(c.sendMss, c.sndMax - c.sndUna);
            if (segment(c, c.seqOf(c.sndMax - len), Tcp.ACK | Tcp.PSH, c.send, c.sndMax - len, len, 0, -1) != SENT) {
                return;
            }
            c.count(Counter.TCP_RETRANSMITTED_SEGMENTS);
            c.rttOffset = -1; // Karn
        }
        c.count(Counter.TCP_TAIL_LOSS_PROBES);
        if (c.rtoDeadline == 0) {
            c.rtoDeadline = now + c.congestion.currentRto();
        }
    }

    /**
     * Sends what the windows allow from SND.NXT: queued bytes by MSS, then the FIN once the
     * application closed and every byte is out. Arms the retransmission and persist timers.
     */
    void send(final L2TcpConnection c, final long now) {
        final TcpState s = c.state;
        if (s != TcpState.ESTABLISHED && s != TcpState.CLOSE_WAIT && s != TcpState.FIN_WAIT_1 && s != TcpState.CLOSING
            && s != TcpState.LAST_ACK) {
            return;
        }
        final TcpSendBuffer data = c.send;
        final int mss = c.sendMss;
        while (true) {
            if (c.sndNxt < c.sndMax) {
                final long held = c.loss.endOfRangeAt(c.sndNxt);
                if (held > 0) {
                    c.sndNxt = Math.min(held, c.sndMax); // going back after a timeout: the peer holds these
                }
            }
            final long available = data.end() - c.sndNxt;
            final long window = Math.min(c.congestion.sendWindow(), c.sndWnd);
            if (available > 0) {
                final long usable = c.sndUna + window - c.sndNxt;
                if (usable <= 0) {
                    if (c.sndWnd == 0 && c.flight() == 0 && c.persistDeadline == 0) {
                        c.persistDeadline = now + c.congestion.currentRto();
                    }
                    return;
                }
                final int len = (int) Math.min(Math.min(mss, available), usable);
                if (len < mss && len < available && c.sndWnd >= mss && c.flight() > 0) {
                    return; // silly window avoidance (RFC 9293 3.8.6.2.1): ACKs will make room for a full segment
                }
                if (nagle && len < mss && c.flight() > 0) {
                    return;
                }
                final int flags = len == available ? Tcp.ACK | Tcp.PSH : Tcp.ACK;
                if (segment(c, c.seqOf(c.sndNxt), flags, data, c.sndNxt, len, 0, -1) != SENT) {
                    return;
                }
                if (c.sndNxt < c.sndMax) {
                    c.count(Counter.TCP_RETRANSMITTED_SEGMENTS);
                }
                c.sndNxt += len;
                if (c.sndNxt > c.sndMax) {
                    c.count(Counter.TCP_BYTES_OUT, c.sndNxt - c.sndMax);
                    c.sndMax = c.sndNxt;
                    if (c.rttOffset < 0) {
                        c.rttOffset = c.sndNxt;
                        c.rttStart = now;
                    }
                }
                if (c.rtoDeadline == 0) {
                    c.rtoDeadline = now + c.congestion.currentRto();
                }
                if (c.probeDeadline == 0) {
                    armProbe(c, now);
                }
            } else {
                if ((c.appClosed || c.outputShut) && !c.finInFlight && !c.finAcked && (s != TcpState.ESTABLISHED && s != TcpState.CLOSE_WAIT)) {
                    if (segment(c, c.seqOf(c.sndNxt), Tcp.FIN | Tcp.ACK, null, 0, 0, 0, -1) != SENT) {
                        return;
                    }
                    if (c.finSent) {
                        c.count(Counter.TCP_RETRANSMITTED_SEGMENTS);
                    }
                    c.finSent = true;
                    c.finInFlight = true;
                    if (c.rtoDeadline == 0) {
                        c.rtoDeadline = now + c.congestion.currentRto();
                    }
                }
                return;
            }
        }
    }

    /**
     * A RST answering a segment that has no connection (RFC 9293 3.10.7.1): from the segment's
     * addresses, SEQ = its ACK if it had one, else SEQ 0 and ACK = its SEQ plus its length.
     */
    void resetFor(final DirectBuffer frame, final long sourceMac, final int sourceAddress, final Tcp seg) {
        final int flags = seg.flags();
        if ((flags & Tcp.RST) != 0) {
            return;
        }
        final int ipOffset = link.ipOffset();
        final int frameLength = Math.max(Ethernet.MIN_FRAME_LENGTH, ipOffset + IP_HEADER + Tcp.HEADER_LENGTH);
        if (!tx.tryClaim(frameLength, claim)) {
            return;
        }
        final MutableDirectBuffer b = claim.buffer();
        final int o = claim.offset();
        b.setMemory(o, frameLength, (byte) 0);
        link.writeEthernet(b, o, frameLength, sourceMac, Ethernet.ETHERTYPE_IPV4);
        final int ipLength = IP_HEADER + Tcp.HEADER_LENGTH;
        ip.wrap(b, o + ipOffset, ipLength).header(IP_HEADER, 0, ipLength, link.nextIdentification(), Ipv4Header.FLAG_DF, ttl,
            Ipv4Header.PROTOCOL_TCP, link.localAddress(), sourceAddress).computeChecksum();
        final int t = o + ipOffset + IP_HEADER;
        final boolean hadAck = (flags & Tcp.ACK) != 0;
        final int segLength = seg.payloadLength() + ((flags & Tcp.SYN) != 0 ? 1 : 0) + ((flags & Tcp.FIN) != 0 ? 1 : 0);
        tcp.wrap(b, t, Tcp.HEADER_LENGTH).header(seg.destinationPort(), seg.sourcePort(), hadAck ? seg.acknowledgement() : 0,
            hadAck ? 0 : seg.sequence() + segLength, Tcp.HEADER_LENGTH, hadAck ? Tcp.RST : Tcp.RST | Tcp.ACK, 0);
        tcp.computeChecksum(link.localAddress(), sourceAddress);
        claim.commit(frameLength);
        dirty = true;
    }

    /**
     * NOP, NOP, then the SACK option as sequence numbers: a D-SACK block first if one is due (RFC 2883 4,
     * sent once), then the ranges held, the latest first (RFC 2018 4).
     */
    private void writeSack(final L2TcpConnection c, final MutableDirectBuffer b, final int at, final int blocks,
                                  final boolean dsack) {
        b.putByte(at, (byte) Tcp.OPTION_NOP);
        b.putByte(at + 1, (byte) Tcp.OPTION_NOP);
        b.putByte(at + 2, (byte) Tcp.OPTION_SACK);
        b.putByte(at + 3, (byte) (2 + 8 * blocks));
        final int base = c.irs + 1;
        int k = 0;
        if (dsack) {
            b.putInt(at + 4, c.dsackLeft, java.nio.ByteOrder.BIG_ENDIAN);
            b.putInt(at + 8, c.dsackRight, java.nio.ByteOrder.BIG_ENDIAN);
            c.dsackPending = false;
            k = 1;
        }
        final int[] order = sackOrder;
        c.receive.sackOrder(order, blocks - k);
        for (int r = 0; k < blocks; k++, r++) {
            b.putInt(at + 4 + 8 * k, base + (int) c.receive.rangeStart(order[r]), java.nio.ByteOrder.BIG_ENDIAN);
            b.putInt(at + 8 + 8 * k, base + (int) c.receive.rangeEnd(order[r]), java.nio.ByteOrder.BIG_ENDIAN);
        }
    }
}
