package io.bypass.nio;

import io.bypass.BypassException;
import io.bypass.PortUri;
import io.bypass.net.Ipv4;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.DatagramMeta;
import io.bypass.udp.UdpDestination;
import org.agrona.DirectBuffer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;

/**
 * A {@link NioUdpEndpoint}'s warm-up ({@link NioUdpEndpoint#warmUp}). On NIO the kernel owns
 * the sockets, so it runs a second endpoint of the same class on loopback, sending to
 * itself and receiving through the same send and poll code; the handler sees each datagram
 * as addressed to the live endpoint's first group (or port), from TEST-NET-1 as on the L2
 * backends. The live endpoint's sockets are not read.
 */
final class NioWarmUp {
    /** Warm-up datagrams appear to come from TEST-NET-1 (RFC 5737), as on the L2 backends. */
    private static final int SOURCE = Ipv4.parse("192.0.2.1");
    private static final int SOURCE_PORT = 9;

    private NioWarmUp() {
    }

    /**
     * @param target     the live socket the datagrams look addressed to
     * @param maxPayload the live endpoint's largest datagram
     * @param rcvbuf     its receive buffer request
     * @return datagrams delivered to {@code handler}
     * @throws BypassException if no loopback socket can be opened
     */
    static int run(final NioSocket target, final int maxPayload, final int rcvbuf, final DatagramHandler handler,
                   final DirectBuffer payload, final int offset, final int length, final int datagrams) {
        final int loopbackPort;
        try (DatagramChannel probe = DatagramChannel.open(StandardProtocolFamily.INET)) {
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            loopbackPort = ((InetSocketAddress) probe.getLocalAddress()).getPort();
        } catch (final IOException e) {
            throw new BypassException("nio: warm-up cannot open a loopback socket: " + e.getMessage(), e);
        }
        final DatagramMeta asLive = new DatagramMeta();
        final DatagramHandler readdressed = (buffer, off, len, meta) -> {
            asLive.set(SOURCE, SOURCE_PORT, target.address, target.port, meta.timestampNanos());
            handler.onDatagram(buffer, off, len, asLive);
        };
        int received = 0;
        try (NioUdpEndpoint shadow = new NioUdpEndpoint(PortUri.parse("nio:lo?maxPayload=" + maxPayload + "&rcvbuf=" + rcvbuf))) {
            shadow.bind(loopbackPort);
            final UdpDestination self = UdpDestination.of(Ipv4.parse("127.0.0.1"), loopbackPort);
            int sent = 0;
            int idle = 0;
            while (received < datagrams && idle < 1000) {
                for (int i = 0; i < 32 && sent < datagrams; i++, sent++) {
                    shadow.send(self, payload, offset, length);
                }
                final int n = shadow.poll(readdressed, 32);
                received += n;
                idle = n == 0 ? idle + 1 : 0;
            }
        }
        return received;
    }
}
