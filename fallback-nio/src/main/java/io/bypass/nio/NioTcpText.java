package io.bypass.nio;

import io.bypass.BypassException;
import io.bypass.Counter;
import io.bypass.PortUri;

import java.io.IOException;
import java.util.Locale;

/**
 * Every string {@link NioTcpConnection} and {@link NioTcpEndpoint} use on their poll and send paths:
 * close reasons and exceptions, built here so those classes' constant pools hold no {@code String}
 * (see {@link io.bypass.spi.HotPathErrors} for why), and the kernel's errors sorted into reasons.
 */
final class NioTcpText {
    /** A refused active open: RST answered the SYN. */
    static final int REFUSED = 1;
    /** No route, or an ICMP unreachable. */
    static final int UNREACHABLE = 2;
    /** Retransmissions or keepalive probes went unanswered. */
    static final int TIMED_OUT = 3;
    /** The peer sent RST. */
    static final int RESET = 4;
    /** Anything else the kernel said. */
    static final int OTHER = 5;

    private NioTcpText() {
    }

    /**
     * Sorts a kernel error by its text (the JDK gives the {@code strerror} words, not the errno).
     *
     * @param e what the channel threw
     * @return {@link #REFUSED}, {@link #UNREACHABLE}, {@link #TIMED_OUT}, {@link #RESET} or {@link #OTHER}
     */
    static int kind(final IOException e) {
        final String m = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
        if (m.contains("refused")) {
            return REFUSED;
        }
        if (m.contains("unreachable") || m.contains("no route")) {
            return UNREACHABLE;
        }
        if (m.contains("timed out")) {
            return TIMED_OUT;
        }
        // EPIPE: writing after the peer's RST was taken (the kernel says "Broken pipe" once the reset is known).
        if (m.contains("reset") || m.contains("broken pipe")) {
            return RESET;
        }
        return OTHER;
    }

    /**
     * @param kind    from {@link #kind(IOException)}
     * @param opening true while the active open is under way
     * @return the counter the failure moves; null for a kernel error of no other kind (counted as
     *         {@code TCP_CLOSED} alone, the reason saying what the kernel said)
     */
    static Counter counter(final int kind, final boolean opening) {
        if (opening) {
            return kind == REFUSED ? Counter.TCP_CONNECT_REFUSED : Counter.TCP_CONNECT_FAILED;
        }
        return kind == RESET ? Counter.TCP_RESETS_RECEIVED
            : kind == TIMED_OUT || kind == UNREACHABLE ? Counter.TCP_TIMEOUTS : null;
    }

    /**
     * @param kind from {@link #kind(IOException)}
     * @param e    the error, for {@link #OTHER}
     * @return the close reason
     */
    static String reason(final int kind, final IOException e) {
        return switch (kind) {
            case REFUSED -> "refused";
            case UNREACHABLE -> "unreachable";
            case TIMED_OUT -> "timed out";
            case RESET -> "reset by peer";
            default -> "error: " + e.getMessage();
        };
    }

    /** @return the reason after the peer's FIN came first */
    static String closedByPeer() {
        return "closed by peer";
    }

    /** @return the reason after {@code close()} */
    static String closed() {
        return "closed";
    }

    /** @return the reason after {@code abort()} */
    static String aborted() {
        return "aborted";
    }

    /** @return the reason for connections closed with their endpoint */
    static String endpointClosed() {
        return "endpoint closed";
    }

    /** @return the reason when the peer never sent its FIN after ours */
    static String finTimedOut() {
        return "timed out waiting for the peer's FIN";
    }

    /**
     * @param uri the endpoint's URI
     * @return what a closed endpoint's methods throw
     */
    static BypassException endpointClosed(final PortUri uri) {
        return new BypassException("TCP endpoint closed: " + uri.text() + " (open a new one)");
    }

    /** @return what a second claim before the first's commit or abort throws */
    static IllegalStateException claimOutstanding() {
        return new IllegalStateException("the previous TCP claim is neither committed nor aborted");
    }

    /**
     * @param length the negative length
     * @return what a negative claim or send length throws
     */
    static IllegalArgumentException negativeLength(final int length) {
        return new IllegalArgumentException("negative length " + length);
    }

    /**
     * @param port the port asked for
     * @return what a port outside 1..65535 throws
     */
    static IllegalArgumentException badPort(final int port) {
        return new IllegalArgumentException("TCP port " + port + " outside 1..65535");
    }

    /**
     * @param c the connection
     * @return it for logs
     */
    static String describe(final NioTcpConnection c) {
        return "NioTcpConnection[" + io.bypass.net.Ipv4.toString(c.localAddress()) + ":" + c.localPort() + " -> "
            + io.bypass.net.Ipv4.toString(c.remoteAddress()) + ":" + c.remotePort() + ", " + c.state()
            + (c.closeReason() == null ? "" : ", " + c.closeReason()) + "]";
    }
}
