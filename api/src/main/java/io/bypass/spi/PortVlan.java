package io.bypass.spi;

import io.bypass.BypassUriException;
import io.bypass.PortUri;

/**
 * The one IEEE 802.1Q VLAN a port receives and sends on: the URI key {@value #PARAM_NAME},
 * the same on every backend.
 *
 * <ul>
 *   <li>absent or {@code vlan=0}: untagged frames only (and priority-tagged ones, VLAN id 0,
 *       which 802.1Q counts as untagged). A frame tagged with any VLAN id is not ours.</li>
 *   <li>{@code vlan=N}, 1..4094: frames tagged with VLAN id N only (802.1Q TPID 0x8100);
 *       untagged frames and other VLAN ids are not ours. Every frame sent carries the
 *       802.1Q tag with VLAN id N (priority 0).</li>
 * </ul>
 *
 * <pre>
 * afxdp:eth1?vlan=7          // a trunk port: only VLAN 7, sent tagged
 * dpdk:0000:3b:00.1?vlan=7
 * </pre>
 *
 * A frame of another VLAN is counted as {@link io.bypass.Counter#DROP_WRONG_VLAN} and never
 * delivered. 802.1ad (QinQ, TPID 0x88a8) service tags are not supported. Where a NIC strips
 * VLAN tags on receive into its descriptors ({@code ethtool -k IFACE}: {@code rx-vlan-offload:
 * on}), the frame no longer carries its tag: AF_XDP cannot see it, so turn the offload off
 * ({@code ethtool -K IFACE rxvlan off}) on an interface that carries tagged traffic.
 * {@code nio} uses the kernel's interfaces: it accepts {@code vlan=0} only and names the
 * kernel's VLAN interface to open instead.
 */
public final class PortVlan {
    /** URI key: the VLAN id, 0 (untagged) or 1..4094. */
    public static final String PARAM_NAME = "vlan";
    /** The default: untagged frames only. */
    public static final int UNTAGGED = 0;
    /** The highest VLAN id a port may be configured for (4095 is reserved by 802.1Q). */
    public static final int MAX_VLAN_ID = 4094;
    /** The key's declaration. */
    public static final UriParam PARAM = UriParam.integer(PARAM_NAME, UNTAGGED, MAX_VLAN_ID, UNTAGGED,
        "the one 802.1Q VLAN the port takes and tags sent frames with; 0: untagged frames only "
            + "(efvi and nio: 0 only; nio: open the kernel's VLAN interface, nio:eth1.7)");

    private PortVlan() {
    }

    /**
     * Reads the VLAN a URI configures.
     *
     * @param uri the port URI
     * @return 0 for untagged, else the VLAN id (1..4094)
     * @throws BypassUriException if the value is not a number in 0..4094
     */
    public static int from(final PortUri uri) {
        return PARAM.intValue(uri);
    }

    /**
     * @param vlan 0 or a VLAN id
     * @return {@code "untagged"} or {@code "VLAN 7"}, for messages
     */
    public static String describe(final int vlan) {
        return vlan == UNTAGGED ? "untagged" : "VLAN " + vlan;
    }
}
