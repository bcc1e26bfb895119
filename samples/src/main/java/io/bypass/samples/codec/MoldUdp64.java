package io.bypass.samples.codec;

import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * A read-only flyweight over one MoldUDP64 downstream packet (Nasdaq MoldUDP64 1.0):
 *
 * <pre>
 *   0  session          alpha[10]
 *  10  sequence number  u64 big-endian, of the first message
 *  18  message count    u16 big-endian; 0 = heartbeat, 0xFFFF = end of session
 *  20  message blocks   count x (u16 big-endian length, payload)
 * </pre>
 *
 * {@link #wrap} validates the whole framing before anything is read, so a packet whose
 * lengths overrun it (or leave bytes over) is reported as one of the {@code MALFORMED_*}
 * codes and never half-delivered. Iterate messages with {@link #firstMessage()} and {@link #nextMessage(int)}
 * cursors: no allocation.
 *
 * <pre>{@code
 * if (mold.wrap(buffer, offset, length) == MoldUdp64.VALID) {
 *     for (int i = 0, at = mold.firstMessage(); i < mold.count(); i++, at = mold.nextMessage(at)) {
 *         handle(buffer, mold.payloadOffset(at), mold.payloadLength(at));
 *     }
 * }
 * }</pre>
 */
public final class MoldUdp64 {
    /** Header bytes before the first message block. */
    public static final int HEADER_LENGTH = 20;
    /** Session field width. */
    public static final int SESSION_LENGTH = 10;
    /** Offset of the sequence number. */
    public static final int SEQUENCE_OFFSET = 10;
    /** Offset of the message count. */
    public static final int COUNT_OFFSET = 18;
    /** Message count meaning end of session. */
    public static final int END_OF_SESSION = 0xFFFF;
    /** Bytes of each message block's length prefix. */
    public static final int LENGTH_PREFIX = 2;

    /** The packet is well formed. */
    public static final int VALID = 0;
    /** Shorter than the 20-byte header. */
    public static final int MALFORMED_SHORT_HEADER = 1;
    /** A message block's length runs past the end of the packet. */
    public static final int MALFORMED_OVERRUN = 2;
    /** Bytes left over after the counted messages. */
    public static final int MALFORMED_TRAILING = 3;
    /** A heartbeat or end-of-session packet carries message bytes. */
    public static final int MALFORMED_CONTROL_WITH_DATA = 4;

    private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;

    private DirectBuffer buffer;
    private int offset;
    private int length;
    private int count;

    /** Creates an unwrapped flyweight. */
    public MoldUdp64() {
    }

    /**
     * Points at a packet and validates its framing.
     *
     * @param buffer the packet's memory
     * @param offset where the UDP payload starts
     * @param length UDP payload length
     * @return {@link #VALID} or a {@code MALFORMED_*} code
     */
    public int wrap(final DirectBuffer buffer, final int offset, final int length) {
        this.buffer = buffer;
        this.offset = offset;
        this.length = length;
        this.count = 0;
        if (length < HEADER_LENGTH) {
            return MALFORMED_SHORT_HEADER;
        }
        final int c = buffer.getShort(offset + COUNT_OFFSET, BE) & 0xFFFF;
        count = c;
        if (c == 0 || c == END_OF_SESSION) {
            return length == HEADER_LENGTH ? VALID : MALFORMED_CONTROL_WITH_DATA;
        }
        final int end = offset + length;
        int at = offset + HEADER_LENGTH;
        for (int i = 0; i < c; i++) {
            if (at + LENGTH_PREFIX > end) {
                return MALFORMED_OVERRUN;
            }
            final int len = buffer.getShort(at, BE) & 0xFFFF;
            at += LENGTH_PREFIX + len;
            if (at > end) {
                return MALFORMED_OVERRUN;
            }
        }
        return at == end ? VALID : MALFORMED_TRAILING;
    }

    /**
     * @param code a result of {@link #wrap}
     * @return a short description
     */
    public static String describe(final int code) {
        return switch (code) {
            case VALID -> "valid";
            case MALFORMED_SHORT_HEADER -> "shorter than the 20-byte header";
            case MALFORMED_OVERRUN -> "message length runs past the packet";
            case MALFORMED_TRAILING -> "bytes left after the counted messages";
            case MALFORMED_CONTROL_WITH_DATA -> "heartbeat or end-of-session with data";
            default -> "unknown code " + code;
        };
    }

    /** @return sequence number of the first message (or the next expected, for a heartbeat) */
    public long sequence() {
        return buffer.getLong(offset + SEQUENCE_OFFSET, BE);
    }

    /** @return raw message count field */
    public int count() {
        return count;
    }

    /** @return number of messages carried: 0 for heartbeat and end of session */
    public int messageCount() {
        return count == END_OF_SESSION ? 0 : count;
    }

    /** @return true for a heartbeat (count 0) */
    public boolean isHeartbeat() {
        return count == 0;
    }

    /** @return true for an end-of-session packet (count 0xFFFF) */
    public boolean isEndOfSession() {
        return count == END_OF_SESSION;
    }

    /**
     * @param session 10 ASCII bytes
     * @return true if this packet's session equals it
     */
    public boolean sessionEquals(final byte[] session) {
        for (int i = 0; i < SESSION_LENGTH; i++) {
            if (buffer.getByte(offset + i) != session[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Copies the session into {@code dst}.
     *
     * @param dst at least 10 bytes
     */
    public void getSession(final byte[] dst) {
        buffer.getBytes(offset, dst, 0, SESSION_LENGTH);
    }

    /** @return the cursor of the first message block */
    public int firstMessage() {
        return offset + HEADER_LENGTH;
    }

    /**
     * @param cursor a message block cursor
     * @return the next block's cursor
     */
    public int nextMessage(final int cursor) {
        return cursor + LENGTH_PREFIX + payloadLength(cursor);
    }

    /**
     * @param cursor a message block cursor
     * @return where its payload starts in the buffer
     */
    public int payloadOffset(final int cursor) {
        return cursor + LENGTH_PREFIX;
    }

    /**
     * @param cursor a message block cursor
     * @return its payload length
     */
    public int payloadLength(final int cursor) {
        return buffer.getShort(cursor, BE) & 0xFFFF;
    }

    /** @return the wrapped buffer */
    public DirectBuffer buffer() {
        return buffer;
    }
}
