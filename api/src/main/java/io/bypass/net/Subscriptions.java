package io.bypass.net;

import org.agrona.collections.Int2IntHashMap;
import org.agrona.collections.IntHashSet;
import org.agrona.collections.LongHashSet;

/**
 * What a {@link FrameClassifier} accepts: UDP ports bound on our address and
 * {@code group:port} pairs joined, with the groups' multicast MACs. Lookups allocate
 * nothing; changes (bind, join, leave) may allocate and are not thread-safe: make them on
 * the polling thread.
 *
 * <pre>{@code
 * Subscriptions s = classifier.subscriptions();
 * s.bind(9000);
 * if (s.join(Ipv4.parse("239.1.1.1"), 30001)) {
 *     // first port of a new group: report the join (IGMP)
 * }
 * }</pre>
 */
public final class Subscriptions {
    private final IntHashSet boundPorts = new IntHashSet();
    private final LongHashSet groupPorts = new LongHashSet();
    private final Int2IntHashMap groupRefs = new Int2IntHashMap(0);
    private final LongHashSet groupMacs = new LongHashSet();
    private int[] groups = new int[8];
    private int groupCount;

    /** Creates an empty set: nothing bound, nothing joined. */
    public Subscriptions() {
    }

    /**
     * Accepts unicast datagrams to our address on {@code port}.
     *
     * @param port UDP port
     * @return true if newly bound
     */
    public boolean bind(final int port) {
        return boundPorts.add(port);
    }

    /**
     * @param port UDP port
     * @return true if it was bound
     */
    public boolean unbind(final int port) {
        return boundPorts.remove(port);
    }

    /**
     * @param port UDP port
     * @return true if bound
     */
    public boolean isBound(final int port) {
        return boundPorts.contains(port);
    }

    private static long key(final int group, final int port) {
        return ((long) group << 32) | port;
    }

    /**
     * Accepts datagrams to {@code group:port}.
     *
     * @param group multicast group
     * @param port  UDP port
     * @return true if this is the first port joined for the group (the group is new)
     */
    public boolean join(final int group, final int port) {
        if (!groupPorts.add(key(group, port))) {
            return false;
        }
        final int refs = groupRefs.get(group);
        groupRefs.put(group, refs + 1);
        if (refs == 0) {
            if (groupCount == groups.length) {
                groups = java.util.Arrays.copyOf(groups, groupCount * 2);
            }
            groups[groupCount++] = group;
            rebuildMacs();
            return true;
        }
        return false;
    }

    /**
     * Stops accepting datagrams to {@code group:port}.
     *
     * @param group multicast group
     * @param port  UDP port
     * @return true if that was the group's last port (the group is gone)
     */
    public boolean leave(final int group, final int port) {
        if (!groupPorts.remove(key(group, port))) {
            return false;
        }
        final int refs = groupRefs.get(group) - 1;
        if (refs > 0) {
            groupRefs.put(group, refs);
            return false;
        }
        groupRefs.remove(group);
        for (int i = 0; i < groupCount; i++) {
            if (groups[i] == group) {
                groups[i] = groups[--groupCount];
                break;
            }
        }
        rebuildMacs();
        return true;
    }

    private void rebuildMacs() {
        groupMacs.clear();
        for (int i = 0; i < groupCount; i++) {
            groupMacs.add(Ipv4.multicastMac(groups[i]));
        }
    }

    /**
     * @param group multicast group
     * @param port  UDP port
     * @return true if {@code group:port} is joined
     */
    public boolean isJoined(final int group, final int port) {
        return groupPorts.contains(key(group, port));
    }

    /**
     * @param group multicast group
     * @return true if any port is joined for it
     */
    public boolean isJoined(final int group) {
        return groupRefs.get(group) > 0;
    }

    /** @return number of distinct groups joined */
    public int groupCount() {
        return groupCount;
    }

    /**
     * @param index 0 until {@link #groupCount()}
     * @return that joined group
     */
    public int group(final int index) {
        return groups[index];
    }

    /**
     * @param mac a destination MAC
     * @return true if it is the multicast MAC of a joined group
     */
    public boolean hasGroupMac(final long mac) {
        return groupMacs.contains(mac);
    }
}
