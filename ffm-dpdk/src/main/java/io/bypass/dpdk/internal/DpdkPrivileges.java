package io.bypass.dpdk.internal;

import io.bypass.PortUri;
import io.bypass.dpdk.DpdkPortSettings;
import io.bypass.spi.PrivilegeNeeds;
import io.bypass.spi.Privileges;
import io.bypass.spi.RxStallBudget;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a DPDK port needs from the process, by device, as measured on Linux 6.18 with DPDK 22.11
 * and libxdp 1.3 (an ordinary user given ambient capabilities, each one dropped in turn):
 *
 * <ul>
 *   <li>{@code net_af_packet}: CAP_NET_RAW (the packet socket) and CAP_NET_ADMIN (the PMD sets
 *       the MAC address and promiscuous mode); its RX and TX rings, {@code framecnt} frames of
 *       {@code framesz} bytes each per queue pair, are mapped locked ({@code MAP_LOCKED}):
 *       CAP_IPC_LOCK or RLIMIT_MEMLOCK of that size.</li>
 *   <li>{@code net_af_xdp}: CAP_NET_RAW, CAP_NET_ADMIN and CAP_SYS_ADMIN (libxdp looks its
 *       program and maps up by id, which only CAP_SYS_ADMIN may; it covers CAP_BPF and
 *       CAP_PERFMON), and CAP_IPC_LOCK for its UMEM, the mbuf pool.</li>
 *   <li>{@code net_ring}, {@code net_null}: nothing.</li>
 *   <li>PCI NICs (vfio-pci) and {@code net_tap}: not measured here.</li>
 * </ul>
 */
public final class DpdkPrivileges {
    /** net_af_packet's frame size when the devargs give none (DPDK 22.11). */
    static final int AF_PACKET_FRAMESZ = 2048;
    private static final Pattern FRAMECNT = Pattern.compile("(?:^|,)framecnt=(\\d+)");
    private static final Pattern FRAMESZ = Pattern.compile("(?:^|,)framesz=(\\d+)");
    private static final Pattern QPAIRS = Pattern.compile("(?:^|,)qpairs=(\\d+)");

    private DpdkPrivileges() {
    }

    /**
     * @param uri a {@code dpdk:} URI
     * @return what a port opened with it needs ({@code framecnt} from the stall budget when the devargs give none)
     */
    public static PrivilegeNeeds needs(final PortUri uri) {
        return needs(DpdkPortSettings.withStallDepth(uri.target(), RxStallBudget.from(uri)));
    }

    /**
     * @param devargs the devargs as probed, {@code framecnt} included (see DpdkPortSettings.withStallDepth)
     * @return what a port on that device needs
     */
    public static PrivilegeNeeds needs(final String devargs) {
        if (devargs.startsWith("net_af_packet")) {
            final long bytes = 2L * number(FRAMECNT, devargs, 512) * number(FRAMESZ, devargs, AF_PACKET_FRAMESZ)
                * number(QPAIRS, devargs, 1);
            return new PrivilegeNeeds(List.of(Privileges.CAP_NET_RAW, Privileges.CAP_NET_ADMIN), bytes,
                "the RX and TX rings (2 x framecnt x framesz per queue pair) are mapped locked, per process");
        }
        if (devargs.startsWith("net_af_xdp")) {
            return new PrivilegeNeeds(List.of(Privileges.CAP_NET_RAW, Privileges.CAP_NET_ADMIN, Privileges.CAP_SYS_ADMIN),
                PrivilegeNeeds.UNKNOWN_BYTES, "libxdp needs CAP_SYS_ADMIN; the UMEM is the mbuf pool (URI key mbufs), charged"
                + " to the user's RLIMIT_MEMLOCK unless CAP_IPC_LOCK; without CAP_SYS_ADMIN a failed open leaves"
                + " xsk_def_prog attached (ip link set dev IFACE xdp off)");
        }
        if (devargs.startsWith("net_ring") || devargs.startsWith("net_null")) {
            return new PrivilegeNeeds(List.of(), 0, "");
        }
        if (EalRuntime.isPci(devargs.split(",", 2)[0])) {
            return new PrivilegeNeeds(List.of(), PrivilegeNeeds.UNKNOWN_BYTES, "not verified here (no"
                + " NIC): the service user needs /dev/vfio/GROUP (chown it), a hugetlbfs mount it may write, and IOVA as VA"
                + " (vfio with an IOMMU); DMA mappings pin the hugepage memory; see " + Privileges.GUIDE);
        }
        return PrivilegeNeeds.unstated();
    }

    /**
     * The privilege part of the remedy for a device that failed to probe or set up its queues
     * (DPDK reports a refused locked mapping as EPERM too, so both are checked).
     *
     * @param devargs the devargs as probed (or the device name)
     * @return what this process lacks for the device, or an empty string if nothing is known to lack
     */
    static String privilegeRemedy(final String devargs) {
        final PrivilegeNeeds needs = needs(devargs);
        final StringBuilder sb = new StringBuilder();
        if (!Privileges.missing(needs.capabilities()).isEmpty()) {
            sb.append("; ").append(Privileges.capabilityRemedy("dpdk " + devargs.split(",", 2)[0], needs));
        }
        final long limit = Privileges.memlockLimit();
        if (needs.locksMemory() && !Privileges.effective().contains(Privileges.CAP_IPC_LOCK) && limit != Long.MAX_VALUE) {
            if (needs.lockedBytes() > limit) {
                sb.append("; ").append(Privileges.memlockRemedy("the packet rings", needs.lockedBytes(), "per process",
                    "a smaller framecnt"));
            } else if (needs.lockedBytes() == PrivilegeNeeds.UNKNOWN_BYTES) {
                sb.append("; the UMEM (the mbuf pool) is locked memory and this process lacks CAP_IPC_LOCK, with RLIMIT_MEMLOCK at ")
                    .append(limit).append(" bytes: give CAP_IPC_LOCK (systemd AmbientCapabilities=) or LimitMEMLOCK=infinity");
            }
        }
        return sb.toString();
    }

    /**
     * @return the remedy for an EAL that failed to start without root
     */
    static String ealRemedy() {
        return "without root DPDK runs its EAL with --no-huge (hugepages=false) unless hugetlbfs is writable, and each"
            + " device needs its own capabilities ('bypass doctor --uri URI' lists them; see " + Privileges.GUIDE + ")";
    }

    private static long number(final Pattern p, final String devargs, final long dflt) {
        final Matcher m = p.matcher(devargs);
        return m.find() ? Long.parseLong(m.group(1)) : dflt;
    }
}
