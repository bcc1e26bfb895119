package io.bypass;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.EnumMap;
import java.util.Map;

/**
 * The counters of one port or endpoint, readable from any thread while it runs.
 *
 * <p>Writers are the polling threads; each update is one atomic add, done once per
 * batch for the packet and byte counts. Backends whose kernel or NIC keeps its own
 * statistics (AF_XDP {@code XDP_STATISTICS}, DPDK {@code rte_eth_stats}) install a
 * {@link #refresher(Runnable) refresher} that copies them in when a reader asks, so
 * the hot path never makes that syscall.
 *
 * <pre>{@code
 * Counters c = port.counters();
 * System.out.println(c.get(Counter.DROP_FILL_RING_EMPTY) + " fill-ring misses");
 * }</pre>
 */
public final class Counters {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final Counter[] ALL = Counter.values();

    private final long[] values = new long[ALL.length];
    private volatile Runnable refresher;

    /** Creates a set of counters, all zero. */
    public Counters() {
    }

    /**
     * Adds one to a counter. Safe from any thread.
     *
     * @param counter which counter
     */
    public void increment(final Counter counter) {
        LONGS.getAndAdd(values, counter.ordinal(), 1L);
    }

    /**
     * Adds to a counter. Safe from any thread.
     *
     * @param counter which counter
     * @param delta   how much
     */
    public void add(final Counter counter, final long delta) {
        LONGS.getAndAdd(values, counter.ordinal(), delta);
    }

    /**
     * Sets a counter that mirrors a statistic kept by the kernel or NIC. For refreshers.
     *
     * @param counter which counter
     * @param value   the statistic's current value
     */
    public void set(final Counter counter, final long value) {
        LONGS.setVolatile(values, counter.ordinal(), value);
    }

    /**
     * Reads one counter, without refreshing kernel statistics.
     *
     * @param counter which counter
     * @return its value
     */
    public long get(final Counter counter) {
        return (long) LONGS.getVolatile(values, counter.ordinal());
    }

    /**
     * Sum of every drop counter, after refreshing kernel statistics.
     *
     * @return frames lost or refused, all reasons together
     */
    public long totalDrops() {
        refresh();
        long sum = 0;
        for (final Counter c : ALL) {
            if (c.isDrop()) {
                sum += get(c);
            }
        }
        return sum;
    }

    /**
     * Copies in the kernel's or NIC's statistics, if this backend has any. Off the hot path.
     */
    public void refresh() {
        final Runnable r = refresher;
        if (r != null) {
            r.run();
        }
    }

    /**
     * Installs the action that copies kernel or NIC statistics in. For backends.
     *
     * @param refresher called by {@link #refresh()} and {@link #snapshot()}
     */
    public void refresher(final Runnable refresher) {
        this.refresher = refresher;
    }

    /**
     * A refreshed copy of every counter, in declaration order.
     *
     * @return counter to value
     */
    public Map<Counter, Long> snapshot() {
        refresh();
        final Map<Counter, Long> map = new EnumMap<>(Counter.class);
        for (final Counter c : ALL) {
            map.put(c, get(c));
        }
        return map;
    }

    /**
     * The non-zero counters, one per line, for logs and reports.
     *
     * @return a readable summary
     */
    @Override
    public String toString() {
        final StringBuilder sb = new StringBuilder();
        for (final Map.Entry<Counter, Long> e : snapshot().entrySet()) {
            if (e.getValue() != 0) {
                sb.append(e.getKey().name().toLowerCase(java.util.Locale.ROOT)).append('=').append(e.getValue()).append('\n');
            }
        }
        return sb.toString();
    }
}
