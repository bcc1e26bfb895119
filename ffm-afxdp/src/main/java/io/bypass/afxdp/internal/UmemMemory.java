package io.bypass.afxdp.internal;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Maps a port's UMEM. With {@code hugepages=true} it is made of reserved 2 MiB pages
 * ({@code MAP_HUGETLB}); otherwise it is anonymous memory aligned to 2 MiB and advised
 * {@code MADV_HUGEPAGE}, so the kernel backs it with transparent huge pages where they are
 * enabled ({@code always} or {@code madvise} in
 * {@code /sys/kernel/mm/transparent_hugepage/enabled}) and with 4 KiB pages elsewhere.
 *
 * <p>Why: the RX frames rotate through the whole fill ring (16384 frames, 64 MiB, by
 * default), so with 4 KiB pages every received frame is a page the TLB has not seen for
 * 16384 frames, and in a VM a TLB miss walks two sets of page tables. 2 MiB pages cover
 * the UMEM in about 36 TLB entries. Measured with sockperf against {@code bypass pingpong
 * server} on veth (docs/benchmarks.md, issue 17).
 *
 * <p>Every page is touched at open, so no packet waits for a page fault.
 */
final class UmemMemory {
    private static final long SMALL_PAGE = 4096;

    private UmemMemory() {
    }

    /**
     * Maps {@code length} bytes, bound to {@code arena} (closing it unmaps them).
     *
     * @param errno      errno capture segment
     * @param length     bytes, a whole number of 2 MiB pages with {@code hugepages}
     * @param hugepages  reserved huge pages (MAP_HUGETLB) rather than advised transparent ones
     * @param arena      the arena whose close unmaps the UMEM
     * @return the UMEM
     * @throws io.bypass.BypassException if the memory cannot be mapped, naming what to do
     */
    static MemorySegment map(final MemorySegment errno, final long length, final boolean hugepages, final Arena arena) {
        if (hugepages) {
            final int flags = Constants.MAP_PRIVATE | Constants.MAP_ANONYMOUS | Constants.MAP_POPULATE | Constants.MAP_HUGETLB;
            final MemorySegment m = mmap(errno, length, flags, ", MAP_HUGETLB", "reserve 2 MiB huge pages first (echo "
                + (length / AfXdpOptions.HUGE_PAGE) + " > /proc/sys/vm/nr_hugepages) or drop hugepages=true");
            // Bound with the mapped length: munmap of a huge-page mapping fails (EINVAL) unless
            // the length is a multiple of the huge page size, and the pages would stay taken.
            return Mmap.bind(m, length, arena);
        }
        final long huge = AfXdpOptions.HUGE_PAGE;
        // One huge page more than asked, then the unaligned ends given back: a transparent huge
        // page needs a 2 MiB aligned range.
        final MemorySegment raw = mmap(errno, length + huge, Constants.MAP_PRIVATE | Constants.MAP_ANONYMOUS, "",
            "use fewer frames");
        final long start = raw.address();
        final long aligned = (start + huge - 1) & -huge;
        try {
            unmap(errno, start, aligned - start);
            unmap(errno, aligned + length, start + length + huge - (aligned + length));
        } catch (final RuntimeException e) {
            Libc.munmap(errno, raw, length + huge);
            throw e;
        }
        final MemorySegment umem = Mmap.bind(MemorySegment.ofAddress(aligned), length, arena);
        // A hint: EINVAL on a kernel built without transparent huge pages, which then uses 4 KiB ones.
        Libc.madvise(errno, umem, length, Constants.MADV_HUGEPAGE);
        for (long offset = 0; offset < length; offset += SMALL_PAGE) {
            umem.set(ValueLayout.JAVA_BYTE, offset, (byte) 0);
        }
        return umem;
    }

    private static MemorySegment mmap(final MemorySegment errno, final long length, final int flags, final String what,
                                      final String remedy) {
        final MemorySegment m = Libc.mmap(errno, length, Constants.PROT_READ | Constants.PROT_WRITE, flags, -1, 0);
        if (m.address() == Libc.MAP_FAILED) {
            throw Errno.failure("mmap(UMEM, " + length + " bytes" + what + ")", Errno.get(errno), remedy);
        }
        return m;
    }

    private static void unmap(final MemorySegment errno, final long address, final long length) {
        if (length > 0 && Libc.munmap(errno, MemorySegment.ofAddress(address), length) != 0) {
            throw Errno.failure("munmap(the UMEM's alignment slack, " + length + " bytes)", Errno.get(errno), null);
        }
    }

    /**
     * Bytes of the mapping at {@code address} that are in huge pages, transparent or reserved,
     * from {@code /proc/self/smaps} ({@code AnonHugePages}, {@code Private_Hugetlb}).
     *
     * @param address the UMEM's address
     * @param length  the UMEM's length, the most this returns
     * @return bytes in huge pages, 0 if none or if smaps cannot be read
     */
    static long hugePageBytes(final long address, final long length) {
        final List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        } catch (final IOException e) {
            return 0;
        }
        return Math.min(length, hugePageBytes(lines, address));
    }

    /**
     * @param smaps   the lines of {@code /proc/PID/smaps}
     * @param address an address inside one of its mappings
     * @return the bytes of that mapping in huge pages, 0 if it is not found
     */
    static long hugePageBytes(final List<String> smaps, final long address) {
        boolean inside = false;
        long kib = 0;
        for (final String line : smaps) {
            final int dash = line.indexOf('-');
            final int space = line.indexOf(' ');
            if (dash > 0 && space > dash && isHex(line, 0, dash) && isHex(line, dash + 1, space)) {
                if (inside) {
                    break;
                }
                final long from = Long.parseUnsignedLong(line, 0, dash, 16);
                final long to = Long.parseUnsignedLong(line, dash + 1, space, 16);
                inside = Long.compareUnsigned(address, from) >= 0 && Long.compareUnsigned(address, to) < 0;
            } else if (inside && (line.startsWith("AnonHugePages:") || line.startsWith("Private_Hugetlb:")
                || line.startsWith("Shared_Hugetlb:"))) {
                kib += Long.parseLong(line.substring(line.indexOf(':') + 1).replace("kB", "").strip());
            }
        }
        return kib * 1024;
    }

    private static boolean isHex(final String s, final int from, final int to) {
        for (int i = from; i < to; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                return false;
            }
        }
        return to > from;
    }
}
