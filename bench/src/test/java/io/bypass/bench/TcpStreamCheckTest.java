package io.bypass.bench;

import io.bypass.bench.jmh.TcpEngineBenchmark;
import io.bypass.bench.net.TcpStreamCheck;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tcp-bulk stream check: the Java pattern and CRC32C are those of {@code bench_tcp.c} (the CRC of
 * 20,000,000 bytes the C sender printed), a flipped byte and a misplaced segment are both caught; and the
 * JMH TCP benchmark really moves bytes (so its 0 B/op is about a working transfer, not a refused claim).
 */
class TcpStreamCheckTest {
    private static final long C_CRC_OF_20_MB = 2367029811L; // bench_tcp mode=bulk bytes=20000000 printed "crc":2367029811

    @Test
    void patternAndCrcMatchTheCBaseline() {
        final TcpStreamCheck tx = new TcpStreamCheck();
        final TcpStreamCheck rx = new TcpStreamCheck();
        final UnsafeBuffer b = new UnsafeBuffer(ByteBuffer.allocateDirect(TcpStreamCheck.CHUNK));
        while (tx.bytes() < 20_000_000L) {
            final int n = (int) Math.min(1448 * 7 + 13, 20_000_000L - tx.bytes()); // odd sizes cross the pattern's period anywhere
            tx.fill(b, 0, n);
            rx.received(b, 0, n);
        }
        assertEquals(C_CRC_OF_20_MB, tx.crc());
        assertEquals(C_CRC_OF_20_MB, rx.crc());
        assertEquals(0, rx.mismatches());
    }

    @Test
    void fullChunksStartingNearThePeriodsEndWriteThePatternToo() {
        // the sender claims CHUNK (> PERIOD) at a time, so its claims start anywhere in the period; a receiver
        // that takes segments must agree byte for byte. Found at stream offset 286,326,770 of a 1 GB transfer.
        final TcpStreamCheck tx = new TcpStreamCheck();
        final TcpStreamCheck rx = new TcpStreamCheck();
        final UnsafeBuffer b = new UnsafeBuffer(ByteBuffer.allocateDirect(TcpStreamCheck.CHUNK));
        for (int i = 0; i < TcpStreamCheck.PERIOD / (TcpStreamCheck.CHUNK - TcpStreamCheck.PERIOD) + 2; i++) {
            tx.fill(b, 0, TcpStreamCheck.CHUNK);
            for (int at = 0; at < TcpStreamCheck.CHUNK; at += 1448) {
                rx.received(b, at, Math.min(1448, TcpStreamCheck.CHUNK - at));
            }
        }
        assertEquals(0, rx.mismatches(), "first at " + rx.firstMismatch());
        assertEquals(tx.crc(), rx.crc());
    }

    @Test
    void flippedByteAndMisplacedSegmentAreCounted() {
        final TcpStreamCheck tx = new TcpStreamCheck();
        final UnsafeBuffer b = new UnsafeBuffer(ByteBuffer.allocateDirect(2 * 1448));
        tx.fill(b, 0, 2 * 1448);
        final TcpStreamCheck flipped = new TcpStreamCheck();
        b.putByte(100, (byte) (b.getByte(100) ^ 1));
        flipped.received(b, 0, 2 * 1448);
        assertEquals(1, flipped.mismatches());
        assertEquals(100, flipped.firstMismatch());
        b.putByte(100, (byte) (b.getByte(100) ^ 1));
        final TcpStreamCheck swapped = new TcpStreamCheck();
        swapped.received(b, 1448, 1448); // the second segment first
        swapped.received(b, 0, 1448);
        assertTrue(swapped.mismatches() > 1400, "a misplaced segment differs almost everywhere: " + swapped.mismatches());
    }

    @Test
    void tcpEngineBenchmarkMovesBytesBothWays() {
        final TcpEngineBenchmark bench = new TcpEngineBenchmark();
        bench.setup();
        try {
            long received = 0;
            for (int i = 0; i < 2_000; i++) {
                received = bench.bulk();
            }
            // 16 KiB offered per call; all but what is in flight (at most one 256 KiB window) must have arrived
            assertTrue(received >= 2_000L * 16 * 1024 - 256 * 1024, "bytes received by the server: " + received);
            for (int i = 0; i < 1_000; i++) {
                bench.pingPong(); // throws if an echo does not come back
            }
        } finally {
            bench.tearDown();
        }
    }
}
