package io.bypass.dpdk;

/** {@link DpdkVethTest} through DPDK's net_af_xdp PMD (it attaches its own XDP program; close must detach it). */
class DpdkAfXdpVethTest extends DpdkVethTest {
    @Override
    String devargs(final int index, final String iface) {
        return "net_af_xdp" + index + ",iface=" + iface + ",busy_budget=0";
    }
}
