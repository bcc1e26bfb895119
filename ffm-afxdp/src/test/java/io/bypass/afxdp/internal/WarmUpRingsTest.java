package io.bypass.afxdp.internal;

import io.bypass.Counters;
import io.bypass.FrameHandler;
import io.bypass.PortUri;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The warm-up's simulated kernel under the real {@link AfXdpRxQueue}, turn by turn as a warm-up
 * runs them: what the queue's polls meet there is what the JIT compiles the live polling loop
 * for, so each path a live poll takes must be met here.
 */
class WarmUpRingsTest {
    private static final int FRAME_SIZE = 2048;

    private final WarmUpRings rings = new WarmUpRings(0, FRAME_SIZE);
    private final AfXdpRxQueue queue = new AfXdpRxQueue(AfXdpPortImpl.unopened(PortUri.parse("afxdp:lo")), 0, rings.socket,
        rings.umem, FRAME_SIZE, rings.rxFrames(), false, false, new Counters().newWriter());
    private final FrameHandler handler = (buffer, offset, length, meta) -> {
    };

    @AfterEach
    void free() {
        rings.close();
    }

    private int rxConsumer() {
        return (int) XskRing.U32.get(rings.socket.rx.consumer, 0L);
    }

    @Test
    void turnsBringSingleFramesBurstsEmptyPollsAndALaggingFillRingWithNoFrameLost() {
        queue.populateFill(0, rings.rxFrames(), FRAME_SIZE);
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[60]);
        rings.deliver(frame, 0, frame.capacity());
        int empty = 0;
        int single = 0;
        int bursts = 0;
        int deferred = 0;
        long received = 0;
        for (int turn = 0; turn < 256; turn++) {
            final int handedBefore = (int) (received - rxConsumer());
            rings.turn();
            final int n = queue.poll(handler, rings.rxFrames());
            // A poll first gives back what the last one handed out; when the fill ring looks full it keeps them.
            if (handedBefore > 0 && rxConsumer() == received - handedBefore) {
                deferred++;
            }
            received += n;
            if (n == 0) {
                empty++;
            } else if (n == 1) {
                single++;
            } else {
                bursts++;
            }
        }
        assertTrue(empty >= 32, "empty polls: " + empty);
        assertTrue(single >= 32, "single frames: " + single);
        assertTrue(bursts >= 32, "bursts: " + bursts);
        assertTrue(deferred >= 8, "polls that kept their frames for a lagging fill ring: " + deferred);

        // Every frame received went back to the fill ring exactly once, and the kernel's side saw no frame twice.
        for (int turn = 0; turn < 4; turn++) {
            rings.turn();
            rings.deliver(null, 0, 0);
            received += queue.poll(handler, rings.rxFrames());
        }
        assertEquals(received, rxConsumer(), "every RX slot released");
        assertEquals(rings.rxFrames() + received, (long) (int) XskRing.U32.get(rings.socket.fill.producer, 0L),
            "every frame given back");
    }
}
