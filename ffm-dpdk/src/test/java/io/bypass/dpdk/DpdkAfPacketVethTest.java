package io.bypass.dpdk;

/** {@link DpdkVethTest} through DPDK's net_af_packet PMD. */
class DpdkAfPacketVethTest extends DpdkVethTest {
    @Override
    String devargs(final int index, final String iface) {
        return "net_af_packet" + index + ",iface=" + iface;
    }
}
