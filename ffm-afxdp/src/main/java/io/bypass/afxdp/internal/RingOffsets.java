package io.bypass.afxdp.internal;

/**
 * One ring's offsets within its mapping, from {@code struct xdp_ring_offset}.
 *
 * @param producer offset of the producer index
 * @param consumer offset of the consumer index
 * @param desc     offset of the descriptor array
 * @param flags    offset of the flags word (need_wakeup)
 */
public record RingOffsets(long producer, long consumer, long desc, long flags) {
}
