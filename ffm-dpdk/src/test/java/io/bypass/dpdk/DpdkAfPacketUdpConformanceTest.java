package io.bypass.dpdk;

import io.bypass.Counter;
import io.bypass.conformance.UdpConformanceSuite;
import io.bypass.testing.Frames;

/** {@link UdpConformanceSuite} on a DPDK port through the net_af_packet PMD on a veth pair, without hugepages. */
class DpdkAfPacketUdpConformanceTest extends UdpConformanceSuite {
    @Override
    protected String uriFor(final String iface) {
        return DpdkConformance.uri("net_af_packet", site(), iface);
    }

    @Override
    protected String backendName() {
        return "dpdk";
    }

    /**
     * DPDK's net_af_packet joins its packet socket to a fanout group with PACKET_FANOUT_FLAG_DEFRAG, so the
     * kernel reassembles IP fragments before the PMD sees them: a lone fragment never reaches the port.
     */
    @Override
    protected Counter expectedDropCounter(final Frames.Malformation m) {
        return m == Frames.Malformation.FRAGMENT || m == Frames.Malformation.NON_FIRST_FRAGMENT ? null : super.expectedDropCounter(m);
    }

    /** DPDK owns the interface: its packet socket sees every frame (the kernel gets a copy), and Bypass counts each. */
    @Override
    protected boolean kernelKeepsOtherFlows() {
        return false;
    }

    @Override
    protected void assertNothingLeft(final String iface) {
        DpdkConformance.assertNoXdp(site(), iface);
    }

    /**
     * DPDK's statistics are read on the port's control thread (in the port's network namespace, where
     * the net_af_xdp program check runs too), so each refresh hands a task over to it: about 120 bytes
     * (the task and its future), measured 6,112-6,376 bytes for 50 refreshes. The publisher refreshes
     * once a second, so that is about 120 B/s against the hot path's millions of operations. The bound
     * is 200 bytes a refresh: a refresher that allocates more (text parsing, say) still fails.
     */
    @Override
    protected long refreshAllocationToleranceBytes() {
        return 50 * 200;
    }
}
