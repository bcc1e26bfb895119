/**
 * The NIO fallback backend ({@code nio:}): {@link io.bypass.udp.UdpEndpoint} on
 * {@link java.nio.channels.DatagramChannel} and {@link io.bypass.tcp.TcpEndpoint} on
 * {@link java.nio.channels.SocketChannel}, for any host with a JDK 22+. No L2 ports.
 */
module io.bypass.nio {
    requires io.bypass;
    requires jdk.net; // TCP_KEEPIDLE, TCP_KEEPINTERVAL, TCP_KEEPCOUNT, TCP_QUICKACK

    // Exported for its javadoc (the URI keys) and for NioUdpEndpoint.receiveBufferShortfall().
    exports io.bypass.nio;

    provides io.bypass.spi.BackendProvider with io.bypass.nio.NioBackendProvider;
}
