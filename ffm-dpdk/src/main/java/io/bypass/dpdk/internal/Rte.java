package io.bypass.dpdk.internal;

import io.bypass.BypassException;
import io.bypass.FrameMeta;
import io.bypass.dpdk.internal.gen.Eal;
import io.bypass.dpdk.internal.gen.Mbuf;
import io.bypass.dpdk.internal.gen.rte_mbuf;
import io.bypass.dpdk.internal.gen.shim.Shim;

import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The hot-path downcalls (one per burst: rx burst, tx burst, alloc bulk, free bulk) bound
 * with {@link Linker.Option#critical(boolean)}: they are short, never block and never call
 * back into Java, so the thread-state transition is skipped. Plus rte_errno and its text.
 * Touch only after {@link NativeLibraries#cause()} returned null.
 */
public final class Rte {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle RX_BURST = LINKER.downcallHandle(
        Shim.bypass_dpdk_rx_burst$address(), Shim.bypass_dpdk_rx_burst$descriptor(), Linker.Option.critical(false));
    private static final MethodHandle TX_BURST = LINKER.downcallHandle(
        Shim.bypass_dpdk_tx_burst$address(), Shim.bypass_dpdk_tx_burst$descriptor(), Linker.Option.critical(false));
    private static final MethodHandle ALLOC_BULK = LINKER.downcallHandle(
        Shim.bypass_dpdk_alloc_bulk$address(), Shim.bypass_dpdk_alloc_bulk$descriptor(), Linker.Option.critical(false));
    // rte_pktmbuf_free_bulk is exported by librte_mbuf, so it is bound directly, not through the shim.
    private static final MethodHandle FREE_BULK = LINKER.downcallHandle(
        Mbuf.rte_pktmbuf_free_bulk$address(), Mbuf.rte_pktmbuf_free_bulk$descriptor(), Linker.Option.critical(false));

    /** All of memory, to read and write mbuf fields at absolute addresses without allocating a segment per mbuf. */
    static final MemorySegment MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    /** {@code rte_mbuf.buf_addr}. */
    static final long MBUF_BUF_ADDR = rte_mbuf.buf_addr$offset();
    /** {@code rte_mbuf.data_off}. */
    static final long MBUF_DATA_OFF = rte_mbuf.data_off$offset();
    /** {@code rte_mbuf.data_len}. */
    static final long MBUF_DATA_LEN = rte_mbuf.data_len$offset();
    /** {@code rte_mbuf.pkt_len}. */
    static final long MBUF_PKT_LEN = rte_mbuf.pkt_len$offset();
    /** {@code rte_mbuf.ol_flags}. */
    static final long MBUF_OL_FLAGS = rte_mbuf.ol_flags$offset();
    /** {@code rte_mbuf.tx_offload} (l2_len:7, l3_len:9, ... bitfields in one uint64_t). */
    static final long MBUF_TX_OFFLOAD = rte_mbuf.tx_offload$offset();

    /** Unaligned views, since the layouts' alignment checks cost nothing to skip here. */
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private static final long RX_IP_CKSUM_MASK = Mbuf.RTE_MBUF_F_RX_IP_CKSUM_MASK();
    private static final long RX_IP_CKSUM_BAD = Mbuf.RTE_MBUF_F_RX_IP_CKSUM_BAD();
    private static final long RX_L4_CKSUM_MASK = Mbuf.RTE_MBUF_F_RX_L4_CKSUM_MASK();
    private static final long RX_L4_CKSUM_BAD = Mbuf.RTE_MBUF_F_RX_L4_CKSUM_BAD();

    /**
     * The mbuf's checksum verdict as {@link io.bypass.FrameMeta} bits. {@code GOOD} and
     * {@code NONE} (the sum in the frame is not finished but the PMD vouches for the data, as
     * virtio does for a partial checksum) both mean good; {@code UNKNOWN} means unchecked.
     *
     * @param olFlags the mbuf's {@code ol_flags}
     * @return the verdict bits
     */
    static int checksumVerdict(final long olFlags) {
        final long ip = olFlags & RX_IP_CKSUM_MASK;
        final long l4 = olFlags & RX_L4_CKSUM_MASK;
        int verdict = FrameMeta.CHECKSUM_UNKNOWN;
        if (ip != 0) {
            verdict |= ip == RX_IP_CKSUM_BAD ? FrameMeta.IP_CHECKSUM_BAD : FrameMeta.IP_CHECKSUM_GOOD;
        }
        if (l4 != 0) {
            verdict |= l4 == RX_L4_CKSUM_BAD ? FrameMeta.L4_CHECKSUM_BAD : FrameMeta.L4_CHECKSUM_GOOD;
        }
        return verdict;
    }

    private Rte() {
    }

    static int rxBurst(final short port, final short queue, final MemorySegment mbufs, final int n,
                       final MemorySegment addrs, final MemorySegment lens) {
        try {
            return (short) RX_BURST.invokeExact(port, queue, mbufs, (short) n, addrs, lens) & 0xFFFF;
        } catch (final Throwable t) {
            throw rethrow(t);
        }
    }

    static int txBurst(final short port, final short queue, final MemorySegment mbufs, final int n) {
        try {
            return (short) TX_BURST.invokeExact(port, queue, mbufs, (short) n) & 0xFFFF;
        } catch (final Throwable t) {
            throw rethrow(t);
        }
    }

    static int allocBulk(final MemorySegment mempool, final MemorySegment mbufs, final MemorySegment addrs, final int n) {
        try {
            return (int) ALLOC_BULK.invokeExact(mempool, mbufs, addrs, n);
        } catch (final Throwable t) {
            throw rethrow(t);
        }
    }

    static void freeBulk(final MemorySegment mbufs, final int n) {
        try {
            FREE_BULK.invokeExact(mbufs, n);
        } catch (final Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Makes the calling thread a DPDK thread ({@code rte_thread_register}) unless it is one:
     * it then has an lcore id, so mempool operations use a per-lcore cache. Called once per
     * thread by the queues when the polling thread changes, never per packet. Without it,
     * net_af_xdp's RX stopped refilling its fill ring after a few thousand frames when polled
     * from a plain Java thread (seen on DPDK 22.11, veth).
     */
    static void registerThread() {
        if (Shim.bypass_dpdk_lcore_id() == LCORE_ID_ANY) {
            Eal.rte_thread_register(); // on failure (no lcore left) the thread still works, without a cache
        }
    }

    private static final int LCORE_ID_ANY = -1;

    /**
     * @return rte_errno of the calling thread (DPDK keeps it in TLS, so call right after the failed call)
     */
    public static int errno() {
        return Shim.bypass_dpdk_errno();
    }

    /**
     * @param errnum an rte_errno or errno value (sign ignored)
     * @return {@code rte_strerror}'s text with the number, e.g. {@code "No such device (errno 19)"}
     */
    public static String strerror(final int errnum) {
        final int e = Math.abs(errnum);
        final MemorySegment s = Eal.rte_strerror(e);
        final String text = s.equals(MemorySegment.NULL) ? "unknown error" : s.reinterpret(1024).getString(0);
        return text + " (errno " + e + ")";
    }

    private static RuntimeException rethrow(final Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new BypassException("dpdk: unexpected failure in a downcall: " + t, t);
    }
}
