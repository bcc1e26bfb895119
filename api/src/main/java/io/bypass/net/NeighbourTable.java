package io.bypass.net;

import java.util.Arrays;

/**
 * IPv4 to MAC neighbour cache, the protocol layer's ARP table: open addressing over
 * primitive arrays, so lookups allocate nothing. States follow Linux's neighbour
 * subsystem in miniature:
 *
 * <ul>
 *   <li>{@link #INCOMPLETE}: a request is out; the next one may go at the retry time.</li>
 *   <li>{@link #REACHABLE}: learned from ARP (or the kernel) and not yet expired.</li>
 *   <li>{@link #STALE}: expired; its MAC is still used while a new request confirms it.</li>
 *   <li>{@link #STATIC}: configured, never expires or changes by learning.</li>
 * </ul>
 *
 * <pre>{@code
 * long mac = table.lookup(nextHop);
 * if (mac == NeighbourTable.NO_MAC && table.trySolicit(nextHop, now)) {
 *     sendArpRequest(nextHop);
 * }
 * }</pre>
 *
 * <p>Not thread-safe: owned by the polling thread. Inserting a new neighbour may grow the
 * table (an allocation, rare and off the steady state); lookups never allocate.
 */
public final class NeighbourTable {
    /** No entry for the address. */
    public static final int NONE = 0;
    /** Request sent, no answer yet. */
    public static final int INCOMPLETE = 1;
    /** Known and fresh. */
    public static final int REACHABLE = 2;
    /** Known but expired: still used while being confirmed. */
    public static final int STALE = 3;
    /** Configured; never expires. */
    public static final int STATIC = 4;
    /** Returned by {@link #lookup(int)} when no MAC is known. */
    public static final long NO_MAC = -1L;

    private static final byte STATE_INCOMPLETE = 1;
    private static final byte STATE_REACHABLE = 2;
    private static final byte STATE_STATIC = 4;

    private final long reachableNanos;
    private final long retryNanos;
    private int[] keys;
    private long[] macs;
    private byte[] states;
    private long[] expiresAt;
    private long[] retryAt;
    private int mask;
    private int size;

    /**
     * Creates a table with Linux-like defaults: 30 s reachable time, 1 s between requests.
     */
    public NeighbourTable() {
        this(16, 30_000_000_000L, 1_000_000_000L);
    }

    /**
     * @param initialCapacity expected neighbours; rounded up to a power of two, doubled for load
     * @param reachableNanos  how long a learned MAC stays {@link #REACHABLE}
     * @param retryNanos      least time between two requests for the same address
     */
    public NeighbourTable(final int initialCapacity, final long reachableNanos, final long retryNanos) {
        if (initialCapacity < 1) {
            throw new IllegalArgumentException("initialCapacity must be at least 1, got " + initialCapacity);
        }
        if (reachableNanos <= 0 || retryNanos < 0) {
            throw new IllegalArgumentException("reachableNanos must be positive and retryNanos not negative");
        }
        this.reachableNanos = reachableNanos;
        this.retryNanos = retryNanos;
        allocate(Integer.highestOneBit(Math.max(4, initialCapacity * 2 - 1)) << 1);
    }

    private void allocate(final int capacity) {
        keys = new int[capacity];
        macs = new long[capacity];
        states = new byte[capacity];
        expiresAt = new long[capacity];
        retryAt = new long[capacity];
        mask = capacity - 1;
    }

    private static int hash(final int address) {
        final int h = address * 0x9E37_79B9;
        return h ^ (h >>> 16);
    }

    private int indexOf(final int address) {
        if (address == 0) {
            return -1;
        }
        int i = hash(address) & mask;
        while (true) {
            final int k = keys[i];
            if (k == address) {
                return i;
            }
            if (k == 0) {
                return -1;
            }
            i = (i + 1) & mask;
        }
    }

    private int insert(final int address) {
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        int i = hash(address) & mask;
        while (keys[i] != 0) {
            i = (i + 1) & mask;
        }
        keys[i] = address;
        size++;
        return i;
    }

    private void grow() {
        final int[] oldKeys = keys;
        final long[] oldMacs = macs;
        final byte[] oldStates = states;
        final long[] oldExpires = expiresAt;
        final long[] oldRetry = retryAt;
        allocate(oldKeys.length << 1);
        for (int j = 0; j < oldKeys.length; j++) {
            final int k = oldKeys[j];
            if (k != 0) {
                int i = hash(k) & mask;
                while (keys[i] != 0) {
                    i = (i + 1) & mask;
                }
                keys[i] = k;
                macs[i] = oldMacs[j];
                states[i] = oldStates[j];
                expiresAt[i] = oldExpires[j];
                retryAt[i] = oldRetry[j];
            }
        }
    }

    /**
     * The MAC to send to: known for {@link #REACHABLE}, {@link #STALE} and {@link #STATIC}
     * entries. Allocation-free.
     *
     * @param address IPv4 next hop
     * @return the MAC, or {@link #NO_MAC}
     */
    public long lookup(final int address) {
        final int i = indexOf(address);
        return i < 0 || states[i] == STATE_INCOMPLETE ? NO_MAC : macs[i];
    }

