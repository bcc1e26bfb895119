package io.bypass.bench.jmh;

import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;

/**
 * Reading and writing a frame in native memory (as a UMEM frame or mbuf is) through an
 * Agrona {@link UnsafeBuffer} and through a {@link MemorySegment}: the header fields a
 * UDP receive path reads (EtherType, IPv4 destination, UDP destination port, length) and
 * a 64-byte payload write, as a TX path does.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class BufferAccessBenchmark {
    private static final ValueLayout.OfShort SHORT_BE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt INT_BE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private Arena arena;
    private MemorySegment segment;
    private final UnsafeBuffer buffer = new UnsafeBuffer(0, 0);
    private int frame;
    private long seq;

    /** Created by JMH. */
    public BufferAccessBenchmark() {
    }

    /** Maps 64 frames of 2 KiB, filled with a UDP header. */
    @Setup
    public void setup() {
        arena = Arena.ofShared();
        segment = arena.allocate(64 * 2048, 4096);
        buffer.wrap(segment.address(), (int) segment.byteSize());
        for (int f = 0; f < 64; f++) {
            final int o = f * 2048;
            buffer.putShort(o + 12, (short) 0x0800, ByteOrder.BIG_ENDIAN);
            buffer.putInt(o + 30, 0x0A000001 + f, ByteOrder.BIG_ENDIAN);
            buffer.putShort(o + 36, (short) 9000, ByteOrder.BIG_ENDIAN);
            buffer.putShort(o + 38, (short) 40, ByteOrder.BIG_ENDIAN);
        }
    }

    /** Frees the memory. */
    @TearDown
    public void tearDown() {
        arena.close();
    }

    private int nextFrame() {
        frame = (frame + 1) & 63;
        return frame * 2048;
    }

    /** @return a digest of the header fields, via UnsafeBuffer */
    @Benchmark
    public int readHeaderUnsafeBuffer() {
        final int o = nextFrame();
        return buffer.getShort(o + 12, ByteOrder.BIG_ENDIAN) + buffer.getInt(o + 30, ByteOrder.BIG_ENDIAN)
            + buffer.getShort(o + 36, ByteOrder.BIG_ENDIAN) + buffer.getShort(o + 38, ByteOrder.BIG_ENDIAN);
    }

    /** @return a digest of the header fields, via MemorySegment */
    @Benchmark
    public int readHeaderMemorySegment() {
        final long o = nextFrame();
        return segment.get(SHORT_BE, o + 12) + segment.get(INT_BE, o + 30) + segment.get(SHORT_BE, o + 36)
            + segment.get(SHORT_BE, o + 38);
    }

    /** Writes 64 payload bytes (8 longs) via UnsafeBuffer. */
    @Benchmark
    public void writePayloadUnsafeBuffer() {
        final int o = nextFrame() + 42;
        final long s = ++seq;
        for (int i = 0; i < 64; i += 8) {
            buffer.putLong(o + i, s + i);
        }
    }

    /** Writes 64 payload bytes (8 longs) via MemorySegment. */
    @Benchmark
    public void writePayloadMemorySegment() {
        final long o = nextFrame() + 42;
        final long s = ++seq;
        for (int i = 0; i < 64; i += 8) {
            segment.set(ValueLayout.JAVA_LONG_UNALIGNED, o + i, s + i);
        }
    }
}
