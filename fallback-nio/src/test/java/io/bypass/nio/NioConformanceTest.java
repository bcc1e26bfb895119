package io.bypass.nio;

import io.bypass.Counter;
import io.bypass.conformance.UdpConformanceSuite;
import io.bypass.testing.Frames;

/**
 * The UDP conformance suite over a veth pair between two namespaces: the endpoint in
 * namespace A on its veth end, traffic from namespace B.
 */
class NioConformanceTest extends UdpConformanceSuite {
    @Override
    protected String uriFor(final String iface) {
        return "nio:" + iface;
    }

    /**
     * A kernel socket never sees malformed frames: the kernel's IP and UDP input drop
     * them (and keeps its own SNMP counters), so the suite checks only that they are not
     * delivered and that the good datagrams around them are.
     */
    @Override
    protected Counter expectedDropCounter(final Frames.Malformation m) {
        return null;
    }
}
