package io.bypass.spi;

import io.bypass.testing.Allocations;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class StatisticsFileTest {
    @TempDir
    Path dir;

    @Test
    void parsesDecimalsAndRefusesWhatIsNotOne() {
        final ByteBuffer b = ByteBuffer.wrap("  42 x 9223372036854775807 9223372036854775808".getBytes(StandardCharsets.US_ASCII));
        assertEquals(42, StatisticsFile.parseDecimal(b, 0, 4));
        assertEquals(4, StatisticsFile.parseDecimal(b, 0, 3), "stops at the range's end");
        assertEquals(-1, StatisticsFile.parseDecimal(b, 4, 6), "no digits");
        assertEquals(Long.MAX_VALUE, StatisticsFile.parseDecimal(b, 7, 26));
        assertEquals(-1, StatisticsFile.parseDecimal(b, 27, b.limit()), "overflow");
    }

    @Test
    void readsAFileBiggerThanItsBufferWhole() throws Exception {
        final Path p = dir.resolve("table");
        final String text = "row\n".repeat(5_000) + "123\n"; // 20 KB: the 4 KB buffer grows
        Files.writeString(p, text);
        try (StatisticsFile f = StatisticsFile.open(p)) {
            assertEquals(text.length(), f.read());
            assertEquals(123, StatisticsFile.parseDecimal(f.bytes(), text.length() - 4, text.length()));
            Files.writeString(p, "7\n");
            assertEquals(2, f.read(), "read again from the start");
            assertEquals(7, StatisticsFile.parseDecimal(f.bytes(), 0, f.bytes().limit()));
        }
    }

    @Test
    void rereadingAllocatesNothing() throws Exception {
        final Path p = dir.resolve("value");
        Files.writeString(p, "1234567\n");
        try (StatisticsFile f = StatisticsFile.open(p)) {
            final long[] sum = {0};
            final long bytes = Allocations.steadyState(() -> {
                for (int i = 0; i < 100; i++) {
                    f.read();
                    sum[0] += StatisticsFile.parseDecimal(f.bytes(), 0, f.bytes().limit());
                }
            }, 200, 5);
            assertEquals(0, bytes, "100 reads and parses");
            assertEquals(0, sum[0] % 1234567);
        }
    }

    @Test
    void openFirstTakesTheFirstThatExists() {
        assertNull(StatisticsFile.openFirst(dir.resolve("missing"), dir.resolve("also-missing")));
    }
}
