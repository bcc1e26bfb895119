package io.bypass.samples.doctor;

import io.bypass.spi.XdpOwners;

import java.nio.file.Path;

/** The doctor's view of an interface's XDP program: its mode and id, and who holds it. */
final class XdpReport {
    private XdpReport() {
    }

    /** From {@code ip -d link show}: "prog/xdp id 42" (native), "prog/xdpgeneric", "prog/xdpoffload". */
    static String xdpAttached(final String ipLink) {
        final java.util.regex.Matcher m = java.util.regex.Pattern.compile("prog/(xdp\\w*) id (\\d+)").matcher(ipLink);
        if (!m.find()) {
            return "none";
        }
        final String mode = switch (m.group(1)) {
            case "xdp" -> "native";
            case "xdpgeneric" -> "generic (skb)";
            case "xdpoffload" -> "offloaded";
            default -> m.group(1);
        };
        return mode + " program id " + m.group(2);
    }

    /**
     * Who holds the XDP program {@code ip -d link show} shows attached (see {@link XdpOwners}): a
     * live process must not have it removed under it (its reception would silently stop); one
     * nobody holds was left by a killed process and blocks a DPDK net_af_xdp port from opening.
     *
     * @param iface  the interface
     * @param ipLink the output of {@code ip -d link show dev IFACE}
     * @param proc   the {@code /proc} to read
     * @return the owner, ORPHANED with the remedy, or null if no program is attached
     */
    static String xdpOwner(final String iface, final String ipLink, final Path proc) {
        final java.util.regex.Matcher m = java.util.regex.Pattern.compile("prog/xdp\\w* id (\\d+)(?: name (\\S+))?")
            .matcher(ipLink);
        if (!m.find()) {
            return null;
        }
        final XdpOwners.Scan scan = XdpOwners.find(proc, Integer.parseInt(m.group(1)));
        if (!scan.owners().isEmpty()) {
            final StringBuilder sb = new StringBuilder("live: held by ");
            for (int i = 0; i < scan.owners().size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(scan.owners().get(i));
            }
            return sb.append(" (removing it would silently stop that process's reception)").toString();
        }
        if ("xdp_dispatcher".equals(m.group(2))) {
            return "no process holds it, but it is libxdp's dispatcher, pinned in bpffs: 'xdp-loader status " + iface
                + "' lists the programs it runs";
        }
        if (!scan.orphaned()) {
            return "unknown: " + scan.unreadable() + " processes could not be inspected (run as root)";
        }
        return "ORPHANED: no process holds it (a killed process left it; a dpdk net_af_xdp port on " + iface
            + " is refused while it is there): remove it with 'ip link set dev " + iface + " xdp off'";
    }
}
