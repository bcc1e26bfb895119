package io.bypass;

import io.bypass.spi.ClaimOwner;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FrameClaimTest {
    private long committedToken = -1;
    private int committedLength = -1;
    private long abortedToken = -1;

    private final ClaimOwner owner = new ClaimOwner() {
        @Override
        public void commit(final long token, final int length) {
            committedToken = token;
            committedLength = length;
        }

        @Override
        public void abort(final long token) {
            abortedToken = token;
        }
    };

    @Test
    void writesLandInTheClaimedMemoryAndCommitReportsTheLength() {
        final ByteBuffer frame = ByteBuffer.allocateDirect(128);
        final long address = new UnsafeBuffer(frame).addressOffset();
        final FrameClaim claim = new FrameClaim();
        claim.wrap(owner, 42, address, 100);
        assertTrue(claim.isClaimed());
        assertEquals(100, claim.length());
        claim.buffer().putInt(claim.offset(), 0xCAFEBABE);
        claim.commit(60);
        assertEquals(0xCAFEBABE, new UnsafeBuffer(frame).getInt(0));
        assertEquals(42, committedToken);
        assertEquals(60, committedLength);
        assertFalse(claim.isClaimed());
    }

    @Test
    void abortReturnsTheFrameAndDoubleUseIsRefused() {
        final ByteBuffer frame = ByteBuffer.allocateDirect(64);
        final FrameClaim claim = new FrameClaim();
        claim.wrap(owner, 7, new UnsafeBuffer(frame).addressOffset(), 64);
        claim.abort();
        assertEquals(7, abortedToken);
        assertThrows(IllegalStateException.class, claim::commit);
        assertThrows(IllegalStateException.class, claim::abort);
    }

    @Test
    void commitLongerThanTheClaimIsRefused() {
        final ByteBuffer frame = ByteBuffer.allocateDirect(64);
        final FrameClaim claim = new FrameClaim();
        claim.wrap(owner, 1, new UnsafeBuffer(frame).addressOffset(), 64);
        assertThrows(IllegalArgumentException.class, () -> claim.commit(65));
        assertThrows(IllegalArgumentException.class, () -> claim.commit(-1));
        assertTrue(claim.isClaimed(), "a refused commit leaves the claim open");
        claim.commit();
        assertEquals(64, committedLength);
    }
}
