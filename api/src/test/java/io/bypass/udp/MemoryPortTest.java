package io.bypass.udp;

import io.bypass.BypassException;
import io.bypass.Counter;
import io.bypass.FrameClaim;
import io.bypass.FrameHandler;
import io.bypass.RxQueue;
import io.bypass.TxQueue;
import io.bypass.testing.MemoryPort;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The in-memory test port honours the L2 contract the protocol layer relies on. */
class MemoryPortTest {
    private static MemoryPort.Pair pair(final int ringSize, final int frameSize) {
        return MemoryPort.pair(new MemoryPort.Config().ring(ringSize, frameSize), new MemoryPort.Config());
    }

    @Test
    void framesArriveInOrderZeroCopyAndOnlyAfterFlush() {
        final MemoryPort.Pair pair = pair(8, 128);
        final TxQueue tx = pair.a().txQueue(0);
        final RxQueue rx = pair.b().rxQueue(0);
        final FrameClaim claim = new FrameClaim();
        final List<Long> addresses = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            assertTrue(tx.tryClaim(64, claim));
            claim.buffer().putInt(claim.offset(), i);
            addresses.add(claim.buffer().addressOffset());
            claim.commit(60 + i);
        }
        assertEquals(0, rx.poll((b, o, l, m) -> { }, 16), "nothing before flush");
        assertEquals(3, tx.flush());
        assertEquals(3, pair.a().counters().get(Counter.TX_PACKETS));
        assertEquals(60 + 61 + 62, pair.a().counters().get(Counter.TX_BYTES));
        final List<int[]> seen = new ArrayList<>();
        final List<Long> rxAddresses = new ArrayList<>();
        assertEquals(2, rx.poll((b, o, l, m) -> {
            seen.add(new int[] {b.getInt(o), l});
            rxAddresses.add(b.addressOffset() + o);
        }, 2), "limit honoured");
        assertEquals(1, rx.poll((b, o, l, m) -> {
            seen.add(new int[] {b.getInt(o), l});
            rxAddresses.add(b.addressOffset() + o);
        }, 2));
        for (int i = 0; i < 3; i++) {
            assertEquals(i, seen.get(i)[0]);
            assertEquals(60 + i, seen.get(i)[1]);
        }
        assertEquals(addresses, rxAddresses, "the receiver reads the memory the sender wrote");
    }

    @Test
    void fullRingBackPressuresAndAbortedFramesAreNotDelivered() {
        final MemoryPort.Pair pair = pair(4, 128);
        final TxQueue tx = pair.a().txQueue(0);
        final FrameClaim claim = new FrameClaim();
        for (int i = 0; i < 4; i++) {
            assertTrue(tx.tryClaim(60, claim));
            if (i == 1) {
                claim.abort();
            } else {
                claim.commit();
            }
        }
        assertFalse(tx.tryClaim(60, claim));
        assertEquals(1, pair.a().counters().get(Counter.TX_BACK_PRESSURED));
        assertEquals(3, tx.flush());
        assertEquals(3, pair.b().rxQueue(0).poll((b, o, l, m) -> { }, 16));
        assertTrue(tx.tryClaim(60, claim), "frames are free again once polled");
        claim.abort();
    }

    @Test
    void refusesOversizedClaimsAndUseAfterClose() {
        final MemoryPort.Pair pair = pair(4, 128);
        final FrameClaim claim = new FrameClaim();
        assertEquals(128, pair.a().txQueue(0).maxFrameLength());
        assertThrows(IllegalArgumentException.class, () -> pair.a().txQueue(0).tryClaim(129, claim));
        assertThrows(IllegalArgumentException.class, () -> pair.b().rxQueue(0).poll((b, o, l, m) -> { }, 0));
        final TxQueue tx = pair.a().txQueue(0);
        pair.a().close();
        assertTrue(pair.a().isClosed());
        assertThrows(BypassException.class, () -> tx.tryClaim(60, claim));
        assertThrows(BypassException.class, tx::flush);
        assertThrows(BypassException.class, () -> pair.a().rxQueue(0));
    }

    @Test
    void producerAndConsumerOnTwoThreads() throws Exception {
        final MemoryPort.Pair pair = pair(64, 128);
        final int frames = 100_000;
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread producer = new Thread(() -> {
            try {
                final TxQueue tx = pair.a().txQueue(0);
                final FrameClaim claim = new FrameClaim();
                for (int i = 0; i < frames; ) {
                    if (tx.tryClaim(64, claim)) {
                        claim.buffer().putInt(0, i);
                        claim.commit();
                        i++;
                    } else {
                        tx.flush();
                        Thread.yield(); // two cores, shared with the build
                    }
                }
                tx.flush();
            } catch (final Throwable t) {
                failure.set(t);
            }
        });
        producer.start();
        final int[] expected = {0};
        final FrameHandler check = (b, o, l, m) -> {
            if (b.getInt(o) != expected[0]) {
                throw new AssertionError("frame " + b.getInt(o) + " arrived when " + expected[0] + " was due");
            }
            expected[0]++;
        };
        final long deadline = System.nanoTime() + 60_000_000_000L;
        while (expected[0] < frames && System.nanoTime() < deadline && failure.get() == null) {
            pair.b().rxQueue(0).poll(check, 32);
        }
        producer.join();
        assertNull(failure.get());
        assertEquals(frames, expected[0], "every frame, in order");
    }
}
