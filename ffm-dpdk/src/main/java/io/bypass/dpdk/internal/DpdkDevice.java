package io.bypass.dpdk.internal;

import io.bypass.BypassException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * One ethdev from probe to close: its ids, its memory, how far it got, and the modes the port
 * turned on (so close turns off those only). Shared by the port's classes that start, read and
 * close it ({@link DeviceStart}, {@link PortStatistics}, {@link DeviceClose}), always under the
 * port's lock or before the port is published.
 */
final class DpdkDevice {
    static final int EOPNOTSUPP = 95;
    private static final int EINVAL = 22;

    /** The device name, e.g. {@code net_af_xdp0} or a PCI address. */
    final String name;
    /** The ethdev port id. */
    final short portId;
    /** Whether close removes the device (hotplug) after closing it. */
    final boolean removeDevice;
    /** The kernel interface a socket vdev runs on ({@code iface=}), or null. */
    final String kernelIface;
    /** The port's memory: statistics, link and descriptor-count segments, the pool name. */
    final Arena arena = Arena.ofShared();
    MemorySegment mempool = MemorySegment.NULL;
    boolean configured;
    boolean started;
    /** Set when closing the device would crash DPDK (see the net_af_xdp queue setup failure in DeviceStart). */
    boolean abandoned;
    /** Modes this port turned on (by URI or to receive joined groups), turned off at close. */
    boolean promiscuous;
    boolean allMulticast;
    /** The kernel interface's flags when the port opened (socket vdevs), -1 if none or unreadable. */
    int kernelFlagsAtOpen = -1;
    long txOffloads;
    long rxOffloads;
    /** AF_XDP sockets net_af_xdp opened, by fd, closed at close if the PMD leaves them open. */
    Map<Integer, String> xdpSockets = Map.of();
    /** This port's entry in {@link OwnXdpPrograms}, or null. */
    String xdpKey;

    DpdkDevice(final String name, final short portId, final boolean removeDevice, final String kernelIface) {
        this.name = name;
        this.portId = portId;
        this.removeDevice = removeDevice;
        this.kernelIface = kernelIface;
    }

    /** @return true for DPDK's net_af_xdp PMD */
    boolean isAfXdp() {
        return name.startsWith("net_af_xdp");
    }

    /**
     * @param flag a {@link KernelLinkFlags} flag
     * @return true if the kernel interface had it when the port opened
     */
    boolean kernelHad(final int flag) {
        return kernelFlagsAtOpen >= 0 && (kernelFlagsAtOpen & flag) != 0;
    }

    /**
     * @param rc   what a DPDK call returned
     * @param call the call, for the message
     * @throws BypassException naming the call, the device, the error and a hint, if {@code rc} is negative
     */
    void check(final int rc, final String call) {
        if (rc < 0) {
            final String hint = -rc == EOPNOTSUPP ? "the " + name + " PMD does not support it"
                : -rc == EINVAL ? "a value is outside what the device allows (rte_eth_dev_info: queues, descriptors, MTU)"
                : "see the EAL log on stderr";
            throw new BypassException("dpdk: " + call + " on " + name + " (port " + portId + ") failed: "
                + Rte.strerror(rc) + "; " + hint);
        }
    }
}
