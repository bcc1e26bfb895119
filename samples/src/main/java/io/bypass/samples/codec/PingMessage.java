package io.bypass.samples.codec;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * The ping-pong order and its acknowledgement: 32 bytes, big-endian.
 *
 * <pre>
 *  0 type 'O' (order) or 'K' (ack)    1 magic "BYPS" (4)   5 reserved (3)
 *  8 sequence u64                    16 client send time u64 (echoed)
 * 24 server receive time u64 (0 in the order)
 * </pre>
 *
 * The magic keeps it apart from sockperf's header on the same server port.
 */
public final class PingMessage {
    /** Message bytes. */
    public static final int LENGTH = 32;
    /** Type of a client's order. */
    public static final byte ORDER = 'O';
    /** Type of the server's acknowledgement. */
    public static final byte ACK = 'K';
    /** Magic at offset 1, "BYPS" as a big-endian int. */
    public static final int MAGIC = 0x42595053;
    /** Offset of the sequence number. */
    public static final int SEQUENCE_OFFSET = 8;
    /** Offset of the client's send time. */
    public static final int SEND_TIME_OFFSET = 16;
    /** Offset of the server's receive time. */
    public static final int SERVER_TIME_OFFSET = 24;

    private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;

    private PingMessage() {
    }

    /**
     * Writes a message.
     *
     * @param b          buffer
     * @param at         offset
     * @param type       {@link #ORDER} or {@link #ACK}
     * @param sequence   sequence number
     * @param sendNanos  client's send time
     * @param serverNanos server's receive time, 0 in an order
     */
    public static void encode(final MutableDirectBuffer b, final int at, final byte type, final long sequence,
                              final long sendNanos, final long serverNanos) {
        b.putByte(at, type);
        b.putInt(at + 1, MAGIC, BE);
        b.putByte(at + 5, (byte) 0);
        b.putShort(at + 6, (short) 0, BE);
        b.putLong(at + SEQUENCE_OFFSET, sequence, BE);
        b.putLong(at + SEND_TIME_OFFSET, sendNanos, BE);
        b.putLong(at + SERVER_TIME_OFFSET, serverNanos, BE);
    }

    /**
     * @param b      buffer
     * @param at     offset
     * @param length datagram length
     * @param type   expected type
     * @return true if it is a complete message of that type
     */
    public static boolean is(final DirectBuffer b, final int at, final int length, final byte type) {
        return length == LENGTH && b.getByte(at) == type && b.getInt(at + 1, BE) == MAGIC;
    }

    /**
     * @param b  buffer
     * @param at offset
     * @return sequence number
     */
    public static long sequence(final DirectBuffer b, final int at) {
        return b.getLong(at + SEQUENCE_OFFSET, BE);
    }

    /**
     * @param b  buffer
     * @param at offset
     * @return the client's send time
     */
    public static long sendNanos(final DirectBuffer b, final int at) {
        return b.getLong(at + SEND_TIME_OFFSET, BE);
    }
}
