package io.bypass.net;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Unchecked network-order accesses agree with Agrona's checked ones; the range check refuses every way out. */
class NetworkBytesTest {
    @Test
    void readsAndWritesAsAgronaDoesBigEndian() {
        final SplittableRandom random = new SplittableRandom(3);
        for (final UnsafeBuffer b : new UnsafeBuffer[] {new UnsafeBuffer(new byte[64]), new UnsafeBuffer(ByteBuffer.allocateDirect(64))}) {
            for (int n = 0; n < 1000; n++) {
                final int i = random.nextInt(0, 56);
                final long v = random.nextLong();
                NetworkBytes.putLong(b, i, v);
                assertEquals(b.getLong(i, ByteOrder.BIG_ENDIAN), v);
                assertEquals(v, NetworkBytes.getLong(b, i));
                assertEquals(b.getInt(i, ByteOrder.BIG_ENDIAN), NetworkBytes.getInt(b, i));
                assertEquals(b.getShort(i, ByteOrder.BIG_ENDIAN) & 0xFFFF, NetworkBytes.getUnsignedShort(b, i));
                assertEquals(b.getByte(i) & 0xFF, NetworkBytes.getUnsignedByte(b, i));
                assertEquals(Mac.get(b, i), NetworkBytes.getMac(b, i));
                NetworkBytes.putInt(b, i, (int) v);
                assertEquals((int) v, b.getInt(i, ByteOrder.BIG_ENDIAN));
                NetworkBytes.putShort(b, i, (int) v);
                assertEquals((short) v, b.getShort(i, ByteOrder.BIG_ENDIAN));
                NetworkBytes.putByte(b, i, (int) v);
                assertEquals((byte) v, b.getByte(i));
                NetworkBytes.putMac(b, i, v & Mac.MASK);
                assertEquals(v & Mac.MASK, Mac.get(b, i));
            }
        }
    }

    @Test
    void theRangeCheckRefusesNegativeOverlongAndOverflowingRanges() {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[64]);
        assertDoesNotThrow(() -> NetworkBytes.checkRange(b, 0, 64));
        assertDoesNotThrow(() -> NetworkBytes.checkRange(b, 64, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> NetworkBytes.checkRange(b, 1, 64));
        assertThrows(IndexOutOfBoundsException.class, () -> NetworkBytes.checkRange(b, -1, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> NetworkBytes.checkRange(b, 0, -1));
        assertThrows(IndexOutOfBoundsException.class, () -> NetworkBytes.checkRange(b, Integer.MAX_VALUE, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> NetworkBytes.checkRange(b, 2, Integer.MAX_VALUE));
    }
}
