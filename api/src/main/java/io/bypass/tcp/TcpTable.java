package io.bypass.tcp;

import org.agrona.collections.Long2ObjectHashMap;

import java.util.ArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntPredicate;

/**
 * The endpoint's connections: found by 4-tuple (our address is the endpoint's, so remote address,
 * remote port and local port make the key), listed for the timers, and the ephemeral ports
 * ({@value #EPHEMERAL_LOW}..{@value #EPHEMERAL_HIGH}, Linux's range) handed out in turn from a random
 * start, skipping any 4-tuple still in use (TIME_WAIT included). Lookups allocate nothing.
 */
final class TcpTable {
    static final int EPHEMERAL_LOW = 32768;
    static final int EPHEMERAL_HIGH = 60999;

    private final Long2ObjectHashMap<L2TcpConnection> byKey = new Long2ObjectHashMap<>();
    private final ArrayList<L2TcpConnection> live = new ArrayList<>();
    private int nextEphemeral = ThreadLocalRandom.current().nextInt(EPHEMERAL_LOW, EPHEMERAL_HIGH + 1);

    static long key(final int remoteAddress, final int remotePort, final int localPort) {
        return ((long) remoteAddress << 32) | ((long) (remotePort & 0xFFFF) << 16) | (localPort & 0xFFFF);
    }

    L2TcpConnection get(final int remoteAddress, final int remotePort, final int localPort) {
        return byKey.get(key(remoteAddress, remotePort, localPort));
    }

    /**
     * @param listening whether a local port is listened on (never handed out)
     * @return a free local port to {@code remoteAddress:remotePort}, 0 if none is left
     */
    int ephemeralPort(final int remoteAddress, final int remotePort, final IntPredicate listening) {
        for (int i = 0; i <= EPHEMERAL_HIGH - EPHEMERAL_LOW; i++) {
            final int p = nextEphemeral;
            nextEphemeral = p == EPHEMERAL_HIGH ? EPHEMERAL_LOW : p + 1;
            if (!byKey.containsKey(key(remoteAddress, remotePort, p)) && !listening.test(p)) {
                return p;
            }
        }
        return 0;
    }

    void add(final L2TcpConnection c) {
        byKey.put(c.key, c);
        c.slot = live.size();
        live.add(c);
    }

    void remove(final L2TcpConnection c) {
        byKey.remove(c.key);
        final int slot = c.slot;
        if (slot >= 0) {
            final L2TcpConnection last = live.remove(live.size() - 1);
            if (last != c) {
                live.set(slot, last);
                last.slot = slot;
            }
            c.slot = -1;
        }
    }

    /** @return whether a connection's FIN is still unacknowledged (FIN-WAIT-1, CLOSING, LAST-ACK) */
    boolean finsUnacknowledged() {
        for (int i = 0; i < live.size(); i++) {
            final TcpState s = live.get(i).state;
            if (s == TcpState.FIN_WAIT_1 || s == TcpState.CLOSING || s == TcpState.LAST_ACK) {
                return true;
            }
        }
        return false;
    }

    int size() {
        return live.size();
    }

    /** @return the i-th live connection (0..size-1; the order changes as connections leave) */
    L2TcpConnection at(final int i) {
        return live.get(i);
    }
}
