package io.bypass.udp;

import io.bypass.Capability;
import io.bypass.Counters;
import io.bypass.Port;
import io.bypass.PortUri;
import org.agrona.DirectBuffer;

import java.util.Set;

/** PLACEHOLDER being written by the protocol-layer work; replaced before any commit. */
public final class L2UdpEndpoint implements UdpEndpoint {
    private static UnsupportedOperationException todo() {
        return new UnsupportedOperationException("placeholder");
    }

    /**
     * @param port      port
     * @param uri       uri
     * @param closePort close
     */
    public L2UdpEndpoint(final Port port, final PortUri uri, final boolean closePort) {
        throw todo();
    }

    @Override public String backend() { throw todo(); }
    @Override public PortUri uri() { throw todo(); }
    @Override public Set<Capability> capabilities() { throw todo(); }
    @Override public void bind(final int port) { throw todo(); }
    @Override public void join(final int group, final int port) { throw todo(); }
    @Override public void leave(final int group, final int port) { throw todo(); }
    @Override public int poll(final DatagramHandler handler, final int limit) { throw todo(); }
    @Override public int tryClaim(final UdpDestination destination, final int length, final DatagramClaim claim) { throw todo(); }
    @Override public int send(final UdpDestination destination, final DirectBuffer buffer, final int offset, final int length) { throw todo(); }
    @Override public int flush() { throw todo(); }
    @Override public int maxPayloadLength() { throw todo(); }
    @Override public int localAddress() { throw todo(); }
    @Override public int localPort() { throw todo(); }
    @Override public Counters counters() { throw todo(); }
    @Override public boolean isClosed() { throw todo(); }
    @Override public void close() { throw todo(); }
}
