package io.bypass.dpdk;

import io.bypass.conformance.ConformanceSite;
import io.bypass.net.Ipv4;
import io.bypass.testkit.VethPair;

import static org.junit.jupiter.api.Assertions.assertFalse;

/** What the DPDK conformance subclasses share: the URI for a site and the after-close check. */
final class DpdkConformance {
    private DpdkConformance() {
    }

    /**
     * @param pmd  {@code net_af_packet} or {@code net_af_xdp}
     * @param site the suite's site, null while the suite only asks for the backend's name
     * @param iface the DUT's veth end
     * @return a URI with a fresh vdev name, the DUT's address, and no hugepages
     */
    static String uri(final String pmd, final ConformanceSite site, final String iface) {
        if (site == null) {
            return "dpdk:" + pmd + "0,iface=" + iface;
        }
        // DPDK owns the port: take the address away from the DUT namespace's kernel, so only our
        // protocol layer answers ARP for it and the kernel sends no ICMP for what it would not expect
        // (net_af_packet hands the kernel a copy of every frame).
        site.dutNamespace().ip("addr", "flush", "dev", iface);
        return "dpdk:" + pmd + DpdkTestSupport.nextVdevIndex() + ",iface=" + iface + "?hugepages=false&ip="
            + Ipv4.toString(site.dutAddress()) + "/" + VethPair.PREFIX_LENGTH;
    }

    /** No XDP program (net_af_xdp attaches one) may stay on the interface after close. */
    static void assertNoXdp(final ConformanceSite site, final String iface) {
        final String link = site.dutNamespace().ip("link", "show", "dev", iface);
        assertFalse(link.contains("xdp"), "an XDP program is still attached after close: " + link);
    }
}
