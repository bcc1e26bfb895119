package io.bypass.afxdp.internal;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rings over ordinary memory, the kernel's side played by the test: entries land where
 * the kernel's ABI puts them ({@code struct xdp_desc}: u64 addr at 0, u32 len at 8, u32
 * options at 12, 16 bytes; fill and completion entries u64), and the indices follow
 * {@code xsk.h} (reserve all or nothing, release store on submit and release, wrap-around).
 */
class XskRingTest {
    private static final int ENTRIES = 8;
    private static final long HEADER = 128;
    private static final RingOffsets OFFSETS = new RingOffsets(0, 64, HEADER, 96);

    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void free() {
        arena.close();
    }

    private MemorySegment map(final long entryBytes) {
        return arena.allocate(HEADER + ENTRIES * entryBytes, 64);
    }

    private static int index(final MemorySegment map, final long offset) {
        return map.get(ValueLayout.JAVA_INT, offset);
    }

    @Test
    void descriptorOffsetsAreTheKernelAbi() {
        assertEquals(16, XskRing.DESC_BYTES);
        assertEquals(0, XskRing.DESC_ADDR);
        assertEquals(8, XskRing.DESC_LEN);
        assertEquals(12, XskRing.DESC_OPTIONS);
        assertEquals(8, XskRing.ADDR_BYTES);
    }

    @Test
    void txDescriptorsAreWrittenAsStructXdpDescAndPublishedOnSubmit() {
        final MemorySegment map = map(16);
        map.asSlice(HEADER).fill((byte) 0x5A); // options must be cleared, not left as found
        final XskRingProd tx = new XskRingProd(map, OFFSETS, ENTRIES);
        assertEquals(ENTRIES, tx.nbFree(1));
        final long idx = tx.reserve(3);
        assertEquals(0, idx);
        for (int i = 0; i < 3; i++) {
            tx.setDesc(idx + i, 0x1000L * (i + 1), 60 + i);
        }
        assertEquals(0, index(map, 0), "nothing published before submit");
        assertEquals(3, tx.pending());
        tx.submit();
        assertEquals(3, index(map, 0));
        for (int i = 0; i < 3; i++) {
            final long d = HEADER + 16L * i;
            assertEquals(0x1000L * (i + 1), map.get(ValueLayout.JAVA_LONG, d));
            assertEquals(60 + i, map.get(ValueLayout.JAVA_INT, d + 8));
            assertEquals(0, map.get(ValueLayout.JAVA_INT, d + 12));
        }
        assertFalse(tx.isDrained());
        map.set(ValueLayout.JAVA_INT, 64, 3); // the kernel consumes all three
        assertTrue(tx.isDrained());
    }

    @Test
    void reserveIsAllOrNothingAndWrapsOnceTheKernelConsumes() {
        final MemorySegment map = map(8);
        final XskRingProd fill = new XskRingProd(map, OFFSETS, ENTRIES);
        assertEquals(0, fill.reserve(ENTRIES - 2));
        assertEquals(-1, fill.reserve(3), "only two free: none reserved");
        assertEquals(ENTRIES - 2, fill.reserve(2));
        fill.submit();
        map.set(ValueLayout.JAVA_INT, 64, 4); // the kernel takes four
        final long idx = fill.reserve(4);
        assertEquals(ENTRIES, idx);
        fill.setAddr(idx, 0xABCD_0000L);
        assertEquals(0xABCD_0000L, map.get(ValueLayout.JAVA_LONG, HEADER), "index 8 wraps to entry 0");
    }

    @Test
    void rxDescriptorsAreReadFromStructXdpDescAndReleasedOnRelease() {
        final MemorySegment map = map(16);
        for (int i = 0; i < ENTRIES; i++) {
            final long d = HEADER + 16L * i;
            map.set(ValueLayout.JAVA_LONG, d, 0x2000L * i);
            map.set(ValueLayout.JAVA_INT, d + 8, 100 + i);
            map.set(ValueLayout.JAVA_INT, d + 12, -1);
        }
        final XskRingCons rx = new XskRingCons(map, OFFSETS, ENTRIES);
        assertEquals(0, rx.peek(4), "the kernel has produced nothing");
        map.set(ValueLayout.JAVA_INT, 0, 5); // the kernel produces five
        assertEquals(5, rx.waiting());
        assertEquals(4, rx.peek(4));
        final int first = rx.peekIndex();
        for (int i = 0; i < 4; i++) {
            assertEquals(0x2000L * (first + i), rx.descAddr(first + i));
            assertEquals(100 + first + i, rx.descLen(first + i));
        }
        rx.cancel(1);
        assertEquals(0, index(map, 64), "nothing released before release");
        rx.release();
        assertEquals(3, index(map, 64));
        assertEquals(2, rx.peek(8), "the cancelled entry and the fifth");
        assertEquals(3, rx.peekIndex());
    }

    @Test
    void completionEntriesAreU64Addresses() {
        final MemorySegment map = map(8);
        map.set(ValueLayout.JAVA_LONG, HEADER + 8, 0x7000L);
        map.set(ValueLayout.JAVA_INT, 0, 2);
        final XskRingCons comp = new XskRingCons(map, OFFSETS, ENTRIES);
        assertEquals(2, comp.peek(2));
        assertEquals(0x7000L, comp.addr(comp.peekIndex() + 1));
    }
}
