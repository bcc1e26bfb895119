package io.bypass.afxdp.internal;

import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.afxdp.internal.gen.xdp_statistics;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * A port's kernel-side drop counts, read into its {@link Counters}: each socket's
 * {@code XDP_STATISTICS} summed over the port's sockets, and the malformed frames our XDP
 * program counted. Run by the counters' refresher under the port's lock; allocates nothing.
 */
final class XskStatistics {
    // Preallocated: refreshed once a second on the counters' publisher thread.
    private final MemorySegment stats;
    private final MemorySegment statsLen;
    // The XDP program's malformed-frame totals, as read now and as last added into the counters.
    private final long[] malformed = new long[XdpProgram.MALFORMED_REASONS.length];
    private final long[] malformedAdded = new long[XdpProgram.MALFORMED_REASONS.length];

    /**
     * @param arena the port's arena, for the getsockopt buffers
     */
    XskStatistics(final Arena arena) {
        stats = xdp_statistics.allocate(arena);
        statsLen = arena.allocate(ValueLayout.JAVA_INT);
    }

    /**
     * Reads the totals into {@code counters}; keeps the last totals if a socket's read fails.
     *
     * @param sockets  the port's sockets
     * @param zeroCopy whether they are bound in zero-copy mode
     * @param program  the port's XDP program
     * @param counters the port's counters
     */
    void refresh(final List<XskSocket> sockets, final boolean zeroCopy, final XdpProgram program, final Counters counters) {
        long rxDropped = 0;
        long rxInvalid = 0;
        long txInvalid = 0;
        long rxRingFull = 0;
        long fillEmpty = 0;
        long txRingEmpty = 0;
        // Indexed: an iterator here is an allocation on the counters' publisher thread once a second.
        for (int i = 0; i < sockets.size(); i++) {
            final XskSocket s = sockets.get(i);
            // Kernels before 5.9 fill only the first three fields; the rest stay zero.
            if (!s.statistics(stats, statsLen)) {
                // Keep the last totals rather than publish a partial sum: a counter that
                // went backwards would read as frames un-dropped. (Open sockets do not fail this.)
                return;
            }
            rxDropped += xdp_statistics.rx_dropped(stats);
            rxInvalid += xdp_statistics.rx_invalid_descs(stats);
            txInvalid += xdp_statistics.tx_invalid_descs(stats);
            rxRingFull += xdp_statistics.rx_ring_full(stats);
            fillEmpty += xdp_statistics.rx_fill_ring_empty_descs(stats);
            txRingEmpty += xdp_statistics.tx_ring_empty_descs(stats);
        }
        // In copy mode the kernel counts a frame that found the fill ring empty in both
        // rx_dropped and rx_fill_ring_empty_descs; count it once, as DROP_FILL_RING_EMPTY.
        final long otherDropped = zeroCopy ? rxDropped : Math.max(0, rxDropped - fillEmpty);
        counters.set(Counter.DROP_RX_OTHER, otherDropped + rxInvalid);
        counters.set(Counter.DROP_TX_INVALID, txInvalid);
        counters.set(Counter.DROP_RX_RING_FULL, rxRingFull);
        counters.set(Counter.DROP_FILL_RING_EMPTY, fillEmpty);
        counters.set(Counter.TX_RING_EMPTY, txRingEmpty);
        // Added, not set: the protocol layer's FrameClassifier counts the same reasons for
        // the malformed frames the program redirects; the program counts only the others.
        if (program.readMalformed(malformed)) {
            for (int r = 0; r < malformed.length; r++) {
                counters.add(XdpProgram.MALFORMED_REASONS[r], malformed[r] - malformedAdded[r]);
                malformedAdded[r] = malformed[r];
            }
        }
    }
}
