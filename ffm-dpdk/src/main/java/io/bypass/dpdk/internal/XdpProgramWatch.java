package io.bypass.dpdk.internal;

import io.bypass.Counter;
import io.bypass.Counters;

/**
 * Notices that the XDP program net_af_xdp attached to an interface is gone. net_af_xdp attaches
 * it by netlink, so anyone may remove it ({@code ip link set dev IFACE xdp off}, as the message
 * for an orphan says to); the port then receives nothing, with no error. One netlink query per
 * check, made by the port's control thread, in the port's network namespace, off the hot path.
 * The loss is counted once in {@link Counter#XDP_PROGRAM_DETACHED} and logged once.
 */
final class XdpProgramWatch {
    private static final System.Logger LOG = System.getLogger(DpdkPortImpl.class.getName());

    private final String iface;
    private final String deviceName;
    private final int ifindex;
    private final int programId;
    private boolean gone;

    private XdpProgramWatch(final String iface, final String deviceName, final int ifindex, final int programId) {
        this.iface = iface;
        this.deviceName = deviceName;
        this.ifindex = ifindex;
        this.programId = programId;
    }

    /**
     * Notes the program attached now; call right after the port opened, in its network namespace.
     *
     * @param iface      the interface net_af_xdp uses
     * @param deviceName the DPDK device, for the message
     * @return the watch, or null if no program can be found (logged: its removal would go unnoticed)
     */
    static XdpProgramWatch start(final String iface, final String deviceName) {
        final int ifindex = XdpAttachment.ifindex(iface);
        final int id = ifindex == 0 ? -1 : XdpAttachment.programId(ifindex);
        if (id <= 0) {
            LOG.log(System.Logger.Level.WARNING, "dpdk: found no XDP program on {0} after {1} opened it, so its removal "
                + "from outside would go unnoticed", iface, deviceName);
            return null;
        }
        return new XdpProgramWatch(iface, deviceName, ifindex, id);
    }

    /** @return the id of the program the port attached */
    int programId() {
        return programId;
    }

    /**
     * Checks that the program is still attached; the first time it is not, counts and logs it.
     *
     * @param counters the port's counters
     * @return true if the program is gone (now or before)
     */
    boolean check(final Counters counters) {
        if (gone) {
            return true;
        }
        final int now = XdpAttachment.programId(ifindex);
        if (now < 0 || now == programId) {
            return false; // cannot ask (counted as still there), or still ours
        }
        gone = true;
        counters.increment(Counter.XDP_PROGRAM_DETACHED);
        LOG.log(System.Logger.Level.WARNING, "dpdk: the XDP program (id {0}) that {1} attached to {2} is {3}: the port "
            + "receives nothing more (frames go to the kernel''s stack, uncounted). Another process removed it (such as "
            + "''ip link set dev {2} xdp off'') or the interface was deleted; close the port and open it again",
            Integer.toString(programId), deviceName, iface, now == 0 ? "gone" : "replaced by program id " + now);
        return true;
    }
}
