package io.bypass.dpdk;

import io.bypass.Counter;
import io.bypass.conformance.TcpConformanceSuite;
import io.bypass.tcp.TcpEndpoint;

/**
 * {@link TcpConformanceSuite} on a DPDK port through the net_af_packet PMD on a veth pair, without
 * hugepages: Bypass's own TCP against the kernel's in the peer namespace. The DUT's kernel address
 * is removed (see {@link DpdkConformance#uri}), so the DUT's kernel never answers our flows.
 */
class DpdkAfPacketTcpConformanceTest extends TcpConformanceSuite {
    @Override
    protected String uriFor(final String iface) {
        return DpdkConformance.uri("net_af_packet", site(), iface);
    }

    @Override
    protected String backendName() {
        return "dpdk";
    }

    @Override
    protected long dutRetransmittedSegments(final TcpEndpoint endpoint) {
        return endpoint.counters().get(Counter.TCP_RETRANSMITTED_SEGMENTS);
    }
}
