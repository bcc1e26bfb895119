package io.bypass.samples.codec;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * sockperf's message header (sockperf 3.x {@code MsgHeader}, packed, network byte order):
 *
 * <pre>
 *  0 sequence number u64
 *  8 flags u16: 1 = client, 2 = pong request, 4 = warm-up
 * 10 message length u32 (the whole datagram, header included)
 * 14 payload
 * </pre>
 *
 * A sockperf server ignores messages without the client bit and warm-up messages, and
 * answers a pong request by clearing the client bit and sending the whole message back
 * to the sender. {@link #toReply} does exactly that in place.
 */
public final class SockperfHeader {
    /** Header bytes (sockperf's EFFECTIVE_SIZE). */
    public static final int LENGTH = 14;
    /** Flag: sent by a client. */
    public static final int FLAG_CLIENT = 1;
    /** Flag: the client wants this message echoed. */
    public static final int FLAG_PONG_REQUEST = 2;
    /** Flag: warm-up message, never answered. */
    public static final int FLAG_WARMUP = 4;
    /** Offset of the flags. */
    public static final int FLAGS_OFFSET = 8;
    /** Offset of the length. */
    public static final int LENGTH_OFFSET = 10;

    private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;

    private SockperfHeader() {
    }

    /**
     * @param b      buffer
     * @param at     offset
     * @param length datagram length
     * @return true if sockperf would answer it: a client pong request, not warm-up,
     *         whose length field matches the datagram
     */
    public static boolean wantsReply(final DirectBuffer b, final int at, final int length) {
        if (length < LENGTH) {
            return false;
        }
        final int flags = flags(b, at);
        return (flags & FLAG_CLIENT) != 0 && (flags & FLAG_PONG_REQUEST) != 0 && (flags & FLAG_WARMUP) == 0
            && messageLength(b, at) == length;
    }

    /**
     * @param b  buffer
     * @param at offset
     * @return true if the client bit is set
     */
    public static boolean isClient(final DirectBuffer b, final int at) {
        return (flags(b, at) & FLAG_CLIENT) != 0;
    }

    /**
     * @param b  buffer
     * @param at offset
     * @return the flags
     */
    public static int flags(final DirectBuffer b, final int at) {
        return b.getShort(at + FLAGS_OFFSET, BE) & 0xFFFF;
    }

    /**
     * @param b  buffer
     * @param at offset
     * @return the length field
     */
    public static long messageLength(final DirectBuffer b, final int at) {
        return b.getInt(at + LENGTH_OFFSET, BE) & 0xFFFFFFFFL;
    }

    /**
     * @param b  buffer
     * @param at offset
     * @return the sequence number
     */
    public static long sequence(final DirectBuffer b, final int at) {
        return b.getLong(at, BE);
    }

    /**
     * Turns a copied request into the server's reply: clears the client bit.
     *
     * @param b  buffer holding a copy of the request
     * @param at offset
     */
    public static void toReply(final MutableDirectBuffer b, final int at) {
        b.putShort(at + FLAGS_OFFSET, (short) (flags(b, at) & ~FLAG_CLIENT), BE);
    }

    /**
     * Writes a client header, for tests and clients.
     *
     * @param b        buffer
     * @param at       offset
     * @param sequence sequence number
     * @param flags    flags
     * @param length   whole message length
     */
    public static void encode(final MutableDirectBuffer b, final int at, final long sequence, final int flags, final int length) {
        b.putLong(at, sequence, BE);
        b.putShort(at + FLAGS_OFFSET, (short) flags, BE);
        b.putInt(at + LENGTH_OFFSET, length, BE);
    }
}
