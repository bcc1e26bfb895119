package io.bypass.afxdp.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A consumer ring (RX or completion), driven over the mmapped ring exactly as
 * {@code xsk.h} does inline: a cached producer index, an acquire load of the kernel's
 * producer index only when the cache is empty, and a release store of the consumer
 * index on release. Single-threaded; no allocation, no downcall.
 */
public final class XskRingCons extends XskRing {
    private int cachedProd;
    private int cachedCons;

    /**
     * @param map     the mmapped ring
     * @param offsets its offsets from XDP_MMAP_OFFSETS
     * @param size    number of entries, a power of two
     */
    XskRingCons(final MemorySegment map, final RingOffsets offsets, final int size) {
        super(map, offsets, size);
        this.cachedProd = (int) U32.getAcquire(producer, 0L);
        this.cachedCons = (int) U32.getAcquire(consumer, 0L);
    }

    /**
     * xsk_cons_nb_avail: entries ready, reading the kernel's producer index only when
     * the cached ones are used up.
     *
     * @param nb most entries wanted
     * @return entries available, at most {@code nb}
     */
    public int nbAvail(final int nb) {
        int entries = cachedProd - cachedCons;
        if (entries == 0) {
            cachedProd = (int) U32.getAcquire(producer, 0L);
            entries = cachedProd - cachedCons;
        }
        return Math.min(entries, nb);
    }

    /**
     * xsk_ring_cons__peek: takes up to {@code nb} entries starting at {@link #peekIndex()}.
     *
     * @param nb most entries wanted
     * @return entries taken
     */
    public int peek(final int nb) {
        final int entries = nbAvail(nb);
        if (entries > 0) {
            peekIndex = cachedCons;
            cachedCons += entries;
        }
        return entries;
    }

    private int peekIndex;

    /**
     * @return the index of the first entry of the last successful {@link #peek(int)}
     */
    public int peekIndex() {
        return peekIndex;
    }

    /**
     * @return entries the kernel has produced that no peek has taken yet (an acquire load;
     *         changes no state)
     */
    public int waiting() {
        return (int) U32.getAcquire(producer, 0L) - cachedCons;
    }

    /**
     * xsk_ring_cons__cancel: gives back the last {@code nb} entries of the last peek
     * without consuming them, so the next peek returns them again.
     *
     * @param nb entries to give back, at most the number the last peek took
     */
    public void cancel(final int nb) {
        cachedCons -= nb;
    }

    /**
     * xsk_ring_cons__release: hands every peeked entry back to the kernel.
     */
    public void release() {
        U32.setRelease(consumer, 0L, cachedCons);
    }


    /** Completion ring: the UMEM address of entry {@code idx}. */
    long addr(final int idx) {
        return ring.get(ValueLayout.JAVA_LONG, (idx & mask) * ADDR_BYTES);
    }

    /** RX ring: the UMEM address of descriptor {@code idx}. */
    long descAddr(final int idx) {
        return ring.get(ValueLayout.JAVA_LONG, (idx & mask) * DESC_BYTES + DESC_ADDR);
    }

    /** RX ring: the length of descriptor {@code idx}. */
    int descLen(final int idx) {
        return ring.get(ValueLayout.JAVA_INT, (idx & mask) * DESC_BYTES + DESC_LEN);
    }
}
