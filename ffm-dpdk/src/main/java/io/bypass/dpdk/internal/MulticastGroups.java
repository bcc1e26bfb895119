package io.bypass.dpdk.internal;

import io.bypass.dpdk.DpdkPort.MulticastFilter;
import io.bypass.dpdk.internal.gen.Ethdev;
import io.bypass.net.Ipv4;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The multicast groups a port joined, counted (several endpoints may join one), and how the
 * device is made to receive them: the NIC's list of group MACs where the PMD has one, else
 * all-multicast, else promiscuous, each fallback logged once and reported by
 * {@link io.bypass.dpdk.DpdkPort#multicastFilter()}. Under the port's lock, on its control thread.
 */
final class MulticastGroups {
    private static final System.Logger LOG = System.getLogger(DpdkPortImpl.class.getName());

    private final DpdkDevice device;
    private final Map<Integer, Integer> groups = new LinkedHashMap<>();
    private MulticastFilter multicastFilter = MulticastFilter.MAC_LIST;

    /**
     * @param device the started device
     */
    MulticastGroups(final DpdkDevice device) {
        this.device = device;
    }

    /** @return how joined groups reach the port */
    MulticastFilter filter() {
        return multicastFilter;
    }

    /**
     * Joins a group (again: counted, nothing to program).
     *
     * @param group an IPv4 multicast group
     * @throws IllegalArgumentException if it is not a multicast group
     */
    void join(final int group) {
        if (!Ipv4.isMulticast(group)) {
            throw new IllegalArgumentException(Ipv4.toString(group) + " is not a multicast group");
        }
        final Integer count = groups.get(group);
        groups.put(group, count == null ? 1 : count + 1);
        if (count == null) {
            programMulticast();
        }
    }

    /**
     * Leaves a group once; the last leave takes its MAC off the list.
     *
     * @param group an IPv4 multicast group; one not joined is ignored
     */
    void leave(final int group) {
        final Integer count = groups.get(group);
        if (count == null) {
            return;
        }
        if (count > 1) {
            groups.put(group, count - 1);
        } else {
            groups.remove(group);
            programMulticast();
        }
    }

    /** Programs the group MACs (01:00:5e + low 23 bits); falls back to all-multicast, then promiscuous, and says so. */
    private void programMulticast() {
        final short portId = device.portId;
        if (multicastFilter == MulticastFilter.MAC_LIST) {
            final int n = groups.size();
            try (Arena a = Arena.ofConfined()) {
                final MemorySegment list = a.allocate(6L * Math.max(1, n));
                int i = 0;
                for (final int g : groups.keySet()) {
                    final long mac = 0x01005E000000L | (g & 0x7FFFFFL);
                    for (int b = 0; b < 6; b++) {
                        list.set(ValueLayout.JAVA_BYTE, 6L * i + b, (byte) (mac >>> (40 - 8 * b)));
                    }
                    i++;
                }
                final int rc = Ethdev.rte_eth_dev_set_mc_addr_list(portId, n == 0 ? MemorySegment.NULL : list, n);
                if (rc == 0) {
                    return;
                }
                if (-rc != DpdkDevice.EOPNOTSUPP) {
                    device.check(rc, "rte_eth_dev_set_mc_addr_list(" + n + " groups)");
                }
            }
            LOG.log(System.Logger.Level.INFO, "dpdk: {0} has no multicast MAC filter list; receiving all multicast instead",
                device.name);
            multicastFilter = MulticastFilter.ALL_MULTICAST;
        }
        if (multicastFilter == MulticastFilter.ALL_MULTICAST) {
            if (device.allMulticast || device.kernelHad(KernelLinkFlags.ALLMULTI) || device.kernelHad(KernelLinkFlags.PROMISC)) {
                return;
            }
            final int rc = Ethdev.rte_eth_allmulticast_enable(portId);
            if (rc == 0) {
                device.allMulticast = true;
                return;
            }
            if (-rc != DpdkDevice.EOPNOTSUPP) {
                device.check(rc, "rte_eth_allmulticast_enable");
            }
            LOG.log(System.Logger.Level.WARNING, "dpdk: {0} has neither a multicast filter list nor all-multicast; "
                + "making the port promiscuous to receive joined groups", device.name);
            multicastFilter = MulticastFilter.PROMISCUOUS;
        }
        if (!device.promiscuous && !device.kernelHad(KernelLinkFlags.PROMISC)) {
            device.check(Ethdev.rte_eth_promiscuous_enable(portId), "rte_eth_promiscuous_enable (to receive multicast: the PMD "
                + "has neither a multicast filter list nor all-multicast)");
            device.promiscuous = true;
        }
    }
}
