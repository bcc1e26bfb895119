package io.bypass.samples.codec;

import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Writes MoldUDP64 packets into a buffer (see {@link MoldUdp64} for the layout).
 *
 * <pre>{@code
 * enc.wrap(buf, 0, session).sequence(seq);
 * int at = enc.addMessage(MarketMessage.LENGTH);   // payload offset
 * market.wrap(buf, at).encode(...);
 * int length = enc.length();
 * }</pre>
 */
public final class MoldUdp64Encoder {
    private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;
    private MutableDirectBuffer buffer;
    private int offset;
    private int limit;
    private int count;

    /** Creates an unwrapped encoder. */
    public MoldUdp64Encoder() {
    }

    /**
     * Starts a packet: writes the session and a zero count.
     *
     * @param buffer  where to write
     * @param offset  start of the packet
     * @param session 10 ASCII bytes
     * @return this
     */
    public MoldUdp64Encoder wrap(final MutableDirectBuffer buffer, final int offset, final byte[] session) {
        this.buffer = buffer;
        this.offset = offset;
        this.limit = offset + MoldUdp64.HEADER_LENGTH;
        this.count = 0;
        buffer.putBytes(offset, session, 0, MoldUdp64.SESSION_LENGTH);
        buffer.putShort(offset + MoldUdp64.COUNT_OFFSET, (short) 0, BE);
        return this;
    }

    /**
     * @param sequence sequence number of the first message
     * @return this
     */
    public MoldUdp64Encoder sequence(final long sequence) {
        buffer.putLong(offset + MoldUdp64.SEQUENCE_OFFSET, sequence, BE);
        return this;
    }

    /**
     * Appends a message block of {@code length} bytes and bumps the count.
     *
     * @param length payload bytes, 0..65535
     * @return where to write the payload
     */
    public int addMessage(final int length) {
        buffer.putShort(limit, (short) length, BE);
        final int payload = limit + MoldUdp64.LENGTH_PREFIX;
        limit = payload + length;
        count++;
        buffer.putShort(offset + MoldUdp64.COUNT_OFFSET, (short) count, BE);
        return payload;
    }

    /**
     * Makes the packet an end-of-session marker (count 0xFFFF, no messages).
     *
     * @return this
     */
    public MoldUdp64Encoder endOfSession() {
        limit = offset + MoldUdp64.HEADER_LENGTH;
        count = 0;
        buffer.putShort(offset + MoldUdp64.COUNT_OFFSET, (short) MoldUdp64.END_OF_SESSION, BE);
        return this;
    }

    /** @return packet length so far */
    public int length() {
        return limit - offset;
    }

    /** @return messages added */
    public int count() {
        return count;
    }

    /**
     * @param text up to 10 ASCII characters, space padded
     * @return the session bytes
     */
    public static byte[] session(final String text) {
        final byte[] s = new byte[MoldUdp64.SESSION_LENGTH];
        for (int i = 0; i < s.length; i++) {
            s[i] = i < text.length() ? (byte) text.charAt(i) : (byte) ' ';
        }
        return s;
    }
}
