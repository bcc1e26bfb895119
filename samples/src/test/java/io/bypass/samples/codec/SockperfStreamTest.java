package io.bypass.samples.codec;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** sockperf messages framed out of a stream cut at every possible place, and a stream that loses its framing. */
class SockperfStreamTest {
    private static final int[] SIZES = {14, 64, 15, 1500, 4000, 65536, 100};

    private static UnsafeBuffer stream() {
        int total = 0;
        for (final int s : SIZES) {
            total += s;
        }
        final UnsafeBuffer b = new UnsafeBuffer(new byte[total]);
        int at = 0;
        for (int i = 0; i < SIZES.length; i++) {
            SockperfHeader.encode(b, at, i + 1, SockperfHeader.FLAG_CLIENT | SockperfHeader.FLAG_PONG_REQUEST, SIZES[i]);
            for (int j = SockperfHeader.LENGTH; j < SIZES[i]; j++) {
                b.putByte(at + j, (byte) (i * 31 + j));
            }
            at += SIZES[i];
        }
        return b;
    }

    /** Each message as handed on: sequence, length and a checksum of its bytes. */
    private record Seen(long sequence, int length, long sum) {
        static Seen of(final DirectBuffer b, final int offset, final int length) {
            long sum = 0;
            for (int i = 0; i < length; i++) {
                sum = sum * 31 + b.getByte(offset + i);
            }
            return new Seen(SockperfHeader.sequence(b, offset), length, sum);
        }
    }

    @Test
    void messagesComeOutWholeHoweverTheStreamIsCut() {
        final UnsafeBuffer all = stream();
        final List<Seen> expected = new ArrayList<>();
        new SockperfStream().onData(all, 0, all.capacity(), (b, o, l) -> expected.add(Seen.of(b, o, l)));
        assertEquals(SIZES.length, expected.size());
        for (int i = 0; i < SIZES.length; i++) {
            assertEquals(i + 1, expected.get(i).sequence());
            assertEquals(SIZES[i], expected.get(i).length());
        }
        final Random random = new Random(7);
        for (int round = 0; round < 300; round++) {
            final SockperfStream s = new SockperfStream();
            final List<Seen> seen = new ArrayList<>();
            int at = 0;
            while (at < all.capacity()) {
                // runs of 1 byte up to a few segments, as a stack hands them over
                final int n = Math.min(all.capacity() - at, round < 20 ? round + 1 : 1 + random.nextInt(round % 2 == 0 ? 20 : 5000));
                assertTrue(s.onData(all, at, n, (b, o, l) -> seen.add(Seen.of(b, o, l))));
                at += n;
            }
            assertEquals(expected, seen, "round " + round);
            assertEquals(0, s.heldBytes());
        }
    }

    @Test
    void aLengthOutOfRangeBreaksTheStreamForGood() {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[64]);
        SockperfHeader.encode(b, 0, 1, SockperfHeader.FLAG_CLIENT, 13); // shorter than its own header
        final SockperfStream s = new SockperfStream();
        final int[] messages = {0};
        assertFalse(s.onData(b, 0, 64, (x, o, l) -> messages[0]++));
        assertTrue(s.isBroken());
        SockperfHeader.encode(b, 0, 2, SockperfHeader.FLAG_CLIENT, 64);
        assertFalse(s.onData(b, 0, 64, (x, o, l) -> messages[0]++), "nothing more once the framing is lost");
        assertEquals(0, messages[0]);

        final SockperfStream split = new SockperfStream();
        SockperfHeader.encode(b, 0, 3, SockperfHeader.FLAG_CLIENT, SockperfStream.MAX_MESSAGE + 1);
        assertTrue(split.onData(b, 0, 5, (x, o, l) -> messages[0]++), "not yet a whole header");
        assertFalse(split.onData(b, 5, 20, (x, o, l) -> messages[0]++), "a length past the largest message, found once the header is whole");
        assertEquals(0, messages[0]);
    }
}
