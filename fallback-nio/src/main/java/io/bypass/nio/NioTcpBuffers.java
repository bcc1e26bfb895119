package io.bypass.nio;

import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * One connection's direct buffers: what {@code read} fills (and the handler sees through
 * {@link #rxView}) and the send queue claims write into. Pooled by the endpoint, so a new
 * connection reuses a closed one's memory instead of allocating (and zeroing) its own.
 */
final class NioTcpBuffers {
    /** Receive buffer: at most this many bytes are read per {@code read} call. */
    static final int RX_CAPACITY = 128 * 1024;
    /** Send queue: the longest claim, and how much may wait for a flush. */
    static final int TX_CAPACITY = 256 * 1024;

    final ByteBuffer rx = ByteBuffer.allocateDirect(RX_CAPACITY);
    final UnsafeBuffer rxView = new UnsafeBuffer(rx);
    final ByteBuffer tx = ByteBuffer.allocateDirect(TX_CAPACITY);
    final UnsafeBuffer txView = new UnsafeBuffer(tx);
}
