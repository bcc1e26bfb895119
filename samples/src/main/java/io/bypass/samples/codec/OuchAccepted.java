package io.bypass.samples.codec;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * An OUCH 4.2 Accepted message, 66 bytes big-endian, which {@code exchange} sends back for each
 * Enter Order as the payload of a SoupBinTCP Sequenced Data packet. Layout from Nasdaq's OUCH 4.2
 * specification (section 2.2.2, Accepted Message;
 * https://www.nasdaqtrader.com/content/technicalsupport/specifications/TradingProducts/OUCH4.2.pdf):
 *
 * <pre>
 *  0 type 'A'                  1 timestamp u64 (ns since midnight)   9 order token alpha[14]
 * 23 buy/sell                 24 shares u32                         28 stock alpha[8]
 * 36 price u32 (4 decimals)   40 time in force u32                  44 firm alpha[4]
 * 48 display                  49 order reference number u64         57 capacity
 * 58 intermarket sweep        59 minimum quantity u32               63 cross type
 * 64 order state 'L' live | 'D' dead                                65 BBO weight indicator
 * </pre>
 *
 * Static methods over the buffer, allocation-free.
 */
public final class OuchAccepted {
    /** Message bytes. */
    public static final int LENGTH = 66;
    /** Type byte. */
    public static final byte TYPE = 'A';
    /** Offset of the timestamp. */
    public static final int TIMESTAMP_OFFSET = 1;
    /** Offset of the order token. */
    public static final int TOKEN_OFFSET = 9;
    /** Offset of the side. */
    public static final int SIDE_OFFSET = 23;
    /** Offset of the shares. */
    public static final int SHARES_OFFSET = 24;
    /** Offset of the stock. */
    public static final int STOCK_OFFSET = 28;
    /** Offset of the price. */
    public static final int PRICE_OFFSET = 36;
    /** Offset of the time in force. */
    public static final int TIF_OFFSET = 40;
    /** Offset of the firm. */
    public static final int FIRM_OFFSET = 44;
    /** Offset of the display. */
    public static final int DISPLAY_OFFSET = 48;
    /** Offset of the order reference number. */
    public static final int ORDER_REF_OFFSET = 49;
    /** Offset of the capacity. */
    public static final int CAPACITY_OFFSET = 57;
    /** Offset of the intermarket sweep eligibility. */
    public static final int ISS_OFFSET = 58;
    /** Offset of the minimum quantity. */
    public static final int MIN_QTY_OFFSET = 59;
    /** Offset of the cross type. */
    public static final int CROSS_OFFSET = 63;
    /** Offset of the order state. */
    public static final int STATE_OFFSET = 64;
    /** Offset of the BBO weight indicator. */
    public static final int BBO_WEIGHT_OFFSET = 65;
    /** Order state: dead (an IOC order that did not rest). */
    public static final byte STATE_DEAD = 'D';

    private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;

    private OuchAccepted() {
    }

    /**
     * Writes the Accepted for an Enter Order, copying its fields.
     *
     * @param b         buffer
     * @param at        offset
     * @param order     the Enter Order's buffer
     * @param orderAt   its offset (a whole {@link EnterOrder})
     * @param timestamp nanoseconds since midnight
     * @param orderRef  the exchange's order reference number
     * @param state     order state, 'L' or 'D'
     * @return {@link #LENGTH}
     */
    public static int encode(final MutableDirectBuffer b, final int at, final DirectBuffer order, final int orderAt,
                             final long timestamp, final long orderRef, final byte state) {
        b.putByte(at, TYPE);
        b.putLong(at + TIMESTAMP_OFFSET, timestamp, BE);
        // token .. display: the same fields in the same order as the Enter Order's
        b.putBytes(at + TOKEN_OFFSET, order, orderAt + EnterOrder.TOKEN_OFFSET, EnterOrder.DISPLAY_OFFSET + 1 - EnterOrder.TOKEN_OFFSET);
        b.putLong(at + ORDER_REF_OFFSET, orderRef, BE);
        b.putBytes(at + CAPACITY_OFFSET, order, orderAt + EnterOrder.CAPACITY_OFFSET, EnterOrder.CROSS_OFFSET + 1 - EnterOrder.CAPACITY_OFFSET);
        b.putByte(at + STATE_OFFSET, state);
        b.putByte(at + BBO_WEIGHT_OFFSET, (byte) ' ');
        return LENGTH;
    }

    /**
     * @param b      buffer
     * @param at     offset
     * @param length message length
     * @return true if it is a complete Accepted
     */
    public static boolean isAccepted(final DirectBuffer b, final int at, final int length) {
        return length == LENGTH && b.getByte(at) == TYPE;
    }

    /**
     * Reads the token as a number, as {@link EnterOrder#token} does.
     *
     * @param b  buffer
     * @param at offset of a complete Accepted
     * @return the token, or -1 if it is not 14 decimal digits
     */
    public static long token(final DirectBuffer b, final int at) {
        return EnterOrder.token(b, at + TOKEN_OFFSET - EnterOrder.TOKEN_OFFSET);
    }

    /**
     * @param b  buffer
     * @param at offset
     * @return the order reference number
     */
    public static long orderRef(final DirectBuffer b, final int at) {
        return b.getLong(at + ORDER_REF_OFFSET, BE);
    }

    /**
     * @param b  buffer
     * @param at offset
     * @return shares
     */
    public static int shares(final DirectBuffer b, final int at) {
        return b.getInt(at + SHARES_OFFSET, BE);
    }

    /**
     * @param b  buffer
     * @param at offset
     * @return price in 1/10000
     */
    public static int price(final DirectBuffer b, final int at) {
        return b.getInt(at + PRICE_OFFSET, BE);
    }

    /**
     * @param b  buffer
     * @param at offset
     * @return order state
     */
    public static byte state(final DirectBuffer b, final int at) {
        return b.getByte(at + STATE_OFFSET);
    }
}
