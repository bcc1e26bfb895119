package io.bypass.samples.codec;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * Frames sockperf's messages out of a TCP byte stream, as sockperf's own message parser does: each
 * message starts with a {@link SockperfHeader} whose length field covers the whole message, and a
 * run of bytes from {@code TcpConnection.poll} may hold part of a message or several. Messages that
 * lie whole in a run are handed on in place (no copy); one split across runs is gathered in a fixed
 * buffer first. A length field outside {@value SockperfHeader#LENGTH}..{@value #MAX_MESSAGE} means
 * the stream has lost its framing: {@link #onData} reports it and the stream stays broken (sockperf
 * cannot resynchronise either). No allocation after construction.
 */
public final class SockperfStream {
    /** Longest message taken: sockperf's largest payload (65,507 bytes) with room to spare. */
    public static final int MAX_MESSAGE = 65536;

    /** Receives each whole message. */
    @FunctionalInterface
    public interface MessageHandler {
        /**
         * @param buffer the message's memory, valid only during the call
         * @param offset where its header starts
         * @param length the whole message, header included
         */
        void onMessage(DirectBuffer buffer, int offset, int length);
    }

    private final UnsafeBuffer partial = new UnsafeBuffer(ByteBuffer.allocateDirect(MAX_MESSAGE));
    private int held;
    private boolean broken;
    private long gathered;

    /** Creates a framer with an empty gathering buffer. */
    public SockperfStream() {
    }

    /**
     * Takes the next run of the stream and hands on every message it completes.
     *
     * @param buffer  the run's memory
     * @param offset  where it starts
     * @param length  how many bytes
     * @param handler called once per whole message
     * @return true, or false once the stream has lost its framing (nothing more is handed on)
     */
    public boolean onData(final DirectBuffer buffer, final int offset, final int length, final MessageHandler handler) {
        if (broken) {
            return false;
        }
        int at = offset;
        final int end = offset + length;
        while (at < end) {
            if (held == 0 && end - at >= SockperfHeader.LENGTH) {
                final long size = SockperfHeader.messageLength(buffer, at);
                if (!valid(size)) {
                    broken = true;
                    return false;
                }
                if (size <= end - at) {
                    handler.onMessage(buffer, at, (int) size); // whole in this run: in place
                    at += (int) size;
                    continue;
                }
            }
            at += gather(buffer, at, end - at, handler);
            if (broken) {
                return false;
            }
        }
        return true;
    }

    /** Copies the start of a split message into the gathering buffer; hands it on once whole. */
    private int gather(final DirectBuffer buffer, final int at, final int available, final MessageHandler handler) {
        int used = 0;
        if (held < SockperfHeader.LENGTH) {
            final int n = Math.min(SockperfHeader.LENGTH - held, available);
            partial.putBytes(held, buffer, at, n);
            held += n;
            used = n;
            if (held < SockperfHeader.LENGTH) {
                return used;
            }
            if (!valid(SockperfHeader.messageLength(partial, 0))) {
                broken = true;
                return used;
            }
        }
        final int size = (int) SockperfHeader.messageLength(partial, 0);
        final int n = Math.min(size - held, available - used);
        partial.putBytes(held, buffer, at + used, n);
        held += n;
        used += n;
        if (held == size) {
            held = 0;
            gathered++;
            handler.onMessage(partial, 0, size);
        }
        return used;
    }

    private static boolean valid(final long size) {
        return size >= SockperfHeader.LENGTH && size <= MAX_MESSAGE;
    }

    /** @return true once a length field was out of range: the stream cannot be framed any more */
    public boolean isBroken() {
        return broken;
    }

    /** @return bytes of a message started and not yet complete */
    public int heldBytes() {
        return held;
    }

    /** @return messages that arrived split across runs and were gathered (a copy each) */
    public long gathered() {
        return gathered;
    }
}
