package io.bypass.efvi;

import io.bypass.conformance.ConformanceSite;
import io.bypass.net.Ipv4;
import io.bypass.testkit.Netns;
import io.bypass.testkit.VethPair;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Real loss toward an {@code efvi:} DUT driven by the software stand-in. The stand-in reads the
 * interface through an AF_PACKET socket, which gets its copy of a frame before the netdev ingress
 * hook where the suite's default rule drops, so that rule would drop nothing of ours; and a rule on
 * the peer's way out is seen by the peer's TCP as a failed transmit, not as loss. So, as for dpdk
 * and afxdp, the DUT namespace bridges the site's veth end to a second veth pair (checksum offload
 * on, as {@code ip link add} makes it) whose far end {@value #IFACE} carries the DUT's address and
 * our port; frames are dropped in the bridge's forward chain, after the peer sent them and before
 * the stand-in reads them.
 */
final class EfviTcpLoss {
    /** The interface the port opens, behind the DUT namespace's bridge. */
    static final String IFACE = "te2x";
    private static final String BRIDGE_SIDE = "te2y";
    private static final String BRIDGE = "te2br";
    private static final String TABLE = "bypass_tcp_efvi_loss";

    private EfviTcpLoss() {
    }

    /**
     * Bridges the site's DUT interface to {@value #IFACE} and moves the DUT's address there.
     *
     * @param site the site
     */
    static void bridge(final ConformanceSite site) {
        final Netns ns = site.dutNamespace();
        final String address = Ipv4.toString(site.dutAddress()) + "/" + VethPair.PREFIX_LENGTH;
        ns.ip("addr", "del", address, "dev", site.dutIface());
        ns.ip("link", "add", IFACE, "type", "veth", "peer", "name", BRIDGE_SIDE);
        ns.ip("link", "add", BRIDGE, "type", "bridge");
        ns.ip("link", "set", site.dutIface(), "master", BRIDGE);
        ns.ip("link", "set", BRIDGE_SIDE, "master", BRIDGE);
        for (final String dev : new String[] {IFACE, BRIDGE_SIDE, BRIDGE, site.dutIface()}) {
            ns.ip("link", "set", dev, "up");
        }
        ns.ip("addr", "add", address, "dev", IFACE);
        site.peerNamespace().ip("neigh", "flush", "dev", site.peerIface()); // the DUT's address has a new MAC
    }

    /**
     * @param site    the site, {@link #bridge bridged}
     * @param percent 0..100 of the TCP frames from the peer to the DUT dropped; 0 removes the rule
     */
    static void set(final ConformanceSite site, final int percent) {
        final Netns ns = site.dutNamespace();
        ns.execUnchecked("nft", "delete", "table", "bridge", TABLE);
        if (percent == 0) {
            return;
        }
        ns.exec("nft", "add", "table", "bridge", TABLE);
        ns.exec("nft", "add", "chain", "bridge", TABLE, "forward", "{ type filter hook forward priority 0; }");
        ns.exec("nft", "add", "rule", "bridge", TABLE, "forward", "iifname", site.dutIface(), "oifname", BRIDGE_SIDE,
            "ip", "protocol", "tcp", "numgen", "random", "mod", "100", "<", String.valueOf(percent), "counter", "drop");
    }

    /**
     * @param site the site
     * @return frames the rule dropped so far (0 without it)
     */
    static long drops(final ConformanceSite site) {
        final String out = site.dutNamespace().execUnchecked("nft", "list", "table", "bridge", TABLE).stdout();
        final Matcher m = Pattern.compile("counter packets (\\d+) bytes \\d+ drop").matcher(out);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /**
     * @param site the site
     * @return the DUT namespace's nftables ruleset: the stand-in's netdev tables (bypass_standin_*) while TCP filters exist
     */
    static String ruleset(final ConformanceSite site) {
        return site.dutNamespace().exec("nft", "list", "ruleset");
    }

    /**
     * @param site the site
     * @return RSTs the DUT namespace's kernel has sent ({@code Tcp: OutRsts} of {@code /proc/net/snmp})
     */
    static long kernelResetsSent(final ConformanceSite site) {
        final String[] lines = site.dutNamespace().exec("cat", "/proc/net/snmp").split("\n");
        for (int i = 0; i + 1 < lines.length; i++) {
            if (lines[i].startsWith("Tcp:") && lines[i + 1].startsWith("Tcp:")) {
                final String[] names = lines[i].trim().split("\\s+");
                final String[] values = lines[i + 1].trim().split("\\s+");
                for (int k = 0; k < names.length; k++) {
                    if ("OutRsts".equals(names[k])) {
                        return Long.parseLong(values[k]);
                    }
                }
            }
        }
        throw new AssertionError("no Tcp OutRsts in /proc/net/snmp");
    }
}
