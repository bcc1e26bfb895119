package io.bypass.nio;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A connection's send queue: bytes {@code [head, tail)} of its direct send buffer, committed and not
 * yet written. Claims and sends append at the tail; a {@code write} takes from the head; when the
 * tail has no room left the queued bytes move to the front first. No string constant (hot path).
 */
final class NioTcpSendQueue {
    private ByteBuffer buffer;
    private UnsafeBuffer view;
    private int head;
    private int tail;
    /** A claim is outstanding at the tail. */
    boolean claimed;

    /** @param buffers the connection's buffers, whose send half this queue uses */
    void attach(final NioTcpBuffers buffers) {
        buffer = buffers.tx;
        view = buffers.txView;
        head = 0;
        tail = 0;
    }

    /** Lets go of the buffer (the connection ended). */
    void detach() {
        buffer = null;
        view = null;
        head = 0;
        tail = 0;
    }

    /** @return bytes queued */
    int queued() {
        return tail - head;
    }

    /** @return where the next bytes go, for a claim's token */
    int tail() {
        return tail;
    }

    /** @return the address of the tail, for a claim */
    long tailAddress() {
        return view.addressOffset() + tail;
    }

    /**
     * @param length bytes to append
     * @return true if they fit at the tail, after moving the queued bytes to the front if needed
     */
    boolean fits(final int length) {
        if (tail + length <= NioTcpBuffers.TX_CAPACITY) {
            return true;
        }
        if (head > 0) {
            buffer.limit(tail).position(head);
            buffer.compact();
            tail -= head;
            head = 0;
        }
        return tail + length <= NioTcpBuffers.TX_CAPACITY;
    }

    /**
     * A claim at {@code token} was committed.
     *
     * @param token  the tail when it was claimed
     * @param length bytes written
     */
    void commit(final long token, final int length) {
        if (token == tail) {
            tail += length;
        }
    }

    /**
     * Copies bytes to the tail (they fit: {@link #fits(int)}).
     *
     * @param src    the bytes
     * @param offset where they start
     * @param length how many
     */
    void put(final DirectBuffer src, final int offset, final int length) {
        view.putBytes(tail, src, offset, length);
        tail += length;
    }

    /**
     * One {@code write} of the queued bytes.
     *
     * @param channel the socket
     * @return bytes written
     * @throws IOException what the kernel said
     */
    int write(final SocketChannel channel) throws IOException {
        buffer.limit(tail).position(head);
        final int n = channel.write(buffer);
        head += n;
        if (head == tail && !claimed) {
            head = 0;
            tail = 0;
        }
        return n;
    }
}
