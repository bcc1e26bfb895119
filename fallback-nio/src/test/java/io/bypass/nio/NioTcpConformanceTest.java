package io.bypass.nio;

import io.bypass.conformance.KernelTcpPeer;
import io.bypass.conformance.TcpConformanceSuite;
import io.bypass.tcp.TcpEndpoint;

/**
 * The TCP conformance suite on {@code nio:} over a veth pair between two namespaces: our endpoint
 * in namespace A, the kernel's TCP as the peer in namespace B. nio's TCP is the kernel's too, so
 * its retransmissions are namespace A's {@code TcpRetransSegs}.
 */
class NioTcpConformanceTest extends TcpConformanceSuite {
    @Override
    protected String uriFor(final String iface) {
        return "nio:" + iface;
    }

    @Override
    protected long dutRetransmittedSegments(final TcpEndpoint endpoint) {
        return KernelTcpPeer.retransmittedSegments(site().dutNamespace());
    }
}
