package io.bypass.nio;

import io.bypass.Port;
import io.bypass.PortUri;
import io.bypass.UnsupportedByBackendException;
import io.bypass.spi.BackendProvider;
import io.bypass.spi.JvmFlags;
import io.bypass.spi.PrivilegeNeeds;
import io.bypass.spi.RxBuffering;
import io.bypass.spi.RxStallBudget;
import io.bypass.spi.UriParam;
import io.bypass.spi.UriParams;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.udp.UdpEndpoint;

import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.List;

/**
 * The {@code nio:} backend: kernel UDP sockets through {@link java.nio.channels.DatagramChannel},
 * and the kernel's TCP through {@link java.nio.channels.SocketChannel} ({@link NioTcpEndpoint}).
 * Always available (it needs nothing but the JDK), lowest priority for {@code auto:}, and
 * no L2: {@link io.bypass.Bypass#open(String)} on it raises {@link UnsupportedByBackendException}.
 *
 * <pre>{@code
 * try (UdpEndpoint udp = Bypass.openUdp("nio:eth1?loop=true")) {
 *     udp.join(Ipv4.parse("239.1.1.1"), 30001);
 * }
 * }</pre>
 *
 * <p>URI: {@code nio:[IFACE][?key=value&...]} (declared in {@link NioUriParams}, details in {@link NioUdpEndpoint})
 * <ul>
 *   <li>{@code IFACE}: the interface to bind, join and send on; empty: the wildcard address,
 *       joining on the first multicast-capable interface</li>
 *   <li>{@code loop=true|false} IP_MULTICAST_LOOP for sent multicast (default false)</li>
 *   <li>{@code multicastTtl=N} IP_MULTICAST_TTL (default 1), as on every backend</li>
 *   <li>{@code unicastTtl=N} only the kernel's net.ipv4.ip_default_ttl (64 unless changed): NIO cannot set IP_TTL, so
 *       another value is refused at open</li>
 *   <li>{@code rcvbuf=BYTES} SO_RCVBUF of each receiving UDP socket (default: from the stall budget; forced
 *       past {@code net.core.rmem_max} with CAP_NET_ADMIN and {@code --enable-native-access}, else one warning),
 *       and of each TCP connection (default: the kernel's, autotuned)</li>
 *   <li>{@code sndbuf=BYTES} SO_SNDBUF of UDP sockets and TCP connections (default: the kernel's)</li>
 *   <li>{@code maxPayload=BYTES} largest datagram, 1..65507 (default: the MTU less 28)</li>
 *   <li>{@code vlan=0} only, the default (the same {@linkplain io.bypass.spi.PortVlan key} as on the L2 backends):
 *       the kernel's interface decides the VLAN; for VLAN N open its VLAN interface, e.g. {@code nio:eth1.7}</li>
 *   <li>{@code rxStallMs=50}, {@code rxStallPps=200000}: the {@linkplain io.bypass.spi.RxStallBudget stall budget}
 *       the socket buffers absorb with no loss</li>
 *   <li>{@code checksum=nic|partial|verify}: accepted as on every backend ({@link io.bypass.net.ChecksumPolicy});
 *       the kernel checks checksums before a socket sees a datagram, so every policy behaves alike</li>
 *   <li>TCP only ({@link NioTcpEndpoint}, keys of {@link io.bypass.tcp.TcpUriParams}): {@code nagle=false} (the
 *       default sets TCP_NODELAY), {@code delayedAck=false} (TCP_QUICKACK once when a connection opens; the kernel's
 *       own ACK policy after that), {@code keepAliveMs=MS} (SO_KEEPALIVE, TCP_KEEPIDLE and TCP_KEEPINTVL in whole
 *       seconds; 0, the default, off). A TCP endpoint takes these, {@code rcvbuf}, {@code sndbuf} and
 *       {@code vlan=0}; a UDP endpoint refuses the TCP keys, and a TCP endpoint the UDP ones.</li>
 * </ul>
 *
 * <p>Needs no privileges and no native access; the JVM needs Agrona's export
 * ({@code --add-exports java.base/jdk.internal.misc=ALL-UNNAMED}, {@code =org.agrona} on the module path).
 */
