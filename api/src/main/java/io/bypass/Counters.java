package io.bypass;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;

/**
 * The counters of one port or endpoint, readable from any thread while it runs.
 *
 * <p>Writers are the polling threads. A queue's hot path writes through its own
 * {@link Writer} ({@link #newWriter()}): one thread per writer, so an update is a plain
 * load and a release store, with no atomic read-modify-write and no shared cache line
 * between queues; {@link #get} sums the writers when read. Updates from any other
 * thread use {@link #add}/{@link #increment}, one atomic add each. Backends whose kernel or NIC keeps its own
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
    private volatile Writer[] writers = new Writer[0];
    private volatile Runnable refresher;
    /** What these counters stack on, or null. */
    private final Counters base;
    /** Indexed by ordinal: true where {@link #base}'s count is not added. */
    private final boolean[] replaced;

    /** Creates a set of counters, all zero. */
    public Counters() {
        base = null;
        replaced = null;
    }

    /**
     * Creates counters stacked on {@code base}, for a layer that counts on top of what it
     * runs over (a UDP endpoint over its port): {@link #get} reads each counter as the count
     * here plus {@code base}'s, except those in {@code replaced}, which read as the count here
     * alone because this layer counts them in its own unit ({@code RX_PACKETS} as datagrams
     * where the port counts frames). Writes go here only; {@link #refresh()} refreshes
     * {@code base} too.
     *
     * @param base     the counters underneath, read live
     * @param replaced the counters this layer counts instead of {@code base}
     */
    public Counters(final Counters base, final Set<Counter> replaced) {
        this.base = java.util.Objects.requireNonNull(base, "base");
        this.replaced = new boolean[ALL.length];
        for (final Counter c : replaced) {
            this.replaced[c.ordinal()] = true;
        }
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
     * Sets a counter that mirrors a statistic kept by the kernel or NIC. For refreshers;
     * it replaces the shared value only, so use it for counters no {@link Writer} adds to.
     *
     * @param counter which counter
     * @param value   the statistic's current value
     */
    public void set(final Counter counter, final long value) {
        LONGS.setVolatile(values, counter.ordinal(), value);
    }

    /**
     * Reads one counter, without refreshing kernel statistics: the count here and, for
     * counters {@linkplain #Counters(Counters, Set) stacked} on a base and not replaced,
     * the base's.
     *
     * @param counter which counter
     * @return its value
     */
    public long get(final Counter counter) {
        final int i = counter.ordinal();
        long sum = (long) LONGS.getVolatile(values, i);
        for (final Writer w : writers) {
            sum += (long) LONGS.getAcquire(w.values, Writer.PAD + i);
        }
        if (base != null && !replaced[i]) {
            sum += base.get(counter);
        }
        return sum;
    }

    /**
     * Creates a writer for one thread's updates (typically one queue's polling thread),
     * whose counts {@link #get} adds to these counters from then on. Writers live as long
     * as the counters; create one per queue when the queue is created, not per use.
     *
     * <pre>{@code
     * Counters.Writer rxCounters = port.counters().newWriter();
     * // on the polling thread, once per batch:
     * rxCounters.add(Counter.RX_PACKETS, n);
     * }</pre>
     *
     * @return a new writer, all zero
     */
    public Writer newWriter() {
        final Writer w = new Writer();
        synchronized (this) {
            final Writer[] old = writers;
            final Writer[] grown = java.util.Arrays.copyOf(old, old.length + 1);
            grown[old.length] = w;
            writers = grown;
        }
        return w;
    }

    /**
     * Counts updated by one thread only: {@link #add} is a plain load and a release store
     * (Aeron's single-writer counter), so the hot path does no atomic read-modify-write,
     * which would drain the store buffer once per batch. Readers on other threads see
     * every update through {@link Counters#get}. Using one writer from two threads loses
     * counts; give each thread its own.
     */
    public static final class Writer {
        // 128 bytes either side: two writers' arrays on adjacent heap words must not share a cache line
        static final int PAD = 16;

        private final long[] values = new long[PAD + ALL.length + PAD];

        private Writer() {
        }

        /**
         * Adds one to a counter. Only from the writer's own thread.
         *
         * @param counter which counter
         */
        public void increment(final Counter counter) {
            add(counter, 1L);
        }

        /**
         * Adds to a counter. Only from the writer's own thread.
         *
         * @param counter which counter
         * @param delta   how much
         */
        public void add(final Counter counter, final long delta) {
            final int i = PAD + counter.ordinal();
            // A release fence and a plain store: setRelease, without a VarHandle call site on
            // the hot path. The only writer reads its own last store; 64-bit stores do not tear
            // on the 64-bit JVMs FFM runs on.
            VarHandle.releaseFence();
            values[i] += delta;
        }
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
     * Copies in the kernel's or NIC's statistics, if this backend has any (those of the
     * base first, for stacked counters). Off the hot path.
     */
    public void refresh() {
        if (base != null) {
            base.refresh();
        }
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
