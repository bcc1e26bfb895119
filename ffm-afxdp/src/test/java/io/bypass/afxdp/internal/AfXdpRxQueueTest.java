package io.bypass.afxdp.internal;

import io.bypass.Counters;
import io.bypass.FrameHandler;
import io.bypass.PortUri;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link AfXdpRxQueue} over rings in ordinary memory, the kernel's side played by the test as
 * {@code xsk_flush} plays it: the RX ring's producer is published before the fill ring's
 * consumer, so a poll can see frames whose fill slots are not yet known to be free.
 */
class AfXdpRxQueueTest {
    private static final int FRAME_SIZE = 2048;
    private static final int LENGTH = 60;

    private final WarmUpRings rings = new WarmUpRings(0, FRAME_SIZE);
    private final AfXdpRxQueue queue = new AfXdpRxQueue(AfXdpPortImpl.unopened(PortUri.parse("afxdp:lo")), 0, rings.socket,
        rings.umem, FRAME_SIZE, 32, false, false, new Counters().newWriter());
    private final List<Long> seen = new ArrayList<>();
    private final FrameHandler handler = (buffer, offset, length, meta) -> seen.add((long) offset);
    private int kernelFillCons;

    @AfterEach
    void free() {
        rings.close();
    }

    private int index(final XskRing ring, final boolean producer) {
        return (int) XskRing.U32.get(producer ? ring.producer : ring.consumer, 0L);
    }

    private long fillEntry(final int idx) {
        final XskRingProd fill = rings.socket.fill;
        return fill.ring.get(ValueLayout.JAVA_LONG, (long) (idx & fill.mask) * XskRing.ADDR_BYTES);
    }

    /** The kernel receives {@code n} frames: takes fill entries, posts RX descriptors, publishes the RX producer only. */
    private void receiveWithoutReleasingFill(final int n) {
        final XskRingCons rx = rings.socket.rx;
        final int prod = index(rx, true);
        for (int i = 0; i < n; i++) {
            final long addr = fillEntry(kernelFillCons++);
            final long d = (long) ((prod + i) & rx.mask) * XskRing.DESC_BYTES;
            rx.ring.set(ValueLayout.JAVA_LONG, d + XskRing.DESC_ADDR, addr);
            rx.ring.set(ValueLayout.JAVA_INT, d + XskRing.DESC_LEN, LENGTH);
        }
        XskRing.U32.setRelease(rx.producer, 0L, prod + n);
    }

    /** The second half of {@code xsk_flush}: the fill ring's consumer catches up. */
    private void releaseFill() {
        XskRing.U32.setRelease(rings.socket.fill.consumer, 0L, kernelFillCons);
    }

    @Test
    void framesSeenBeforeTheFillConsumerMovesAreGivenBackLaterNotOverwrittenOrLost() {
        final int frames = rings.rxFrames();
        queue.populateFill(0, frames, FRAME_SIZE);
        final long lastEntry = fillEntry(frames - 1);

        receiveWithoutReleasingFill(2);
        assertEquals(2, queue.poll(handler, 32));
        assertEquals(List.of(0L, (long) FRAME_SIZE), seen);

        // The fill ring looks full: the two frames stay handed, their RX slots unreleased,
        // and no fill entry the kernel has yet to read is touched.
        assertEquals(0, queue.poll(handler, 32));
        assertEquals(frames, index(rings.socket.fill, true), "nothing published to the fill ring");
        assertEquals(0, index(rings.socket.rx, false), "RX slots not released");
        assertEquals(lastEntry, fillEntry(frames - 1), "the last fill entry is the kernel's, untouched");

        // One more arrives before the kernel catches up: handed with the first two.
        receiveWithoutReleasingFill(1);
        assertEquals(1, queue.poll(handler, 32));
        assertEquals(3, seen.size());

        releaseFill();
        assertEquals(0, queue.poll(handler, 32));
        assertEquals(frames + 3, index(rings.socket.fill, true), "all three frames back in the fill ring");
        assertEquals(3, index(rings.socket.rx, false), "their RX slots released");
        for (int i = 0; i < 3; i++) {
            assertEquals((long) i * FRAME_SIZE, fillEntry(frames + i), "fill entry " + i);
        }
    }

    @Test
    void framesAreGivenBackAtTheNextPollWhenTheFillConsumerIsCurrent() {
        final int frames = rings.rxFrames();
        queue.populateFill(0, frames, FRAME_SIZE);
        receiveWithoutReleasingFill(1);
        releaseFill();
        assertEquals(1, queue.poll(handler, 32));
        assertEquals(0, index(rings.socket.rx, false), "released at the next poll, not during this one");
        assertEquals(0, queue.poll(handler, 32));
        assertEquals(frames + 1, index(rings.socket.fill, true));
        assertEquals(1, index(rings.socket.rx, false));
        assertEquals(0L, fillEntry(frames));
    }
}
