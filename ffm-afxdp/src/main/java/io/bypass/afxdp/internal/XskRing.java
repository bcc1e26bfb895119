package io.bypass.afxdp.internal;

import io.bypass.afxdp.internal.gen.xdp_desc;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * What the four AF_XDP rings share: the producer index, consumer index and flags word
 * sliced once from the ring's mapping ({@code struct xdp_ring_offset}), the descriptor
 * array, and the need_wakeup flag. {@link XskRingProd} and {@link XskRingCons} add the
 * cached indices and the operations of {@code xsk.h}.
 */
abstract class XskRing {
    static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();
    /** Bytes of a fill or completion ring entry: a u64 UMEM address. */
    static final long ADDR_BYTES = Long.BYTES;
    // struct xdp_desc, the RX and TX ring entry, from the generated layout; static finals, so the JIT folds them.
    /** Bytes of an RX or TX ring entry, {@code sizeof(struct xdp_desc)}. */
    static final long DESC_BYTES = xdp_desc.sizeof();
    /** Offset of {@code xdp_desc.addr}, the frame's UMEM address. */
    static final long DESC_ADDR = xdp_desc.addr$offset();
    /** Offset of {@code xdp_desc.len}, the frame's length. */
    static final long DESC_LEN = xdp_desc.len$offset();
    /** Offset of {@code xdp_desc.options}, zero: no multi-buffer frames. */
    static final long DESC_OPTIONS = xdp_desc.options$offset();

    final MemorySegment producer;
    final MemorySegment consumer;
    final MemorySegment flags;
    /** The descriptor array: u64 addresses (fill, completion) or struct xdp_desc (RX, TX). */
    final MemorySegment ring;
    final int size;
    final int mask;

    /**
     * @param map     the mmapped ring
     * @param offsets its offsets from XDP_MMAP_OFFSETS
     * @param size    number of entries, a power of two
     */
    XskRing(final MemorySegment map, final RingOffsets offsets, final int size) {
        this.producer = map.asSlice(offsets.producer(), 4);
        this.consumer = map.asSlice(offsets.consumer(), 4);
        this.flags = map.asSlice(offsets.flags(), 4);
        this.ring = map.asSlice(offsets.desc());
        this.size = size;
        this.mask = size - 1;
    }

    /**
     * xsk_ring_prod__needs_wakeup, and its equivalent for consumer rings.
     *
     * @return true if the kernel asked for a syscall to make progress
     */
    public final boolean needsWakeup() {
        return ((int) U32.getOpaque(flags, 0L) & Constants.XDP_RING_NEED_WAKEUP) != 0;
    }
}