    /**
     * @param address   IPv4 address
     * @param nowNanos  {@link System#nanoTime()}
     * @return one of {@link #NONE}, {@link #INCOMPLETE}, {@link #REACHABLE}, {@link #STALE}, {@link #STATIC}
     */
    public int state(final int address, final long nowNanos) {
        final int i = indexOf(address);
        if (i < 0) {
            return NONE;
        }
        return switch (states[i]) {
            case STATE_INCOMPLETE -> INCOMPLETE;
            case STATE_STATIC -> STATIC;
            default -> nowNanos - expiresAt[i] >= 0 ? STALE : REACHABLE;
        };
    }

    /**
     * The MAC to use without asking anyone: one lookup for the common case of a send.
     *
     * @param address  IPv4 address
     * @param nowNanos {@link System#nanoTime()}
     * @return the MAC if the entry is {@link #REACHABLE} or {@link #STATIC}, else {@link #NO_MAC}
     *         (unknown, {@link #INCOMPLETE} or {@link #STALE})
     */
    public long freshMac(final int address, final long nowNanos) {
        final int i = indexOf(address);
        if (i < 0) {
            return NO_MAC;
        }
        final byte s = states[i];
        return s == STATE_STATIC || (s == STATE_REACHABLE && nowNanos - expiresAt[i] < 0) ? macs[i] : NO_MAC;
    }

    /**
     * @param address  IPv4 address
     * @param nowNanos {@link System#nanoTime()}
     * @return true if the entry is {@link #REACHABLE} or {@link #STATIC}: no request needed
     */
    public boolean isFresh(final int address, final long nowNanos) {
        return freshMac(address, nowNanos) != NO_MAC; // a stored MAC is 48 bits, never NO_MAC
    }

    /**
     * Rate-limits resolution: says whether a request (ARP or a kernel query) for this
     * address may go now, and if so records it. Creates an {@link #INCOMPLETE} entry for a
     * new address; for a {@link #STALE} one keeps using its MAC.
     *
     * @param address  IPv4 next hop
     * @param nowNanos {@link System#nanoTime()}
     * @return true if the caller should send a request now
     */
    public boolean trySolicit(final int address, final long nowNanos) {
        if (address == 0) {
            return false;
        }
        int i = indexOf(address);
        if (i < 0) {
            i = insert(address);
            states[i] = STATE_INCOMPLETE;
            macs[i] = NO_MAC;
            retryAt[i] = nowNanos + retryNanos;
            return true;
        }
        if (states[i] == STATE_STATIC) {
            return false;
        }
        if (states[i] == STATE_REACHABLE && nowNanos - expiresAt[i] < 0) {
            return false;
        }
        if (nowNanos - retryAt[i] >= 0) {
            retryAt[i] = nowNanos + retryNanos;
            return true;
        }
        return false;
    }

    /**
     * Records a MAC learned from ARP or the kernel: the entry becomes {@link #REACHABLE}.
     * Static entries are not changed.
     *
     * @param address  IPv4 address, not 0
     * @param mac      its MAC
     * @param nowNanos {@link System#nanoTime()}
     */
    public void learn(final int address, final long mac, final long nowNanos) {
        if (address == 0) {
            return;
        }
        int i = indexOf(address);
        if (i < 0) {
            i = insert(address);
        } else if (states[i] == STATE_STATIC) {
            return;
        }
        states[i] = STATE_REACHABLE;
        macs[i] = mac & Mac.MASK;
        expiresAt[i] = nowNanos + reachableNanos;
        retryAt[i] = nowNanos;
    }

    /**
     * Updates an entry only if one exists (RFC 826's merge rule for ARP packets not
     * addressed to us); never inserts.
     *
     * @param address  IPv4 address
     * @param mac      its MAC
     * @param nowNanos {@link System#nanoTime()}
     * @return true if an entry was updated
     */
    public boolean refresh(final int address, final long mac, final long nowNanos) {
        final int i = indexOf(address);
        if (i < 0 || states[i] == STATE_STATIC) {
            return false;
        }
        learn(address, mac, nowNanos);
        return true;
    }

    /**
     * Adds or replaces a permanent entry.
     *
     * @param address IPv4 address, not 0
     * @param mac     its MAC
     */
    public void putStatic(final int address, final long mac) {
        if (address == 0) {
            throw new IllegalArgumentException("0.0.0.0 cannot be a neighbour");
        }
        int i = indexOf(address);
        if (i < 0) {
            i = insert(address);
        }
        states[i] = STATE_STATIC;
        macs[i] = mac & Mac.MASK;
    }

    /**
     * Removes an entry (backward-shift deletion keeps probes short).
     *
     * @param address IPv4 address
     * @return true if there was one
     */
    public boolean remove(final int address) {
        int i = indexOf(address);
        if (i < 0) {
            return false;
        }
        size--;
        int j = i;
        while (true) {
            j = (j + 1) & mask;
            final int k = keys[j];
            if (k == 0) {
                break;
            }
            final int home = hash(k) & mask;
            // move k back to i if its home slot is not in the cyclic range (i, j]
            if (((j - home) & mask) >= ((j - i) & mask)) {
                keys[i] = k;
                macs[i] = macs[j];
                states[i] = states[j];
                expiresAt[i] = expiresAt[j];
                retryAt[i] = retryAt[j];
                i = j;
            }
        }
        keys[i] = 0;
        states[i] = 0;
        return true;
    }

    /** @return entries in any state */
    public int size() {
        return size;
    }

    /** Removes every entry, static ones too. */
    public void clear() {
        Arrays.fill(keys, 0);
        Arrays.fill(states, (byte) 0);
        size = 0;
    }
}
