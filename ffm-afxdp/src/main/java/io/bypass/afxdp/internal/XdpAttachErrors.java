package io.bypass.afxdp.internal;

import io.bypass.spi.XdpOwners;

/** The remedies in the messages of a failed XDP attach ({@link XdpProgram#attach}). */
final class XdpAttachErrors {
    /** Native XDP on veth allows at most this MTU with 4 KiB pages (one page per frame, less headroom and skb_shared_info). */
    static final int VETH_XDP_MAX_MTU = 3506;

    private XdpAttachErrors() {
    }

    /**
     * Who holds the program already attached: a live owner by pid (removing it would stop its
     * reception), or an orphan with the commands that remove it.
     *
     * @param attached {@code "id N name X"}, as {@link LibBpf#attachedProgram} says
     */
    static String owner(final String iface, final String attached) {
        final String[] words = attached.split(" ");
        final int id;
        try {
            id = Integer.parseInt(words[1]);
        } catch (final RuntimeException e) {
            return "If nothing needs it, remove it with 'ip link set dev " + iface + " xdp off' and open the port again";
        }
        final String described = XdpOwners.describe(iface, id, words.length > 3 ? words[3] : null);
        return described.contains("orphaned") ? described + " (or 'xdp-loader unload " + iface + " --all'), then open the "
            + "port again" : described;
    }

    /**
     * The remedy for ERANGE on attach, naming the interface whose MTU is too large. veth checks
     * its peer's MTU, not its own: when {@code iface}'s own MTU is within the limit, the peer is the cause.
     *
     * @param iface the interface the attach was for
     * @return the remedy text
     */
    static String mtuRemedy(final String iface) {
        int own = -1;
        try {
            final java.net.NetworkInterface ni = java.net.NetworkInterface.getByName(iface);  // this thread's namespace
            own = ni == null ? -1 : ni.getMTU();
        } catch (final java.net.SocketException ignored) {
            // fall through to the message without it
        }
        if (own > VETH_XDP_MAX_MTU) {
            return "the MTU of " + iface + " (" + own + ") is above what native XDP allows (" + VETH_XDP_MAX_MTU
                + " on veth with 4 KiB pages; other drivers have their own limit): lower it (ip link set dev " + iface
                + " mtu 1500), or use xdp=skb";
        }
        return iface + "'s own MTU" + (own > 0 ? " (" + own + ")" : "") + " is within the limit, so the MTU too large is"
            + " its veth peer's (the other end of the pair, 'ip link show " + iface + "' names it as " + iface
            + "@PEER): native XDP on veth needs the peer's MTU at most " + VETH_XDP_MAX_MTU + " with 4 KiB pages; lower the"
            + " peer's MTU (ip link set dev PEER mtu 1500), or use xdp=skb";
    }
}
