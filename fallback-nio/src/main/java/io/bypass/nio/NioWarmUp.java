package io.bypass.nio;

import io.bypass.BypassException;
import io.bypass.Counters;
import io.bypass.PortUri;
import io.bypass.net.Ipv4;
import io.bypass.udp.DatagramHandler;
import io.bypass.spi.UdpRules;
import io.bypass.udp.DatagramMeta;
import io.bypass.udp.DutyCycle;
import io.bypass.udp.UdpDestination;
import org.agrona.DirectBuffer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
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
    private static final int FEED_AHEAD = 64;

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
    /**
     * {@link NioUdpEndpoint#warmUpDutyCycle(DutyCycle, DirectBuffer, int, int, int)}: the endpoint reads a
     * loopback socket that a placeholder sender on loopback keeps fed, and sends on loopback
     * to that sender, which discards what it gets.
     */
    static int runDutyCycle(final NioUdpEndpoint endpoint, final NioSocket target, final DutyCycle dutyCycle,
                            final DirectBuffer payload, final int offset, final int length, final int datagrams) {
        final DatagramChannel liveTx = endpoint.sender.channel();
        final int liveTxPort = endpoint.localPort();
        try (DatagramChannel shadowRx = loopbackChannel(); DatagramChannel shadowTx = loopbackChannel();
             DatagramChannel placeholder = loopbackChannel()) {
            final InetSocketAddress to = (InetSocketAddress) shadowRx.getLocalAddress();
            final ByteBuffer datagram = ByteBuffer.allocateDirect(Math.max(1, length));
            payload.getBytes(offset, datagram, 0, length);
            final ByteBuffer discard = ByteBuffer.allocateDirect(65536);
            final Counters scratch = new Counters();
            final long[] sent = {0};
            final Runnable feed = () -> {
                try {
                    payload.getBytes(offset, datagram, 0, length); // the duty cycle may have changed it
                    // a few datagrams ahead of the duty cycle, never a socket buffer's worth
                    while (sent[0] - scratch.get(io.bypass.Counter.RX_PACKETS) < FEED_AHEAD) {
                        placeholder.send(datagram.clear().limit(length), to);
                        sent[0]++;
                    }
                    while (placeholder.receive(discard.clear()) != null) {
                        continue;
                    }
                } catch (final IOException e) {
                    throw new BypassException("nio: warm-up on loopback failed: " + e.getMessage(), e);
                }
            };
            endpoint.divert(new NioSocket[] {new NioSocket(shadowRx, target.address, target.port, null)}, shadowTx,
                ((InetSocketAddress) shadowTx.getLocalAddress()).getPort(), scratch);
            try {
                return UdpRules.runDutyCycle(dutyCycle, scratch, datagrams, feed);
            } finally {
                endpoint.divert(null, liveTx, liveTxPort, null);
            }
        } catch (final IOException e) {
            throw new BypassException("nio: warm-up cannot open a loopback socket: " + e.getMessage(), e);
        }
    }

    private static DatagramChannel loopbackChannel() throws IOException {
        final DatagramChannel ch = DatagramChannel.open(StandardProtocolFamily.INET);
        try {
            ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            ch.configureBlocking(false);
            return ch;
        } catch (final IOException e) {
            ch.close();
            throw e;
        }
    }
}
