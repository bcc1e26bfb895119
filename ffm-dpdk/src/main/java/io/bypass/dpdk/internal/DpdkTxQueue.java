package io.bypass.dpdk.internal;

import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.FrameClaim;
import io.bypass.TxQueue;
import io.bypass.dpdk.internal.gen.Mbuf;
import io.bypass.spi.ClaimOwner;
import io.bypass.spi.HotPathErrors;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One ethdev TX queue. Claims take an mbuf from a stash refilled with one
 * {@code rte_pktmbuf_alloc_bulk} per burst and point the {@link FrameClaim} at its data room;
 * commit writes {@code data_len}/{@code pkt_len} straight into the mbuf (no downcall) and
 * queues it; flush hands the queue to the PMD with one {@code rte_eth_tx_burst}. Mbufs the
 * PMD did not take stay queued, in order, for the next flush; claims are refused (counted
 * {@link Counter#TX_BACK_PRESSURED}) while the queue is full.
 */
final class DpdkTxQueue implements TxQueue, ClaimOwner {
    private static final MemorySegment MEMORY = Rte.MEMORY;
    private static final int DATA_LEN = (int) Rte.MBUF_DATA_LEN;
    private static final int PKT_LEN = (int) Rte.MBUF_PKT_LEN;
    private static final int MBUF_VIEW_LENGTH = 128; // the rte_mbuf's first two cache lines

    private final DpdkPortImpl port;
    private final Counters.Writer counters;
    private final short portId;
    private final short queueId;
    private final int id;
    /** The thread that polled last; a new one is registered with the EAL once. */
    private Thread owner;
    private final int refill;
    private final int capacity;
    private final int maxFrameLength;
    private final MemorySegment mempool;
    private final boolean udpChecksumOffload;
    private final long txOlFlags;

    private final MemorySegment stashMbufs;
    private final MemorySegment stashAddrs;
    private int stashCount;

    private final MemorySegment pending;
    // Agrona views of the same memory for the per-frame reads and writes: plain Unsafe accesses, which the JIT
    // optimises better than MemorySegment's scoped ones. The segments stay referenced, so the memory lives on.
    private final UnsafeBuffer stashMbufsView;
    private final UnsafeBuffer stashAddrsView;
    private final UnsafeBuffer pendingView;
    private final UnsafeBuffer mbufView = new UnsafeBuffer(0, 0);
    private final int[] pendingLengths;
    private int pendingCount;
    private int claimed;

    DpdkTxQueue(final DpdkPortImpl port, final short portId, final int id, final int refill, final int capacity,
                final int maxFrameLength, final MemorySegment mempool, final long txOffloads, final Arena arena) {
        this.port = port;
        this.counters = port.counters().newWriter();
        this.portId = portId;
        this.queueId = (short) id;
        this.id = id;
        this.refill = refill;
        this.capacity = capacity;
        this.maxFrameLength = maxFrameLength;
        this.mempool = mempool;
        this.udpChecksumOffload = (txOffloads & io.bypass.dpdk.internal.gen.Ethdev.RTE_ETH_TX_OFFLOAD_UDP_CKSUM()) != 0;
        this.txOlFlags = Mbuf.RTE_MBUF_F_TX_IPV4() | Mbuf.RTE_MBUF_F_TX_UDP_CKSUM();
        // Aborted claims go back on the stash, so it holds a refill plus every claim that may be outstanding.
        this.stashMbufs = arena.allocate(ValueLayout.JAVA_LONG, (long) refill + capacity);
        this.stashAddrs = arena.allocate(ValueLayout.JAVA_LONG, (long) refill + capacity);
        this.pending = arena.allocate(ValueLayout.JAVA_LONG, capacity);
        this.stashMbufsView = new UnsafeBuffer(stashMbufs.address(), (int) stashMbufs.byteSize());
        this.stashAddrsView = new UnsafeBuffer(stashAddrs.address(), (int) stashAddrs.byteSize());
        this.pendingView = new UnsafeBuffer(pending.address(), (int) pending.byteSize());
        this.pendingLengths = new int[capacity];
    }

    @Override
    public boolean tryClaim(final int length, final FrameClaim claim) {
        port.checkOpen();
        if (Thread.currentThread() != owner) {
            owner = Thread.currentThread();
            Rte.registerThread();
        }
        if (length < 0 || length > maxFrameLength) {
            throw HotPathErrors.frameLength(length, maxFrameLength);
        }
        if (pendingCount + claimed >= capacity) {
            counters.increment(Counter.TX_BACK_PRESSURED);
            return false;
        }
        if (stashCount == 0 && !refill()) {
            // Pool empty: mbufs are in RX rings or still with the PMD; the application flushes and retries.
            counters.increment(Counter.TX_BACK_PRESSURED);
            return false;
        }
        final int i = --stashCount;
        final long mbuf = stashMbufsView.getLong(8 * i);
        final long data = stashAddrsView.getLong(8 * i);
        claimed++;
        claim.wrap(this, mbuf, data, length);
        return true;
    }

    /** Only when the stash is empty: the shim writes the new mbufs and their data addresses at its start. */
    private boolean refill() {
        if (Rte.allocBulk(mempool, stashMbufs, stashAddrs, refill) != 0) {
            return false;
        }
        stashCount = refill;
        return true;
    }

    @Override
    public void commit(final long mbuf, final int length) {
        // A claim taken before close points into a freed mempool: refuse it rather than write there.
        port.checkOpen();
        claimed--;
        final UnsafeBuffer m = mbufView;
        m.wrap(mbuf, MBUF_VIEW_LENGTH);
        m.putShort(DATA_LEN, (short) length);
        m.putInt(PKT_LEN, length);
        if (udpChecksumOffload) {
            markUdpChecksum(mbuf, length);
        }
        pendingView.putLong(8 * pendingCount, mbuf);
        pendingLengths[pendingCount] = length;
        pendingCount++;
    }

    /** For UDP over IPv4 (optionally one VLAN tag), asks the NIC for the UDP checksum: ol_flags, l2_len, l3_len. */
    private void markUdpChecksum(final long mbuf, final int length) {
        final long data = MEMORY.get(Rte.U64, mbuf + Rte.MBUF_BUF_ADDR)
            + (MEMORY.get(Rte.U16, mbuf + Rte.MBUF_DATA_OFF) & 0xFFFF);
        int l2 = 14;
        int type = Short.reverseBytes(MEMORY.get(Rte.U16, data + 12)) & 0xFFFF;
        if (type == 0x8100 && length >= 18) {
            l2 = 18;
            type = Short.reverseBytes(MEMORY.get(Rte.U16, data + 16)) & 0xFFFF;
        }
        if (type != 0x0800 || length < l2 + 20) {
            return;
        }
        final int versionIhl = MEMORY.get(ValueLayout.JAVA_BYTE, data + l2) & 0xFF;
        final int protocol = MEMORY.get(ValueLayout.JAVA_BYTE, data + l2 + 9) & 0xFF;
        if (versionIhl >>> 4 != 4 || protocol != 17) {
            return;
        }
        final int l3 = (versionIhl & 0x0F) * 4;
        MEMORY.set(Rte.U64, mbuf + Rte.MBUF_OL_FLAGS, MEMORY.get(Rte.U64, mbuf + Rte.MBUF_OL_FLAGS) | txOlFlags);
        // tx_offload: l2_len is bits 0-6, l3_len bits 7-15.
        MEMORY.set(Rte.U64, mbuf + Rte.MBUF_TX_OFFLOAD, (long) l2 | ((long) l3 << 7));
    }

    @Override
    public void abort(final long mbuf) {
        port.checkOpen();
        claimed--;
        final long data = MEMORY.get(Rte.U64, mbuf + Rte.MBUF_BUF_ADDR)
            + (MEMORY.get(Rte.U16, mbuf + Rte.MBUF_DATA_OFF) & 0xFFFF);
        stashMbufsView.putLong(8 * stashCount, mbuf);
        stashAddrsView.putLong(8 * stashCount, data);
        stashCount++;
    }

    @Override
    public int flush() {
        port.checkOpen();
        if (Thread.currentThread() != owner) {
            owner = Thread.currentThread();
            Rte.registerThread();
        }
        final int n = pendingCount;
        if (n == 0) {
            return 0;
        }
        final int sent = Rte.txBurst(portId, queueId, pending, n);
        if (sent == 0) {
            return 0;
        }
        long bytes = 0;
        for (int i = 0; i < sent; i++) {
            bytes += pendingLengths[i];
        }
        final int left = n - sent;
        if (left > 0) {
            MemorySegment.copy(pending, 8L * sent, pending, 0, 8L * left);
            System.arraycopy(pendingLengths, sent, pendingLengths, 0, left);
        }
        pendingCount = left;
        counters.add(Counter.TX_PACKETS, sent);
        counters.add(Counter.TX_BYTES, bytes);
        return sent;
    }

    @Override
    public int maxFrameLength() {
        return maxFrameLength;
    }

    @Override
    public int id() {
        return id;
    }

    /** An rte_eth_tx_burst of nothing: PMDs that reclaim sent mbufs lazily (net_af_xdp) do it then. */
    void emptyBurst() {
        Rte.txBurst(portId, queueId, pending, 0);
    }

    /** On close: gives every stashed and unsent mbuf back to the mempool. */
    void release() {
        if (stashCount > 0) {
            Rte.freeBulk(stashMbufs, stashCount);
            stashCount = 0;
        }
        if (pendingCount > 0) {
            Rte.freeBulk(pending, pendingCount);
            pendingCount = 0;
        }
    }
}
