package io.bypass.tcp;

/**
 * The connection states of RFC 9293 (section 3.3.2), by their RFC names. A backend with its own
 * TCP walks every one of them; {@code nio:}, whose TCP is the kernel's, reports those it can
 * observe from a socket (see {@link TcpConnection#state()}).
 */
public enum TcpState {
    /** No connection: never opened, or ended (see {@link TcpConnection#closeReason()}). */
    CLOSED,
    /** Waiting for a connection request (a listener). */
    LISTEN,
    /** Active open: SYN sent, waiting for the peer's SYN-ACK. */
    SYN_SENT,
    /** Passive open: SYN received and answered, waiting for the ACK. */
    SYN_RECEIVED,
    /** Open: data flows both ways. */
    ESTABLISHED,
    /** This side closed: its FIN is queued or sent, not yet acknowledged. */
    FIN_WAIT_1,
    /** This side's FIN was acknowledged; waiting for the peer's FIN. */
    FIN_WAIT_2,
    /** The peer sent its FIN; this side may still send, then closes. */
    CLOSE_WAIT,
    /** Both sides sent FIN at once (simultaneous close); waiting for the ACK of ours. */
    CLOSING,
    /** The peer closed first and this side has sent its FIN; waiting for its ACK. */
    LAST_ACK,
    /** Both FINs exchanged, this side closed first: waiting 2 MSL so stray segments die out. */
    TIME_WAIT;

    /**
     * @return true while the application may still queue bytes to send: {@link #ESTABLISHED} and
     *         {@link #CLOSE_WAIT}
     */
    public boolean canSend() {
        return this == ESTABLISHED || this == CLOSE_WAIT;
    }
}
