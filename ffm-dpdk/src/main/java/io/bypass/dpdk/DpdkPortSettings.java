package io.bypass.dpdk;

import io.bypass.BypassUriException;
import io.bypass.PortUri;
import io.bypass.dpdk.internal.EalRuntime;
import io.bypass.net.Ipv4;
import io.bypass.spi.RxBuffering;
import io.bypass.spi.RxStallBudget;

/**
 * A port's own settings, read from its URI: the device, the address, the queues and receive
 * modes, and the stall budget its buffering is sized from. {@link DpdkContext#conclude()} reads
 * and checks them for a context made by {@link DpdkContext#withUri(PortUri)}.
 *
 * @param uri              the port URI
 * @param devargs          the device and its arguments, {@code framecnt} added for net_af_packet (see {@link #devargs()})
 * @param ipv4Address      the port's address, 0 if none
 * @param ipv4PrefixLength its prefix length, 0 if none
 * @param ipv4Gateway      the default route's next hop, 0 if none
 * @param rxQueues         RX queues
 * @param txQueues         TX queues
 * @param mtu              the MTU asked for, 0 for the PMD's
 * @param promiscuous      promiscuous mode asked for
 * @param allMulticast     all-multicast mode asked for
 * @param rxStallBudget    the stall budget the receive buffering is sized from
 */
