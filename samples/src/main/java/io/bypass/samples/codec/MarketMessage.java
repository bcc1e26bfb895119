package io.bypass.samples.codec;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * The synthetic feed's message: an ITCH-like Add Order, big-endian, 39 bytes. Unlike
 * ITCH its timestamp is the sender's wall clock in epoch nanoseconds, so the receiver
 * can measure wire-to-handler latency, and a flag marks a trigger for tick-to-trade.
 *
 * <pre>
 *   0 type 'A'          1 flags (bit 0 = trigger)   2 stock locate u16
 *   4 tracking u16      6 send time u64 epoch ns   14 order reference u64
 *  22 side 'B'|'S'     23 shares u32               27 stock alpha[8]
 *  35 price u32 (1/10000 dollars)
 * </pre>
 */
public final class MarketMessage {
    /** Message bytes. */
    public static final int LENGTH = 39;
    /** Type byte of the add-order message. */
    public static final byte TYPE_ADD_ORDER = 'A';
    /** Flag bit: a trigger the strategy answers with an order. */
    public static final int FLAG_TRIGGER = 1;
    /** Offset of the type. */
    public static final int TYPE_OFFSET = 0;
    /** Offset of the flags. */
    public static final int FLAGS_OFFSET = 1;
    /** Offset of the stock locate. */
    public static final int LOCATE_OFFSET = 2;
    /** Offset of the tracking number. */
    public static final int TRACKING_OFFSET = 4;
    /** Offset of the send time. */
    public static final int TIMESTAMP_OFFSET = 6;
    /** Offset of the order reference. */
    public static final int ORDER_REF_OFFSET = 14;
    /** Offset of the side. */
    public static final int SIDE_OFFSET = 22;
    /** Offset of the shares. */
    public static final int SHARES_OFFSET = 23;
    /** Offset of the stock symbol. */
    public static final int STOCK_OFFSET = 27;
    /** Offset of the price. */
    public static final int PRICE_OFFSET = 35;

    private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;

    private MarketMessage() {
    }

    /**
     * Writes an add-order message.
     *
     * @param b         buffer
     * @param at        offset
     * @param flags     {@link #FLAG_TRIGGER} or 0
     * @param sendNanos sender's epoch nanoseconds
     * @param orderRef  order reference number
     * @param side      'B' or 'S'
     * @param shares    quantity
     * @param stock     8 ASCII bytes
     * @param price     price in 1/10000
     */
    public static void encode(final MutableDirectBuffer b, final int at, final int flags, final long sendNanos,
                              final long orderRef, final byte side, final int shares, final byte[] stock, final int price) {
        b.putByte(at + TYPE_OFFSET, TYPE_ADD_ORDER);
        b.putByte(at + FLAGS_OFFSET, (byte) flags);
        b.putShort(at + LOCATE_OFFSET, (short) 1, BE);
        b.putShort(at + TRACKING_OFFSET, (short) 0, BE);
        b.putLong(at + TIMESTAMP_OFFSET, sendNanos, BE);
        b.putLong(at + ORDER_REF_OFFSET, orderRef, BE);
        b.putByte(at + SIDE_OFFSET, side);
        b.putInt(at + SHARES_OFFSET, shares, BE);
        b.putBytes(at + STOCK_OFFSET, stock, 0, 8);
        b.putInt(at + PRICE_OFFSET, price, BE);
    }

    /**
     * @param b      buffer
     * @param at     offset
     * @param length message length
     * @return true if it is a complete add-order message
     */
    public static boolean isAddOrder(final DirectBuffer b, final int at, final int length) {
        return length >= LENGTH && b.getByte(at + TYPE_OFFSET) == TYPE_ADD_ORDER;
    }

    /**
     * @param b  buffer
     * @param at offset of a complete message
     * @return true if its trigger flag is set
     */
    public static boolean isTrigger(final DirectBuffer b, final int at) {
        return (b.getByte(at + FLAGS_OFFSET) & FLAG_TRIGGER) != 0;
    }

    /**
     * @param b  buffer
     * @param at offset of a complete message
     * @return the sender's epoch nanoseconds
     */
    public static long sendNanos(final DirectBuffer b, final int at) {
        return b.getLong(at + TIMESTAMP_OFFSET, BE);
    }

    /**
     * Rewrites a message's send time (a replay or a warm-up stamping it anew).
     *
     * @param b         buffer
     * @param at        offset of a complete message
     * @param sendNanos the sender's epoch nanoseconds
     */
    public static void setSendNanos(final MutableDirectBuffer b, final int at, final long sendNanos) {
        b.putLong(at + TIMESTAMP_OFFSET, sendNanos, BE);
    }

    /**
     * @param b  buffer
     * @param at offset of a complete message
     * @return order reference number
     */
    public static long orderRef(final DirectBuffer b, final int at) {
        return b.getLong(at + ORDER_REF_OFFSET, BE);
    }

    /**
     * @param b  buffer
     * @param at offset of a complete message
     * @return side byte
     */
    public static byte side(final DirectBuffer b, final int at) {
        return b.getByte(at + SIDE_OFFSET);
    }

    /**
     * @param b  buffer
     * @param at offset of a complete message
     * @return shares
     */
    public static int shares(final DirectBuffer b, final int at) {
        return b.getInt(at + SHARES_OFFSET, BE);
    }

    /**
     * @param b  buffer
     * @param at offset of a complete message
     * @return price in 1/10000
     */
    public static int price(final DirectBuffer b, final int at) {
        return b.getInt(at + PRICE_OFFSET, BE);
    }
}
