package io.bypass.samples.codec;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * An OUCH 4.2 Enter Order, 49 bytes big-endian, sent by {@code trade} to {@code exchange} as the
 * payload of a SoupBinTCP Unsequenced Data packet ({@link SoupBinTcp}). Layout from Nasdaq's
 * OUCH 4.2 specification (section 2.1, Enter Order Message;
 * https://www.nasdaqtrader.com/content/technicalsupport/specifications/TradingProducts/OUCH4.2.pdf),
 * as Wireshark's OUCH dissector also reads it:
 *
 * <pre>
 *  0 type 'O'            1 order token alpha[14]   15 side 'B'|'S'
 * 16 shares u32         20 stock alpha[8]          28 price u32
 * 32 time in force u32  36 firm alpha[4]           40 display
 * 41 capacity           42 intermarket sweep       43 minimum quantity u32
 * 47 cross type         48 customer type
 * </pre>
 *
 * Integers are unsigned big-endian; price has 4 implied decimals; alpha fields are ASCII padded on
 * the right with spaces. The token carries the trigger's order reference as 14 decimal digits so
 * the exchange can match the order to the trigger it sent, without allocation.
 */
public final class EnterOrder {
    /** Message bytes. */
    public static final int LENGTH = 49;
    /** Type byte. */
    public static final byte TYPE = 'O';
    /** Offset of the order token. */
    public static final int TOKEN_OFFSET = 1;
    /** Token width. */
    public static final int TOKEN_LENGTH = 14;
    /** Offset of the side. */
    public static final int SIDE_OFFSET = 15;
    /** Offset of the shares. */
    public static final int SHARES_OFFSET = 16;
    /** Offset of the stock. */
    public static final int STOCK_OFFSET = 20;
    /** Offset of the price. */
    public static final int PRICE_OFFSET = 28;
    /** Offset of the time in force. */
    public static final int TIF_OFFSET = 32;
    /** Offset of the firm. */
    public static final int FIRM_OFFSET = 36;
    /** Offset of the display flag. */
    public static final int DISPLAY_OFFSET = 40;
    /** Offset of the capacity. */
    public static final int CAPACITY_OFFSET = 41;
    /** Offset of the intermarket sweep eligibility. */
    public static final int ISS_OFFSET = 42;
    /** Offset of the minimum quantity. */
    public static final int MIN_QTY_OFFSET = 43;
    /** Offset of the cross type. */
    public static final int CROSS_OFFSET = 47;
    /** Offset of the customer type. */
    public static final int CUSTOMER_OFFSET = 48;
    /** Time in force: immediate or cancel. */
    public static final int TIF_IOC = 0;

    private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;

    private EnterOrder() {
    }

    /**
     * Writes an Enter Order.
     *
     * @param b      buffer
     * @param at     offset
     * @param token  order token, written as 14 decimal digits (0..10^14-1)
     * @param side   'B' or 'S'
     * @param shares quantity
     * @param stock  8 ASCII bytes
     * @param price  price in 1/10000
     * @param firm   4 ASCII bytes
     */
    public static void encode(final MutableDirectBuffer b, final int at, final long token, final byte side,
                              final int shares, final byte[] stock, final int price, final byte[] firm) {
        b.putByte(at, TYPE);
        long t = token;
        for (int i = TOKEN_LENGTH - 1; i >= 0; i--) {
            b.putByte(at + TOKEN_OFFSET + i, (byte) ('0' + (t % 10)));
            t /= 10;
        }
        b.putByte(at + SIDE_OFFSET, side);
        b.putInt(at + SHARES_OFFSET, shares, BE);
        b.putBytes(at + STOCK_OFFSET, stock, 0, 8);
        b.putInt(at + PRICE_OFFSET, price, BE);
        b.putInt(at + TIF_OFFSET, TIF_IOC, BE);
        b.putBytes(at + FIRM_OFFSET, firm, 0, 4);
        b.putByte(at + DISPLAY_OFFSET, (byte) 'Y');
        b.putByte(at + CAPACITY_OFFSET, (byte) 'P');
        b.putByte(at + ISS_OFFSET, (byte) 'N');
        b.putInt(at + MIN_QTY_OFFSET, 0, BE);
        b.putByte(at + CROSS_OFFSET, (byte) 'N');
        b.putByte(at + CUSTOMER_OFFSET, (byte) 'R');
    }

    /**
     * @param b      buffer
     * @param at     offset
     * @param length message length
     * @return true if it is a complete Enter Order
     */
    public static boolean isEnterOrder(final DirectBuffer b, final int at, final int length) {
        return length == LENGTH && b.getByte(at) == TYPE;
    }

    /**
     * Reads the token as a number.
     *
     * @param b  buffer
     * @param at offset of a complete order
     * @return the token, or -1 if it is not 14 decimal digits
     */
    public static long token(final DirectBuffer b, final int at) {
        long t = 0;
        for (int i = 0; i < TOKEN_LENGTH; i++) {
            final int d = b.getByte(at + TOKEN_OFFSET + i) - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            t = t * 10 + d;
        }
        return t;
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
     * @return side byte
     */
    public static byte side(final DirectBuffer b, final int at) {
        return b.getByte(at + SIDE_OFFSET);
    }
}