public record DpdkPortSettings(PortUri uri, String devargs, int ipv4Address, int ipv4PrefixLength, int ipv4Gateway,
                               int rxQueues, int txQueues, int mtu, boolean promiscuous, boolean allMulticast,
                               RxStallBudget rxStallBudget) {
    /**
     * Reads and checks a port's own keys.
     *
     * @param uri a {@code dpdk:} URI
     * @return the settings
     * @throws BypassUriException naming the bad part: missing or malformed devargs, a malformed address
     */
    static DpdkPortSettings read(final PortUri uri) {
        final RxStallBudget budget = RxStallBudget.from(uri);
        final String devargs = withStallDepth(uri.target(), budget);
        if (devargs.isBlank()) {
            throw new BypassUriException(uri.text(), "missing devargs: dpdk:net_af_xdp0,iface=eth1, dpdk:net_af_packet0,iface=eth1 or dpdk:0000:03:00.0");
        }
        final String name = deviceName(devargs);
        if (!EalRuntime.isPci(name) && !name.matches("net_[a-z0-9_]+")) {
            throw new BypassUriException(uri.text(), "bad devargs '" + devargs + "': expected a virtual device such as "
                + "net_af_xdp0,iface=eth1 / net_af_packet0,iface=eth1 / net_tap0,iface=tap0, or a PCI address such as 0000:03:00.0");
        }
        int ip = 0;
        int prefix = 0;
        int gateway = 0;
        final String ipText = DpdkUriParams.IP.text(uri);
        if (ipText != null) {
            final int slash = ipText.indexOf('/');
            try {
                ip = Ipv4.parse(slash < 0 ? ipText : ipText.substring(0, slash));
                prefix = slash < 0 ? 32 : Integer.parseInt(ipText.substring(slash + 1));
            } catch (final IllegalArgumentException e) {
                throw new BypassUriException(uri.text(), "parameter 'ip' must be A.B.C.D/NN, got '" + ipText + "'");
            }
            if (prefix < 0 || prefix > 32) {
                throw new BypassUriException(uri.text(), "prefix length in 'ip' must be 0..32, got " + prefix);
            }
        }
        final String gatewayText = DpdkUriParams.GATEWAY.text(uri);
        if (gatewayText != null) {
            try {
                gateway = Ipv4.parse(gatewayText);
            } catch (final IllegalArgumentException e) {
                throw new BypassUriException(uri.text(), "parameter 'gateway' must be A.B.C.D, got '" + gatewayText + "'");
            }
        }
        return new DpdkPortSettings(uri, devargs, ip, prefix, gateway, DpdkUriParams.RX_QUEUES.intValue(uri),
            DpdkUriParams.TX_QUEUES.intValue(uri), DpdkUriParams.MTU.intValue(uri, 0), DpdkUriParams.PROMISC.booleanValue(uri),
            DpdkUriParams.ALLMULTI.booleanValue(uri), budget);
    }

    /**
     * net_af_packet's kernel ring is its {@code framecnt} devarg (512 frames by default), not the
     * RX descriptors: size it from the stall budget unless the devargs say otherwise.
     *
     * @param devargs the devargs a URI names
     * @param budget  the URI's stall budget
     * @return the devargs as probed: with {@code framecnt} added for net_af_packet when they give none
     */
    public static String withStallDepth(final String devargs, final RxStallBudget budget) {
        if (!devargs.startsWith("net_af_packet") || devargs.contains("framecnt=")) {
            return devargs;
        }
        return devargs + ",framecnt=" + budget.ringSize(512, 1 << 16);
    }

    /**
     * RX descriptors hold what arrives while the polling thread stalls; the PMD clamps them to
     * what it supports ({@code rte_eth_dev_adjust_nb_rx_tx_desc}). Not on the two kernel-socket
     * vdevs, where more buys only mempool: net_af_packet buffers in its framecnt ring, and
     * net_af_xdp's RX ring (its rxDesc) can hold no more than the buffers it posts.
     *
     * @param deviceName the device
     * @param budget     its stall budget
     * @return the RX descriptors when neither URI nor context give them
     */
    static int rxDescFor(final String deviceName, final RxStallBudget budget) {
        return deviceName.startsWith("net_af_packet") ? DpdkContext.DEFAULT_RX_DESC
            : deviceName.startsWith("net_af_xdp") ? DpdkContext.AF_XDP_PMD_BUFFERS
            : budget.ringSize(DpdkContext.DEFAULT_RX_DESC, 32768);
    }

    /**
     * @param devargs devargs such as {@code net_af_packet0,iface=eth1}
     * @return the device name: the devargs up to the first comma
     */
    public static String deviceName(final String devargs) {
        final int comma = devargs.indexOf(',');
        return (comma < 0 ? devargs : devargs.substring(0, comma)).strip();
    }

    /**
     * @param devargs comma-separated devargs
     * @param key     a devarg such as {@code iface}
     * @return its value, or null
     */
    public static String devarg(final String devargs, final String key) {
        for (final String part : devargs.split(",")) {
            if (part.startsWith(key + "=")) {
                return part.substring(key.length() + 1).strip();
            }
        }
        return null;
    }

    /** @return the device name, e.g. {@code net_af_xdp0} or {@code 0000:03:00.0} */
    public String deviceName() {
        return deviceName(devargs);
    }

    /** @return the PCI address the port names, or null for a virtual device */
    public String pciAddress() {
        return EalRuntime.isPci(deviceName()) ? deviceName() : null;
    }

    /** @return true for DPDK's net_af_xdp PMD */
    public boolean isAfXdp() {
        return deviceName().startsWith("net_af_xdp");
    }

    /** @return true for DPDK's net_af_packet PMD */
    public boolean isAfPacket() {
        return deviceName().startsWith("net_af_packet");
    }

    /** @return the kernel interface a socket vdev (net_af_xdp, net_af_packet) runs on ({@code iface=}), or null */
    public String kernelInterface() {
        return isAfXdp() || isAfPacket() ? devarg(devargs, "iface") : null;
    }

    /**
     * The receive buffering these settings set up, where it lies on each kind of device.
     *
     * @param rxDesc the RX descriptors of the concluded context
     * @return the buffering
     */
    RxBuffering rxBuffering(final int rxDesc) {
        if (isAfPacket()) {
            final String framecnt = devarg(devargs, "framecnt");
            try {
                return RxBuffering.ring("framecnt", Integer.parseInt(framecnt), "");
            } catch (final NumberFormatException e) {
                throw new BypassUriException(uri.text(), "devarg framecnt must be a number of frames, got '" + framecnt + "'");
            }
        }
        if (isAfXdp()) {
            return RxBuffering.ring("PMD cap", Math.min(rxDesc, DpdkContext.AF_XDP_PMD_BUFFERS), "");
        }
        return RxBuffering.ring("rxDesc", rxDesc, "(the PMD may clamp it)");
    }
}
