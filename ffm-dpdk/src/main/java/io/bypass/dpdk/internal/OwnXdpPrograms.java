package io.bypass.dpdk.internal;

import io.bypass.BypassException;
import io.bypass.spi.XdpOwners;

import java.util.HashMap;
import java.util.Map;

/**
 * The interfaces on which open net_af_xdp ports of this process attached their XDP program,
 * counted per interface ({@link XdpAttachment#key}: network namespace and name). An XDP program
 * found on an interface no port of ours opened belongs to someone else (or to a killed process),
 * and net_af_xdp would share or replace it, so the open is refused. Every call is made under the
 * lock that makes ports open and close one at a time ({@link DpdkPortImpl}).
 */
final class OwnXdpPrograms {
    private static final Map<String, Integer> OWN = new HashMap<>();

    private OwnXdpPrograms() {
    }

    /**
     * @param key the interface's key
     * @return true if a port of this process has its program there
     */
    static boolean isOurs(final String key) {
        return OWN.containsKey(key);
    }

    /**
     * Notes one more open port's program on the interface.
     *
     * @param key the interface's key
     */
    static void add(final String key) {
        OWN.merge(key, 1, Integer::sum);
    }

    /**
     * Notes that one port's program on the interface is gone.
     *
     * @param key the interface's key
     */
    static void remove(final String key) {
        OWN.computeIfPresent(key, (k, n) -> n > 1 ? n - 1 : null);
    }

    /**
     * Refuses to open net_af_xdp on an interface that already has an XDP program this process did
     * not attach. The usual one is net_af_xdp's own, left by a JVM killed (SIGKILL) with an open
     * port; it cannot be told apart from a live process's program, so it is never removed here.
     *
     * @param iface the interface
     * @throws BypassException naming the program and who holds it, if one is attached
     */
    static void refuseForeign(final String iface) {
        final XdpAttachment.Program attached = XdpAttachment.attachedProgram(iface);
        if (attached != null) {
            throw new BypassException("dpdk: an XDP program (" + attached + ") is already attached to " + iface
                + " and no port of this process put it there; net_af_xdp would share or replace it. "
                + XdpOwners.describe(iface, attached.id(), attached.name()) + "; then open the port again");
        }
    }
}
