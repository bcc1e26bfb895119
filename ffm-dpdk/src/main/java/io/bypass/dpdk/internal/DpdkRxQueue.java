package io.bypass.dpdk.internal;

import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.FrameHandler;
import io.bypass.FrameMeta;
import io.bypass.RxQueue;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One ethdev RX queue. A poll is one shim call ({@code rte_eth_rx_burst} that also reports
 * each mbuf's data address and length into flat arrays), a callback per frame over one
 * reused {@link UnsafeBuffer} wrapped on the mbuf's data, then one
 * {@code rte_pktmbuf_free_bulk} for the whole burst: two downcalls per burst, none per
 * frame, no allocation.
 */
final class DpdkRxQueue implements RxQueue {
    private final DpdkPortImpl port;
    private final Counters.Writer counters;
    private final short portId;
    private final short queueId;
    private final int id;
    /** The thread that polled last; a new one is registered with the EAL once. */
    private Thread owner;
    private final int burst;
    private final MemorySegment mbufs;
    private final MemorySegment addrs;
    private final MemorySegment lens;
    private final UnsafeBuffer addrsView;
    private final UnsafeBuffer lensView;
    private final UnsafeBuffer mbufsView;
    /** Whether the port asked the PMD for RX checksum verdicts (RTE_ETH_RX_OFFLOAD_*_CKSUM). */
    private final boolean checksumVerdicts;
    private final UnsafeBuffer buffer = new UnsafeBuffer(0, 0);
    private final FrameMeta meta = new FrameMeta();

    DpdkRxQueue(final DpdkPortImpl port, final short portId, final int id, final int burst, final Arena arena,
                final boolean checksumVerdicts) {
        this.port = port;
        this.counters = port.counters().newWriter();
        this.portId = portId;
        this.queueId = (short) id;
        this.id = id;
        this.burst = burst;
        this.mbufs = arena.allocate(ValueLayout.ADDRESS, burst);
        this.addrs = arena.allocate(ValueLayout.JAVA_LONG, burst);
        this.lens = arena.allocate(ValueLayout.JAVA_INT, burst);
        // Plain Unsafe reads of the burst arrays (the segments stay referenced, so the memory lives on).
        this.addrsView = new UnsafeBuffer(addrs.address(), (int) addrs.byteSize());
        this.lensView = new UnsafeBuffer(lens.address(), (int) lens.byteSize());
        this.mbufsView = new UnsafeBuffer(mbufs.address(), (int) mbufs.byteSize());
        this.checksumVerdicts = checksumVerdicts;
    }

    @Override
    public int poll(final FrameHandler handler, final int limit) {
        port.checkOpen();
        if (Thread.currentThread() != owner) {
            owner = Thread.currentThread();
            Rte.registerThread();
        }
        final int max = Math.min(Math.max(limit, 1), burst);
        final int n = Rte.rxBurst(portId, queueId, mbufs, max, addrs, lens);
        if (n == 0) {
            return 0;
        }
        long bytes = 0;
        try {
            for (int i = 0; i < n; i++) {
                final long address = addrsView.getLong(8 * i);
                final int length = lensView.getInt(4 * i);
                buffer.wrap(address, length);
                meta.set(id, FrameMeta.NO_TIMESTAMP, false);
                if (checksumVerdicts) {
                    // ol_flags is a plain read of the mbuf header: no downcall
                    meta.checksumVerdict(Rte.checksumVerdict(
                        Rte.MEMORY.get(Rte.U64, mbufsView.getLong(8 * i) + Rte.MBUF_OL_FLAGS)));
                }
                handler.onFrame(buffer, 0, length, meta);
                bytes += length;
            }
        } finally {
            // Every mbuf goes back, even if the handler threw.
            buffer.wrap(0, 0);
            Rte.freeBulk(mbufs, n);
            counters.add(Counter.RX_PACKETS, n);
            counters.add(Counter.RX_BYTES, bytes);
        }
        return n;
    }

    @Override
    public int id() {
        return id;
    }
}