public final class NioBackendProvider implements BackendProvider {
    /** The scheme, {@code nio}. */
    public static final String NAME = "nio";
    /** Rank for {@code auto:}: below every kernel-bypass backend. */
    public static final int PRIORITY = 100;

    /** Created by {@link java.util.ServiceLoader}. */
    public NioBackendProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return PRIORITY;
    }

    /**
     * @return true unless the JVM lacks the export Agrona needs (see {@link JvmFlags}); NIO needs nothing
     *     else (native access only to force SO_RCVBUF past the sysctl, which degrades to a warning)
     */
    @Override
    public boolean isAvailable() {
        return JvmFlags.agronaCause() == null;
    }

    /**
     * @return null, or the missing JVM flag
     */
    @Override
    public Throwable unavailabilityCause() {
        return JvmFlags.agronaCause();
    }

    /**
     * @param uri the URI with scheme {@code nio}
     * @return null if the target is empty or an interface that exists here, else why not
     */
    @Override
    public String cannotServe(final PortUri uri) {
        if (uri.target().isEmpty()) {
            return null;
        }
        try {
            return NetworkInterface.getByName(uri.target()) == null ? "no interface named '" + uri.target() + "'" : null;
        } catch (final SocketException e) {
            return "cannot look up interface '" + uri.target() + "': " + e.getMessage();
        }
    }

    /** @return {@link NioUriParams#ALL} */
    @Override
    public List<UriParam> uriParams() {
        return NioUriParams.ALL;
    }

    /**
     * @param uri a {@code nio:} URI
     * @return the {@code SO_RCVBUF} each receiving socket asks for ({@code rcvbuf}, else from the stall budget)
     */
    @Override
    public RxBuffering rxBuffering(final PortUri uri) {
        UriParams.requireOnly(uri, NioUriParams.ALL);
        // Java reports SO_RCVBUF as asked; the kernel keeps twice that and charges each datagram's whole buffer.
        return RxBuffering.socketBuffer(NioUriParams.receiveBufferRequest(uri, RxStallBudget.from(uri)),
            ReceiveBuffer.BYTES_PER_DATAGRAM / 2);
    }

    /**
     * @param uri the URI with scheme {@code nio}
     * @return nothing: no capability, no locked memory ({@code CAP_NET_ADMIN} only lets a
     *     receive buffer past {@code net.core.rmem_max}; without it one warning names the sysctl)
     */
    @Override
    public PrivilegeNeeds privilegeNeeds(final PortUri uri) {
        return new PrivilegeNeeds(List.of(), 0, "optional: CAP_NET_ADMIN forces SO_RCVBUF past net.core.rmem_max");
    }

    /**
     * Always refuses: NIO has no L2 access.
     *
     * @param uri ignored
     * @return never
     * @throws UnsupportedByBackendException always, naming UdpEndpoint as the alternative
     */
    @Override
    public Port openPort(final PortUri uri) {
        throw new UnsupportedByBackendException(NAME, "an L2 Port", "use Bypass.openUdp(...) / UdpEndpoint, or Bypass.openTcp(...)");
    }

    /**
     * @param uri {@code nio:[IFACE][?loop=..&multicastTtl=..&rcvbuf=..&sndbuf=..&maxPayload=..]}
     * @return a new {@link NioUdpEndpoint}
     */
    @Override
    public UdpEndpoint openUdp(final PortUri uri) {
        if (JvmFlags.agronaCause() != null) {
            throw new io.bypass.BackendUnavailableException("nio: backend unavailable: " + JvmFlags.agronaCause().getMessage(),
                JvmFlags.agronaCause());
        }
        return new NioUdpEndpoint(uri);
    }

    /**
     * @param uri {@code nio:[IFACE][?nagle=..&delayedAck=..&sndbuf=..&rcvbuf=..&keepAliveMs=..]}
     * @return a new {@link NioTcpEndpoint}: the kernel's TCP through {@code SocketChannel}
     */
    @Override
    public TcpEndpoint openTcp(final PortUri uri) {
        if (JvmFlags.agronaCause() != null) {
            throw new io.bypass.BackendUnavailableException("nio: backend unavailable: " + JvmFlags.agronaCause().getMessage(),
                JvmFlags.agronaCause());
        }
        return new NioTcpEndpoint(uri);
    }
}
