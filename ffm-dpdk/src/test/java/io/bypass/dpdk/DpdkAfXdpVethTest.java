package io.bypass.dpdk;

/** {@link DpdkVethTest} through DPDK's net_af_xdp PMD (it attaches its own XDP program; close must detach it). */
class DpdkAfXdpVethTest extends DpdkVethTest {
    @Override
    String devargs(final int index, final String iface) {
        return "net_af_xdp" + index + ",iface=" + iface + ",busy_budget=0";
    }

    @Override
    String smallRingUri(final int index) {
        // rxDesc sizes the AF_XDP RX ring; the PMD fills the fill ring with 2048 buffers regardless.
        return uri(index, "promisc=true&rxDesc=" + SMALL_RING);
    }
}
