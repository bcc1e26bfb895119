package io.bypass.dpdk;

import io.bypass.conformance.UdpConformanceSuite;

/** {@link UdpConformanceSuite} on a DPDK port through the net_af_xdp PMD on a veth pair, without hugepages. */
class DpdkAfXdpUdpConformanceTest extends UdpConformanceSuite {
    @Override
    protected String uriFor(final String iface) {
        return DpdkConformance.uri("net_af_xdp", site(), iface);
    }

    /**
     * DPDK 22.11's net_af_xdp gives the kernel's fill ring 2048 buffers whatever rxDesc is
     * ({@code DpdkContext.AF_XDP_PMD_BUFFERS}, warned at open): the documented cap, 10.2 ms at 200 kpps.
     */
    @Override
    protected int stallFrames() {
        // Less a few for the link's own traffic (IPv6 neighbour discovery, IGMP) that may take a buffer meanwhile.
        return 2048 - 32;
    }

    @Override
    protected String backendName() {
        return "dpdk";
    }

    /** DPDK owns the interface: the PMD's XDP program takes every frame, and Bypass counts each. */
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
