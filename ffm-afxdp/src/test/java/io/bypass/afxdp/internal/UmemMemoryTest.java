package io.bypass.afxdp.internal;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The UMEM's memory: 2 MiB aligned, advised for transparent huge pages, every page present
 * at open, unmapped with its arena; and how much of a mapping is in huge pages, read from
 * {@code /proc/self/smaps}.
 */
class UmemMemoryTest {
    private static final long HUGE = 2L << 20;

    private static final List<String> SMAPS = List.of(
        "7f5000000000-7f5000200000 rw-p 00000000 00:00 0 ",
        "Size:               2048 kB",
        "AnonHugePages:         0 kB",
        "7f500f600000-7f5014000000 rw-p 00000000 00:00 0 ",
        "Size:              73728 kB",
        "AnonHugePages:     71680 kB",
        "Private_Hugetlb:       0 kB",
        "THPeligible:    1",
        "7f5014000000-7f5014400000 rw-s 00000000 00:0f 1234                       /anon_hugepage (deleted)",
        "Size:               4096 kB",
        "AnonHugePages:         0 kB",
        "Shared_Hugetlb:        0 kB",
        "Private_Hugetlb:    4096 kB");

    @Test
    void hugePageBytesAreThoseOfTheMappingHoldingTheAddress() {
        assertEquals(71680L * 1024, UmemMemory.hugePageBytes(SMAPS, 0x7f500f600000L));
        assertEquals(71680L * 1024, UmemMemory.hugePageBytes(SMAPS, 0x7f5013ffffffL), "last byte of the mapping");
        assertEquals(4096L * 1024, UmemMemory.hugePageBytes(SMAPS, 0x7f5014000000L), "reserved (hugetlb) pages count too");
        assertEquals(0, UmemMemory.hugePageBytes(SMAPS, 0x7f5000000000L), "a mapping in small pages");
        assertEquals(0, UmemMemory.hugePageBytes(SMAPS, 0x1000L), "an address in no mapping");
    }

    @Test
    void umemIsAlignedToAHugePageAdvisedAndGoneWithItsArena() throws Exception {
        final long length = 8 * HUGE;
        final MemorySegment errno = Errno.allocate(Arena.global());
        final long address;
        try (Arena arena = Arena.ofShared()) {
            final MemorySegment umem = UmemMemory.map(errno, length, false, arena);
            address = umem.address();
            assertEquals(0, address % HUGE, "2 MiB aligned");
            assertEquals(length, umem.byteSize());
            final List<String> smaps = Files.readAllLines(Path.of("/proc/self/smaps"));
            final String mapping = mappingOf(smaps, address);
            assertTrue(mapping.startsWith(Long.toHexString(address) + "-" + Long.toHexString(address + length) + " "),
                "exactly the UMEM, the alignment slack given back: " + mapping);
            final String enabled = Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled"));
            if (enabled.contains("[never]")) {
                assertEquals(0, UmemMemory.hugePageBytes(address, length), "transparent huge pages are off here");
            } else {
                assertTrue(field(smaps, address, "VmFlags:").contains(" hg"), "advised MADV_HUGEPAGE");
                assertTrue(UmemMemory.hugePageBytes(address, length) > 0, "THP is " + enabled.strip()
                    + ": the kernel backs some of an advised 16 MiB with huge pages");
            }
            assertEquals(length / 1024, Long.parseLong(field(smaps, address, "Rss:").replaceAll("\\D", "")),
                "every page present before the first packet");
        }
        assertFalse(mappingOf(Files.readAllLines(Path.of("/proc/self/smaps")), address).startsWith(
            Long.toHexString(address) + "-"), "unmapped when the arena closed");
    }

    private static String mappingOf(final List<String> smaps, final long address) {
        for (final String line : smaps) {
            final int dash = line.indexOf('-');
            final int space = line.indexOf(' ');
            if (dash > 0 && space > dash && line.substring(0, dash).matches("[0-9a-f]+")) {
                final long from = Long.parseUnsignedLong(line.substring(0, dash), 16);
                final long to = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
                if (address >= from && address < to) {
                    return line;
                }
            }
        }
        return "";
    }

    private static String field(final List<String> smaps, final long address, final String name) {
        final String header = mappingOf(smaps, address);
        boolean inside = false;
        for (final String line : smaps) {
            if (line.equals(header)) {
                inside = true;
            } else if (inside && line.startsWith(name)) {
                return line.substring(name.length());
            }
        }
        throw new AssertionError(name + " of " + header + " not in smaps");
    }
}
