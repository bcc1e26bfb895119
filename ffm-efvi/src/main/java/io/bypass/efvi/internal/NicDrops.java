package io.bypass.efvi.internal;

import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.spi.StatisticsFile;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.function.LongSupplier;

/**
 * Frames the NIC dropped because no RX descriptor was posted (the polling thread stalled
 * past the ring): a NIC counts them in its port statistics ({@code ethtool -S}:
 * {@code rx_nodesc_drop_cnt}), never in an ef_vi event, so the port reads them here, off
 * the hot path, when its counters refresh, as the change since the port opened.
 *
 * <p>With Bypass's software stand-in for libciul the count is the stand-in's model of that
 * statistic (process-wide, as a port statistic is per port: two ports in one process see
 * each other's). On a real NIC it is the interface's {@code rx_missed_errors} plus
 * {@code rx_fifo_errors} from sysfs, where the sfc driver reports descriptor and FIFO
 * drops; that mapping is not verified here (no Solarflare NIC), and it counts the kernel's
 * queues on the same port too.
 */
final class NicDrops implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final MethodHandle standin;
    private final StatisticsFile[] sysfs;
    /** The statistic's running total: {@link #total()}, or a test's. */
    private final LongSupplier reader;
    private final long base;
    /** Drops already added to the port's counters. */
    private long added;

    NicDrops(final String iface, final String libciul) {
        MethodHandle h = null;
        if (libciul != null) {
            try {
                h = SymbolLookup.libraryLookup(Path.of(libciul), arena).find("bypass_ciul_standin_nodesc_drops")
                    .map(a -> Linker.nativeLinker().downcallHandle(a, FunctionDescriptor.of(ValueLayout.JAVA_LONG))).orElse(null);
            } catch (final IllegalArgumentException e) {
                h = null; // a library name, not a path: Onload's, which has no such symbol
            }
        }
        standin = h;
        // Kept open and parsed in place: read once a second on the counters' publisher thread.
        sysfs = new StatisticsFile[] {StatisticsFile.openFirst(Path.of("/sys/class/net", iface, "statistics", "rx_missed_errors")),
            StatisticsFile.openFirst(Path.of("/sys/class/net", iface, "statistics", "rx_fifo_errors"))};
        reader = this::total;
        base = total();
    }

    /** For tests: the statistic's running total from {@code reader}, no library, no sysfs. */
    NicDrops(final LongSupplier reader) {
        standin = null;
        sysfs = new StatisticsFile[0];
        this.reader = reader;
        base = reader.getAsLong();
    }

    /**
     * Adds the drops since the last call (the first time: since the port opened) to
     * {@code counters}' {@link Counter#DROP_RX_OTHER}. Adds, never sets: the event queue adds
     * the RX discards of other kinds to the same counter, and a set would wipe them out.
     *
     * @param counters the port's counters
     */
    synchronized void addNewDropsTo(final Counters counters) {
        final long now = sinceOpen();
        if (now > added) {
            counters.add(Counter.DROP_RX_OTHER, now - added);
            added = now;
        }
    }

    /** @return drops since the port opened */
    long sinceOpen() {
        return Math.max(0, reader.getAsLong() - base);
    }

    // Synchronized: the sysfs files share one buffer each, and any thread that refreshes the counters reads them.
    private synchronized long total() {
        if (standin != null) {
            try {
                return (long) standin.invokeExact();
            } catch (final Throwable t) {
                return base;
            }
        }
        long sum = 0;
        for (final StatisticsFile f : sysfs) {
            // no such statistic here, or unreadable: nothing to add
            if (f != null && f.read() > 0) {
                sum += Math.max(0, StatisticsFile.parseDecimal(f.bytes(), 0, f.bytes().limit()));
            }
        }
        return sum;
    }

    @Override
    public synchronized void close() {
        for (final StatisticsFile f : sysfs) {
            if (f != null) {
                f.close();
            }
        }
        arena.close();
    }
}
