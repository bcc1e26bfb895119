package io.bypass.nio;

import io.bypass.net.ChecksumPolicy;
import io.bypass.BypassUriException;
import io.bypass.PortUri;
import io.bypass.spi.PortVlan;
import io.bypass.spi.RxStallBudget;
import io.bypass.spi.UriParam;
import io.bypass.spi.UriParams;
import io.bypass.tcp.TcpUriParams;
import io.bypass.udp.UdpUriParams;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The URI keys of {@code nio:}: its own, declared here, and the shared ones it reads (the TTLs,
 * the stall budget, the VLAN, the checksum policy, the socket buffers, TCP's), which mean the same
 * as on every backend. A UDP endpoint accepts {@link #UDP}, a TCP endpoint {@link #TCP} (what
 * {@link NioTcpEndpoint} does with its keys is on that class).
 *
 * <h2>What {@link NioUdpEndpoint} does with each key</h2>
 * <ul>
 *   <li>{@code IFACE}: the interface whose IPv4 address {@link NioUdpEndpoint#bind(int)} binds to and on
 *       which groups are joined and multicast is sent ({@code IP_MULTICAST_IF}). Empty:
 *       bind to the wildcard address and join on the first up, multicast-capable,
 *       non-loopback interface with an IPv4 address (else {@code lo}).</li>
 *   <li>{@code loop}: {@code IP_MULTICAST_LOOP} for sent multicast (default false, so a
 *       publisher does not read its own traffic; true for publisher and subscriber on one host).</li>
 *   <li>{@code multicastTtl}: {@code IP_MULTICAST_TTL} (default 1), as on every backend.</li>
 *   <li>{@code unicastTtl}: accepted only as the kernel's {@code net.ipv4.ip_default_ttl} (64
 *       unless changed), which unicast datagrams get: NIO has no {@code IP_TTL} option.</li>
 *   <li>{@code rcvbuf}: {@code SO_RCVBUF} of every receiving socket (default: sized from the
 *       {@linkplain RxStallBudget stall budget}, {@code rxStallMs} and {@code rxStallPps}, at
 *       {@value ReceiveBuffer#BYTES_PER_DATAGRAM} bytes of kernel memory per queued datagram).
 *       Where {@code net.core.rmem_max} caps it, the socket gets {@code SO_RCVBUFFORCE} when the
 *       process has {@code CAP_NET_ADMIN}, else one warning names the sysctl to raise
 *       ({@link NioUdpEndpoint#receiveBufferShortfall()}).</li>
 *   <li>{@code rxStallMs=50}, {@code rxStallPps=200000}: the stall budget {@code rcvbuf} defaults
 *       from, the same keys as on every backend.</li>
 *   <li>{@code sndbuf}: {@code SO_SNDBUF} (default: the kernel's).</li>
 *   <li>{@code maxPayload}: largest datagram, 1..65507 (default: the interface MTU less 28,
 *       so nothing is fragmented; 1472 without an interface).</li>
 *   <li>{@code vlan}: 0 only (the default), the same key as on the L2 backends
 *       ({@link PortVlan}). The kernel's interface decides the VLAN: it drops frames of other
 *       VLANs before any socket sees them, so they move no counter here. For VLAN N open the
 *       kernel's VLAN interface instead, e.g. {@code nio:eth1.7}.</li>
 *   <li>{@code checksum}: accepted as on every backend ({@link ChecksumPolicy}); the kernel
 *       checks checksums before the socket sees a datagram, so every policy behaves alike.</li>
 * </ul>
 */
public final class NioUriParams {
    /** URI key: {@code IP_MULTICAST_LOOP} of sent multicast. */
    public static final String LOOP_PARAM_NAME = "loop";
    /** URI key: the largest datagram. */
    public static final String MAX_PAYLOAD_PARAM_NAME = "maxPayload";

    /** Multicast loopback. */
    public static final UriParam LOOP = UriParam.bool(LOOP_PARAM_NAME, false,
        "IP_MULTICAST_LOOP for sent multicast (true for a publisher and a subscriber on one host)");
    /** Socket receive buffer, UDP and TCP: the shared declaration ({@link UriParams#RCVBUF}). */
    public static final UriParam RCVBUF = UriParams.RCVBUF;
    /** Socket send buffer, UDP and TCP: the shared declaration ({@link UriParams#SNDBUF}). */
    public static final UriParam SNDBUF = UriParams.SNDBUF;
    /** Largest datagram. */
    public static final UriParam MAX_PAYLOAD = UriParam.integer(MAX_PAYLOAD_PARAM_NAME, 1, NioUdpEndpoint.MAX_UDP_PAYLOAD,
        "the interface MTU less 28 (1472 without an interface)", "largest datagram sent or received, in bytes");

    /** Every key a {@code nio:} UDP endpoint accepts. */
    public static final List<UriParam> UDP = UriParams.join(List.of(LOOP, UdpUriParams.UNICAST_TTL,
        UdpUriParams.MULTICAST_TTL, RCVBUF, SNDBUF, MAX_PAYLOAD, PortVlan.PARAM, ChecksumPolicy.PARAM), RxStallBudget.URI_PARAMS);
    /** Every key a {@code nio:} TCP endpoint accepts: TCP's and the VLAN (0 only, as for UDP). */
    public static final List<UriParam> TCP = UriParams.join(TcpUriParams.ALL, List.of(PortVlan.PARAM));
    /** Every key {@code nio:} accepts, UDP's and TCP's. */
    public static final List<UriParam> ALL = UriParams.join(UDP, TCP);

    private NioUriParams() {
    }

    /**
     * @param uri    a {@code nio:} URI
     * @param budget its stall budget
     * @return the {@code SO_RCVBUF} its receiving sockets ask for: {@code rcvbuf}, else the budget's
     */
    static int receiveBufferRequest(final PortUri uri, final RxStallBudget budget) {
        return RCVBUF.intValue(uri, ReceiveBuffer.requestFor(budget));
    }

    /**
     * NIO cannot set {@code IP_TTL}, so unicast leaves with the kernel's default TTL: {@code unicastTtl}
     * (the same key as on every backend) is accepted when it asks for that, and refused otherwise
     * rather than ignored.
     *
     * @param uri a {@code nio:} URI
     * @throws BypassUriException if it asks for another unicast TTL than the kernel's
     */
    static void checkUnicastTtl(final PortUri uri) {
        if (!UdpUriParams.UNICAST_TTL.isIn(uri)) {
            return;
        }
        final int asked = UdpUriParams.UNICAST_TTL.intValue(uri);
        final int kernel = kernelDefaultTtl();
        if (asked != kernel) {
            throw new BypassUriException(uri.text(), "nio: unicastTtl=" + asked + " cannot be set: NIO has no IP_TTL "
                + "option, so unicast datagrams leave with the kernel's net.ipv4.ip_default_ttl (" + kernel + " here); leave "
                + "unicastTtl out, or change the sysctl, or use an L2 backend (afxdp, dpdk, efvi), which sets it per endpoint");
        }
    }

    /** @return {@code net.ipv4.ip_default_ttl} of the calling thread's network namespace, 64 if unreadable */
    private static int kernelDefaultTtl() {
        try {
            // readString would trust procfs's zero file size and return a partial read.
            return Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_default_ttl")).get(0).trim());
        } catch (final IOException | RuntimeException e) {
            return 64;
        }
    }
}
