package io.bypass.afxdp.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Binds an mmapped region to an arena, so closing the arena munmaps it and any later
 * access through the segment raises an exception instead of touching unmapped memory.
 */
final class Mmap {
    private Mmap() {
    }

    static MemorySegment bind(final MemorySegment mapped, final long length, final Arena arena) {
        final long address = mapped.address();
        return MemorySegment.ofAddress(address).reinterpret(length, arena, s -> {
            try (Arena a = Arena.ofConfined()) {
                Libc.munmap(Errno.allocate(a), MemorySegment.ofAddress(address), length);
            }
        });
    }
}
