package io.bypass.tcp;

import io.bypass.spi.UriParam;
import io.bypass.spi.UriParams;

import java.util.List;

/**
 * The URI keys of TCP ({@link TcpEndpoint}), the same on every backend that accepts them
 * (today {@code nio:}; the L2 backends' own TCP will read the same declarations).
 *
 * <pre>
 * nio:eth1?keepAliveMs=5000&amp;sndbuf=262144      // Nagle and delayed ACKs off, as by default
 * </pre>
 *
 * <p>{@code rcvbuf} and {@code sndbuf} are the socket-buffer keys nio's UDP endpoint reads too,
 * declared once in {@link UriParams}: one key, one meaning.
 */
public final class TcpUriParams {
    /** URI key: Nagle's algorithm. */
    public static final String NAGLE_PARAM_NAME = "nagle";
    /** URI key: delayed acknowledgements. */
    public static final String DELAYED_ACK_PARAM_NAME = "delayedAck";
    /** URI key: keepalive idle time and probe interval. */
    public static final String KEEP_ALIVE_MS_PARAM_NAME = "keepAliveMs";

    /** Nagle's algorithm; off by default so an order leaves at once ({@code TCP_NODELAY} on). */
    public static final UriParam NAGLE = UriParam.bool(NAGLE_PARAM_NAME, false,
        "TCP: Nagle's algorithm (coalesce small sends while data is unacknowledged); false sets TCP_NODELAY, so an "
            + "order leaves at once");
    /** Delayed ACKs; off by default. */
    public static final UriParam DELAYED_ACK = UriParam.bool(DELAYED_ACK_PARAM_NAME, false,
        "TCP: delay acknowledgements to piggyback them on replies (false: acknowledge at once; nio: the kernel's "
            + "policy holds either way, false only sets TCP_QUICKACK when the connection opens, see NioTcpEndpoint)");
    /** Keepalive; 0 turns it off. */
    public static final UriParam KEEP_ALIVE_MS = UriParam.integer(KEEP_ALIVE_MS_PARAM_NAME, 0, 3_600_000, 0,
        "TCP: milliseconds of idleness before a keepalive probe, and between unanswered probes (the connection times "
            + "out after 9 unanswered); 0: off (nio: SO_KEEPALIVE with TCP_KEEPIDLE and TCP_KEEPINTVL, rounded up to "
            + "whole seconds)");

    /** URI key: how long a connection closed from this side stays in TIME_WAIT (Bypass's own TCP). */
    public static final String TIME_WAIT_MS_PARAM_NAME = "timeWaitMs";
    /** TIME_WAIT; short by default, see the description. */
    public static final UriParam TIME_WAIT_MS = UriParam.integer(TIME_WAIT_MS_PARAM_NAME, 0, 240_000, 10,
        "TCP (Bypass's own TCP: dpdk, afxdp, efvi): milliseconds a connection this side closed first stays in TIME_WAIT, "
            + "re-acknowledging a resent FIN, before CLOSED; short by default because connects take ephemeral ports in turn "
            + "(28,232 of them) and initial sequence numbers grow with a 4 us clock (RFC 6528), so old segments do not fall "
            + "into a new connection's window on a LAN; 240000 is RFC 9293's 2 MSL");

    /** Every TCP key, in the order the documentation lists them. */
    public static final List<UriParam> ALL = List.of(NAGLE, DELAYED_ACK, UriParams.SNDBUF, UriParams.RCVBUF, KEEP_ALIVE_MS);

    /** Every key Bypass's own TCP ({@link L2TcpEndpoint}) reads on top of {@link #ALL}; an L2 backend accepts them all. */
    public static final List<UriParam> L2_ENDPOINT = List.of(NAGLE, DELAYED_ACK, UriParams.SNDBUF, UriParams.RCVBUF, KEEP_ALIVE_MS,
        TIME_WAIT_MS);

    /**
     * Refuses UDP's own keys, which Bypass's own TCP shares a URI with but does not read.
     *
     * @param uri a TCP endpoint's URI
     * @throws io.bypass.BypassUriException naming the first of {@code port}, {@code multicastTtl}, {@code igmp} given
     */
    static void refuseUdpKeys(final io.bypass.PortUri uri) {
        for (final String udpOnly : new String[] {io.bypass.udp.UdpUriParams.PORT.name(), io.bypass.udp.UdpUriParams.MULTICAST_TTL.name(),
            io.bypass.udp.UdpUriParams.IGMP.name()}) {
            if (uri.params().containsKey(udpOnly)) {
                throw new io.bypass.BypassUriException(uri.text(), "parameter '" + udpOnly + "' is UDP's; a TCP endpoint does not take it");
            }
        }
    }

    private TcpUriParams() {
    }
}
