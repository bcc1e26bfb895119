/**
 * The NIO fallback backend ({@code nio:}): {@link io.bypass.udp.UdpEndpoint} on
 * {@link java.nio.channels.DatagramChannel}, for any host with a JDK 22+. No L2 ports.
 */
module io.bypass.nio {
    requires io.bypass;

    provides io.bypass.spi.BackendProvider with io.bypass.nio.NioBackendProvider;
}
