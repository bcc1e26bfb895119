package io.bypass.conformance;

import io.bypass.net.Ipv4;
import io.bypass.testkit.Netns;
import io.bypass.testkit.VethPair;

import java.util.List;

/**
 * Real loss toward a DUT that reads frames before the netdev ingress hook where
 * {@link TcpConformanceSuite}'s default rule drops: an XDP program (afxdp), or a packet socket (dpdk's
 * net_af_packet, the ef_vi stand-in). A rule on the peer's way out would not do either: the peer's TCP
 * sees a failed transmit, which it repeats at once, not loss. So the DUT namespace bridges the site's
 * veth end to a second veth pair, made as {@code ip link add} makes it (checksum offload on), whose far
 * end the DUT's port opens, and frames are dropped in the bridge's forward chain ({@link TcpLossRules}): after the peer sent
 * them, before the DUT sees them.
 *
 * <pre>{@code
 * BridgedDutLoss loss = new BridgedDutLoss("tl2", true);
 * loss.bridge(site());                     // once, before the port opens on loss.iface()
 * loss.set(site(), 5);                     // 5% of the peer's TCP frames to us dropped
 * }</pre>
 */
public final class BridgedDutLoss {
    private final String iface;
    private final String bridgeSide;
    private final String bridge;
    private final String table;
    private final boolean moveAddress;

    /**
     * @param prefix      a short prefix for the interfaces' names, unique among the tests that may run at once
     * @param moveAddress true to move the DUT's address to the new interface (the kernel keeps it: afxdp, efvi);
     *                    false to leave the kernel no address there (the port owns it: dpdk)
     */
    public BridgedDutLoss(final String prefix, final boolean moveAddress) {
        this.iface = prefix + "x";
        this.bridgeSide = prefix + "y";
        this.bridge = prefix + "br";
        this.table = "bypass_tcp_loss_" + prefix;
        this.moveAddress = moveAddress;
    }

    /** @return the interface the DUT's port opens, behind the bridge */
    public String iface() {
        return iface;
    }

    /**
     * Bridges the site's DUT interface to {@link #iface()}.
     *
     * @param site the site
     */
    public void bridge(final ConformanceSite site) {
        final Netns ns = site.dutNamespace();
        final String address = Ipv4.toString(site.dutAddress()) + "/" + VethPair.PREFIX_LENGTH;
        ns.ip("addr", "flush", "dev", site.dutIface());
        ns.ip("link", "add", iface, "type", "veth", "peer", "name", bridgeSide);
        ns.ip("link", "add", bridge, "type", "bridge");
        ns.ip("link", "set", site.dutIface(), "master", bridge);
        ns.ip("link", "set", bridgeSide, "master", bridge);
        for (final String dev : new String[] {iface, bridgeSide, bridge, site.dutIface()}) {
            ns.ip("link", "set", dev, "up");
        }
        if (moveAddress) {
            ns.ip("addr", "add", address, "dev", iface);
            site.peerNamespace().ip("neigh", "flush", "dev", site.peerIface()); // the DUT's address has a new MAC
        }
    }

    /**
     * @param site    the site, {@link #bridge bridged}
     * @param percent 0..100 of the TCP frames from the peer to the DUT dropped; 0 removes the rule
     */
    public void set(final ConformanceSite site, final int percent) {
        TcpLossRules.install(site.dutNamespace(), "bridge", table, "forward", "{ type filter hook forward priority 0; }",
            List.of("iifname", site.dutIface(), "oifname", bridgeSide), percent);
    }

    /**
     * @param site the site
     * @return frames the rules dropped so far (none without them)
     */
    public TcpLossRules.Drops drops(final ConformanceSite site) {
        return TcpLossRules.drops(site.dutNamespace(), "bridge", table);
    }
}
