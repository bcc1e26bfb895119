package io.bypass.efvi.internal;

import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.FrameHandler;
import io.bypass.FrameMeta;
import io.bypass.RxQueue;
import io.bypass.efvi.internal.gen.EfviShim;
import io.bypass.spi.HotPathErrors;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * RX queue 0 of an ef_vi port. {@link #poll} makes at most two downcalls: one
 * {@code ef_eventq_poll} (through {@link EventQueue}) when fewer records than asked for
 * are pending, and one refill ({@code ef_vi_receive_init} per buffer, one
 * {@code ef_vi_receive_push}) for the buffers it handed to the application.
 *
 * <p>Checksums: ef_vi reports only bad ones, as an {@code RX_DISCARD} of subtype
 * {@code EF_EVENT_RX_DISCARD_CSUM_BAD} whose buffer still holds the frame. Such a frame is
 * delivered with its {@link FrameMeta#checksumVerdict()} ({@link NicChecksumVerdict}), so the
 * protocol layer drops and counts it under {@code checksum=nic} without summing the UDP
 * datagram, and sums it itself under {@code partial} and {@code verify}, as on DPDK. Every other
 * frame comes without a verdict: ef_vi never says a sum was right, so the port does not claim
 * {@link io.bypass.Capability#RX_CHECKSUM_VERDICT} and good frames are summed in software.
 */
final class EfviRxQueue implements RxQueue {
    private static final int OK = EfviShim.BYPASS_EFVI_ST_OK();
    private static final int JUMBO_TAIL = EfviShim.BYPASS_EFVI_ST_JUMBO_TAIL();
    private static final int F_TS = EfviShim.BYPASS_EFVI_RXF_TIMESTAMP();
    private static final int F_SYNCED = EfviShim.BYPASS_EFVI_RXF_TS_SYNCED();
    private static final int CSUM_BAD = EfviShim.BYPASS_EFVI_CSUM_BAD();

    private final EfviPortImpl port;
    private final MemorySegment handle;
    private final EventQueue events;
    private final Counters.Writer counters;
    private final long memBase;
    private final int bufSize;
    private final int prefix;
    private final long[] dma;
    private final boolean hardwareClock;
    private final MemorySegment refillIds;
    private final MemorySegment refillAddrs;
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
    private final FrameMeta meta = new FrameMeta();
    private long head;
    private int refills;

    EfviRxQueue(final EfviPortImpl port, final MemorySegment handle, final EventQueue events, final Arena arena,
                final long memBase, final int bufSize, final int prefix, final long[] dma, final int rxBuffers,
                final boolean hardwareClock, final Counters.Writer counters) {
        this.port = port;
        this.handle = handle;
        this.events = events;
        this.counters = counters;
        this.memBase = memBase;
        this.bufSize = bufSize;
        this.prefix = prefix;
        this.dma = dma;
        this.hardwareClock = hardwareClock;
        refillIds = arena.allocate((long) rxBuffers * Integer.BYTES, 64);
        refillAddrs = arena.allocate((long) rxBuffers * Long.BYTES, 64);
    }

    /**
     * Posts RX buffers {@code 0..n-1} to the NIC; called once at open.
     *
     * @return how many the NIC took (the caller reports a shortfall: this class keeps no
     *         string constant, see {@link HotPathErrors})
     */
    int fill(final int n) {
        for (int i = 0; i < n; i++) {
            queueRefill(i);
        }
        final int posted;
        synchronized (events) {
            posted = EfviShim.bypass_efvi_refill(handle, refillIds, refillAddrs, refills);
        }
        refills = 0;
        return posted;
    }

    private void queueRefill(final int id) {
        refillIds.setAtIndex(ValueLayout.JAVA_INT, refills, id);
        refillAddrs.setAtIndex(ValueLayout.JAVA_LONG, refills, dma[id]);
        refills++;
    }

    private void pushRefills() {
        if (refills > 0) {
            final int n;
            synchronized (events) { // ef_vi calls on one VI never run concurrently
                n = EfviShim.bypass_efvi_refill(handle, refillIds, refillAddrs, refills);
            }
            if (n < refills) {
                // Cannot happen: only buffers the NIC gave back are reposted. Count, never lose silently.
                counters.add(Counter.DROP_NO_BUFFER, refills - Math.max(0, n));
            }
            refills = 0;
        }
    }

    @Override
    public int poll(final FrameHandler handler, final int limit) {
        port.checkOpen();
        if (limit < 1) {
            throw HotPathErrors.pollLimit(limit);
        }
        if (events.tail() - head < limit) {
            events.poll();
        }
        final long tail = events.tail();
        final int capacity = events.capacity();
        int delivered = 0;
        long bytes = 0;
        try {
            while (head < tail && delivered < limit) {
                final int slot = (int) (head % capacity);
                head++;
                final int id = events.pendingId[slot];
                final int status = events.pendingStatus[slot];
                if (id < 0 || id >= dma.length) {
                    counters.increment(Counter.DROP_RX_OTHER);
                    continue;
                }
                queueRefill(id);
                if (status == OK) {
                    final int len = events.pendingLen[slot];
                    final int flags = events.pendingFlags[slot];
                    // A NIC clock never set from the system clock is not epoch time: report no timestamp then.
                    final boolean stamped = (flags & F_TS) != 0 && (!hardwareClock || (flags & F_SYNCED) != 0);
                    view.wrap(memBase + (long) id * bufSize + prefix, len);
                    meta.set(0, stamped ? events.pendingTs[slot] : FrameMeta.NO_TIMESTAMP, stamped && hardwareClock);
                    if (events.pendingCsum[slot] == CSUM_BAD) {
                        meta.checksumVerdict(NicChecksumVerdict.ofCsumBad(view, 0, len));
                    }
                    delivered++;
                    bytes += len;
                    handler.onFrame(view, 0, len, meta);
                } else if (status != JUMBO_TAIL) {
                    counters.increment(dropFor(status));
                }
            }
        } finally {
            pushRefills();
            if (delivered > 0) {
                counters.add(Counter.RX_PACKETS, delivered);
                counters.add(Counter.RX_BYTES, bytes);
            }
        }
        return delivered;
    }

    /** The counter for an RX_DISCARD reason (as decoded by the shim). */
    static Counter dropFor(final int status) {
        if (status == EfviShim.BYPASS_EFVI_ST_TRUNC() || status == EfviShim.BYPASS_EFVI_ST_JUMBO_HEAD()) {
            return Counter.DROP_RX_OVERSIZE;   // larger than one packet buffer
        }
        if (status == EfviShim.BYPASS_EFVI_ST_MCAST_MISMATCH()) {
            return Counter.DROP_NOT_OURS;
        }
        if (status == EfviShim.BYPASS_EFVI_ST_NO_DESC_TRUNC()) {
            return Counter.DROP_NO_BUFFER;
        }
        return Counter.DROP_RX_OTHER;          // CRC, rights, other; a bad checksum only of a frame spread over buffers
    }

    @Override
    public int id() {
        return 0;
    }
}
