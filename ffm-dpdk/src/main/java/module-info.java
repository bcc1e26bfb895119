/**
 * The DPDK backend of Bypass ({@code dpdk:} URIs): SR-IOV VFs, PCI NICs bound to vfio-pci and
 * DPDK's virtual devices (net_af_xdp, net_af_packet, net_tap, net_virtio_user, net_memif).
 */
module io.bypass.dpdk {
    requires io.bypass;

    exports io.bypass.dpdk;

    provides io.bypass.spi.BackendProvider with io.bypass.dpdk.DpdkBackendProvider;
}
