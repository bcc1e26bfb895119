package io.bypass.afxdp.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A producer ring (fill or TX), driven over the mmapped ring exactly as {@code xsk.h}
 * does inline: a cached consumer index so most reserves read no shared memory, an
 * acquire load of the kernel's consumer index when the cache runs out, and a release
 * store of the producer index on submit. Single-threaded; no allocation, no downcall.
 */
public final class XskRingProd extends XskRing {
    private int cachedProd;
    private int cachedCons;

    /**
     * @param map     the mmapped ring
     * @param offsets its offsets from XDP_MMAP_OFFSETS
     * @param size    number of entries, a power of two
     */
    XskRingProd(final MemorySegment map, final RingOffsets offsets, final int size) {
        super(map, offsets, size);
        // xsk.h xsk_ring_prod init: cached_cons = size so nb_free starts at size.
        this.cachedProd = (int) U32.getAcquire(producer, 0L);
        this.cachedCons = (int) U32.getAcquire(consumer, 0L) + size;
    }

    /**
     * xsk_prod_nb_free: free entries, refreshing the cached consumer only when fewer
     * than {@code nb} are known to be free.
     *
     * @param nb entries wanted
     * @return entries free (may be more or fewer than {@code nb})
     */
    public int nbFree(final int nb) {
        final int free = cachedCons - cachedProd;
        if (free >= nb) {
            return free;
        }
        cachedCons = (int) U32.getAcquire(consumer, 0L) + size;
        return cachedCons - cachedProd;
    }

    /**
     * xsk_ring_prod__reserve: reserves {@code nb} entries or none.
     *
     * @param nb entries wanted
     * @return the index of the first reserved entry, or -1 if fewer than {@code nb} are free
     *         (indices wrap; use {@link #mask} or the typed setters)
     */
    public long reserve(final int nb) {
        if (nbFree(nb) < nb) {
            return -1;
        }
        final int idx = cachedProd;
        cachedProd += nb;
        return idx & 0xFFFF_FFFFL;
    }

    /**
     * xsk_ring_prod__submit: publishes every reserved entry to the kernel.
     */
    public void submit() {
        U32.setRelease(producer, 0L, cachedProd);
    }

    /**
     * @return entries reserved but not yet submitted
     */
    public int pending() {
        return cachedProd - (int) U32.get(producer, 0L);
    }

    /**
     * @return true if the kernel consumed everything submitted (acquire load)
     */
    public boolean isDrained() {
        return (int) U32.getAcquire(consumer, 0L) == (int) U32.get(producer, 0L);
    }


    /** Fill ring: sets the UMEM address of entry {@code idx}. */
    void setAddr(final long idx, final long addr) {
        ring.set(ValueLayout.JAVA_LONG, ((int) idx & mask) * ADDR_BYTES, addr);
    }

    /** TX ring: sets the descriptor of entry {@code idx}. */
    void setDesc(final long idx, final long addr, final int len) {
        final long off = ((int) idx & mask) * DESC_BYTES;
        ring.set(ValueLayout.JAVA_LONG, off + DESC_ADDR, addr);
        ring.set(ValueLayout.JAVA_INT, off + DESC_LEN, len);
        ring.set(ValueLayout.JAVA_INT, off + DESC_OPTIONS, 0);
    }
}
