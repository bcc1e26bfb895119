package io.bypass.samples.doctor;

import io.bypass.net.ChecksumPolicy;

/**
 * The doctor's word on received checksums for an interface: whether kernel peers on this
 * host will send partial UDP checksums over it (a veth pair, as every container network is
 * built), what Bypass does with them under each {@link ChecksumPolicy}, and which backend
 * uses a NIC verdict.
 */
final class ChecksumReport {
    private ChecksumReport() {
    }

    /**
     * @param driver the interface's driver name, or null if unknown
     * @return one sentence for the report
     */
    static String forDriver(final String driver) {
        final String backends = " afxdp sums every checksum in software (AF_XDP has no RX checksum verdict on this kernel); "
            + "efvi drops on ef_vi's bad-checksum discard (RX_DISCARD/CSUM_BAD) but sums every other frame in software "
            + "(ef_vi never says a sum is right); dpdk uses the PMD's verdict where it offers one (capability RX_CHECKSUM_VERDICT).";
        if ("veth".equals(driver)) {
            return "veth: kernel peers on this host (the other end, containers) send UDP with only the pseudo-header "
                + "sum in the checksum field (TX checksum offload, which veth never finishes). Bypass delivers such "
                + "datagrams under the default " + ChecksumPolicy.PARAM_NAME + "=" + ChecksumPolicy.NIC.uriValue()
                + " (and " + ChecksumPolicy.PARTIAL.uriValue() + ") and counts them as rx_partial_checksum; "
                + ChecksumPolicy.PARAM_NAME + "=" + ChecksumPolicy.VERIFY.uriValue() + " drops them as bad_udp_checksum. "
                + "A wrong complete sum is dropped under every policy." + backends;
        }
        if ("loopback".equals(driver)) {
            return "loopback: only nio runs here; the kernel checks checksums before the socket sees a datagram.";
        }
        return "a NIC on the wire: peers' checksums arrive complete and are checked under every policy"
            + " (checksum=nic, the default, takes the NIC's verdict where the backend has one)." + backends;
    }
}
