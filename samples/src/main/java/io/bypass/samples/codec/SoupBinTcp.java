package io.bypass.samples.codec;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * A flyweight over one SoupBinTCP 3.00 logical packet, and the encoders for every packet type.
 * Nasdaq's specification (SoupBinTCP Version 3.00, nasdaqtrader.com, also at
 * https://paperzz.com/doc/8412483/soupbintcp---nasdaqtrader.com) frames each packet as
 *
 * <pre>
 *  0 packet length u16 big-endian: the bytes after it (type + payload)
 *  2 packet type
 *  3 payload
 * </pre>
 *
 * and its fixed payloads as ASCII: alpha fields left-justified and padded on the right with
 * spaces, numeric fields right-justified and padded on the left with spaces.
 *
 * <pre>
 * '+' Debug             text
 * 'A' Login Accepted    session alpha[10], sequence number numeric[20] (the next Sequenced Data's)
 * 'J' Login Rejected    reject reason code: 'A' not authorized, 'S' session not available
 * 'S' Sequenced Data    message
 * 'H' Server Heartbeat  -
 * 'Z' End of Session    -
 * 'L' Login Request     username alpha[6], password alpha[10], requested session alpha[10] (blank: the
 *                       current one), requested sequence number numeric[20] (0: from the newest)
 * 'U' Unsequenced Data  message
 * 'R' Client Heartbeat  -
 * 'O' Logout Request    -
 * </pre>
 *
 * Both sides send a heartbeat after one second without sending anything else; a side that
 * hears nothing for longer (the specification suggests 15 seconds) may take the link for dead.
 * The packets do not map onto TCP segments: {@link SoupBinTcpStream} reassembles them.
 *
 * <pre>{@code
 * SoupBinTcp p = new SoupBinTcp();                      // reused
 * if (p.wrap(buffer, offset, length) == SoupBinTcp.VALID && p.type() == SoupBinTcp.SEQUENCED_DATA) {
 *     onMessage(buffer, p.payloadOffset(), p.payloadLength());
 * }
 * }</pre>
 *
 * Nothing here allocates or throws for bad input: {@link #wrap} returns why a packet is malformed.
 */
public final class SoupBinTcp {
    /** Bytes of the length field. */
    public static final int LENGTH_FIELD = 2;
    /** Bytes of the length field and the type. */
    public static final int HEADER_LENGTH = 3;
    /** The longest packet, length field included. */
    public static final int MAX_PACKET_LENGTH = LENGTH_FIELD + 0xFFFF;

    /** Debug: free text. */
    public static final byte DEBUG = '+';
    /** Login Accepted (server). */
    public static final byte LOGIN_ACCEPTED = 'A';
    /** Login Rejected (server). */
    public static final byte LOGIN_REJECTED = 'J';
    /** Sequenced Data (server). */
    public static final byte SEQUENCED_DATA = 'S';
    /** Server Heartbeat. */
    public static final byte SERVER_HEARTBEAT = 'H';
    /** End of Session (server). */
    public static final byte END_OF_SESSION = 'Z';
    /** Login Request (client). */
    public static final byte LOGIN_REQUEST = 'L';
    /** Unsequenced Data (client). */
    public static final byte UNSEQUENCED_DATA = 'U';
    /** Client Heartbeat. */
    public static final byte CLIENT_HEARTBEAT = 'R';
    /** Logout Request (client). */
    public static final byte LOGOUT_REQUEST = 'O';

    /** Login Rejected reason: not authorized (bad username or password). */
    public static final byte REJECT_NOT_AUTHORIZED = 'A';
    /** Login Rejected reason: the requested session is not available. */
    public static final byte REJECT_SESSION_NOT_AVAILABLE = 'S';

    /** Username width. */
    public static final int USERNAME_LENGTH = 6;
    /** Password width. */
    public static final int PASSWORD_LENGTH = 10;
    /** Session width. */
    public static final int SESSION_LENGTH = 10;
    /** Sequence number width. */
    public static final int SEQUENCE_LENGTH = 20;
    /** Login Request's username, from the packet's start. */
    public static final int LOGIN_USERNAME_OFFSET = HEADER_LENGTH;
    /** Login Request's password. */
    public static final int LOGIN_PASSWORD_OFFSET = LOGIN_USERNAME_OFFSET + USERNAME_LENGTH;
    /** Login Request's requested session. */
    public static final int LOGIN_SESSION_OFFSET = LOGIN_PASSWORD_OFFSET + PASSWORD_LENGTH;
    /** Login Request's requested sequence number. */
    public static final int LOGIN_SEQUENCE_OFFSET = LOGIN_SESSION_OFFSET + SESSION_LENGTH;
    /** A whole Login Request. */
    public static final int LOGIN_REQUEST_LENGTH = LOGIN_SEQUENCE_OFFSET + SEQUENCE_LENGTH;
    /** Login Accepted's session. */
    public static final int ACCEPTED_SESSION_OFFSET = HEADER_LENGTH;
    /** Login Accepted's sequence number. */
    public static final int ACCEPTED_SEQUENCE_OFFSET = ACCEPTED_SESSION_OFFSET + SESSION_LENGTH;
    /** A whole Login Accepted. */
    public static final int LOGIN_ACCEPTED_LENGTH = ACCEPTED_SEQUENCE_OFFSET + SEQUENCE_LENGTH;
    /** A whole Login Rejected. */
    public static final int LOGIN_REJECTED_LENGTH = HEADER_LENGTH + 1;
    /** A packet with no payload (heartbeats, End of Session, Logout Request). */
    public static final int EMPTY_LENGTH = HEADER_LENGTH;

    /** {@link #wrap}: a well-formed packet. */
    public static final int VALID = 0;
    /** {@link #wrap}: the length field is 0 (no type byte), or fewer than 3 bytes. */
    public static final int SHORT_LENGTH = 1;
    /** {@link #wrap}: a type SoupBinTCP 3.00 does not define. */
    public static final int UNKNOWN_TYPE = 2;
    /** {@link #wrap}: the length field promises more bytes than there are. */
    public static final int TRUNCATED = 3;
    /** {@link #wrap}: a fixed-size packet (login, heartbeat, ...) of another size. */
    public static final int BAD_LENGTH = 4;
    /** Names of the {@link #wrap} results, by value, as summaries print them. */
    public static final String[] RESULT_NAMES = {"valid", "short_length", "unknown_type", "truncated", "bad_length"};

    private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;

    private DirectBuffer buffer;
    private int offset;
    private int length;

    /** Creates an unwrapped flyweight. */
    public SoupBinTcp() {
    }

    /**
     * Points at the packet starting at {@code offset} and checks it.
     *
     * @param buffer    the bytes
     * @param offset    where the length field starts
     * @param available bytes there from {@code offset}: a packet's own length, or more
     * @return {@link #VALID}, {@link #SHORT_LENGTH}, {@link #UNKNOWN_TYPE}, {@link #TRUNCATED} or {@link #BAD_LENGTH}
     */
    public int wrap(final DirectBuffer buffer, final int offset, final int available) {
        this.buffer = buffer;
        this.offset = offset;
        this.length = 0;
        if (available < LENGTH_FIELD) {
            return SHORT_LENGTH;
        }
        final int declared = LENGTH_FIELD + (buffer.getShort(offset, BE) & 0xFFFF);
        if (declared < HEADER_LENGTH) {
            return SHORT_LENGTH;
        }
        if (available < declared) {
            return TRUNCATED;
        }
        length = declared;
        final int expected = expectedLength(buffer.getByte(offset + LENGTH_FIELD));
        if (expected == -1) {
            return UNKNOWN_TYPE;
        }
        return expected == 0 || expected == declared ? VALID : BAD_LENGTH;
    }

    /**
     * @param type a packet type
     * @return the fixed packet length of that type, 0 if its payload is variable, -1 if the type is unknown
     */
    public static int expectedLength(final byte type) {
        return switch (type) {
            case DEBUG, SEQUENCED_DATA, UNSEQUENCED_DATA -> 0;
            case LOGIN_ACCEPTED -> LOGIN_ACCEPTED_LENGTH;
            case LOGIN_REJECTED -> LOGIN_REJECTED_LENGTH;
            case SERVER_HEARTBEAT, END_OF_SESSION, CLIENT_HEARTBEAT, LOGOUT_REQUEST -> EMPTY_LENGTH;
            case LOGIN_REQUEST -> LOGIN_REQUEST_LENGTH;
            default -> -1;
        };
    }

    /**
     * @param buffer bytes holding at least the length field
     * @param offset where the length field starts
     * @return the whole packet's length as its length field declares, length field included
     */
    public static int framedLength(final DirectBuffer buffer, final int offset) {
        return LENGTH_FIELD + (buffer.getShort(offset, BE) & 0xFFFF);
    }

    /** @return the buffer wrapped */
    public DirectBuffer buffer() {
        return buffer;
    }

    /** @return where the packet starts (its length field) */
    public int offset() {
        return offset;
    }

    /** @return the whole packet's length, length field included; 0 if {@link #wrap} found no whole packet */
    public int length() {
        return length;
    }

    /** @return the packet type */
    public byte type() {
        return buffer.getByte(offset + LENGTH_FIELD);
    }

    /** @return where the payload starts */
    public int payloadOffset() {
        return offset + HEADER_LENGTH;
    }

    /** @return the payload's length */
    public int payloadLength() {
        return length - HEADER_LENGTH;
    }

    /**
     * @param expected a right-padded username, {@link #USERNAME_LENGTH} bytes (see {@link #alpha})
     * @return true if the Login Request carries it
     */
    public boolean usernameEquals(final byte[] expected) {
        return regionEquals(buffer, offset + LOGIN_USERNAME_OFFSET, expected);
    }

    /**
     * @param expected a right-padded password, {@link #PASSWORD_LENGTH} bytes (see {@link #alpha})
     * @return true if the Login Request carries it
     */
    public boolean passwordEquals(final byte[] expected) {
        return regionEquals(buffer, offset + LOGIN_PASSWORD_OFFSET, expected);
    }

    /** @return a Login Request's requested sequence number, -1 if it is not numeric */
    public long requestedSequence() {
        return numeric(buffer, offset + LOGIN_SEQUENCE_OFFSET, SEQUENCE_LENGTH);
    }

    /** @return a Login Accepted's sequence number (of the next Sequenced Data), -1 if it is not numeric */
    public long acceptedSequence() {
        return numeric(buffer, offset + ACCEPTED_SEQUENCE_OFFSET, SEQUENCE_LENGTH);
    }

    /**
     * @param expected a session, {@link #SESSION_LENGTH} bytes as {@link #session} pads it
     * @return true if the Login Accepted names it
     */
    public boolean acceptedSessionEquals(final byte[] expected) {
        return regionEquals(buffer, offset + ACCEPTED_SESSION_OFFSET, expected);
    }

    /** @return a Login Rejected's reason code */
    public byte rejectReason() {
        return buffer.getByte(offset + HEADER_LENGTH);
    }

    private static boolean regionEquals(final DirectBuffer b, final int at, final byte[] expected) {
        for (int i = 0; i < expected.length; i++) {
            if (b.getByte(at + i) != expected[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Reads a numeric field: ASCII digits padded with spaces (left, as the specification says, or
     * right, as some peers send).
     *
     * @param b     buffer
     * @param at    field offset
     * @param width field width
     * @return the value; -1 if the field is blank, holds anything but digits and padding, or overflows
     */
    public static long numeric(final DirectBuffer b, final int at, final int width) {
        int i = 0;
        while (i < width && b.getByte(at + i) == ' ') {
            i++;
        }
        if (i == width) {
            return -1;
        }
        long v = 0;
        for (; i < width; i++) {
            final byte c = b.getByte(at + i);
            if (c == ' ') {
                break;
            }
            if (c < '0' || c > '9' || v > (Long.MAX_VALUE - (c - '0')) / 10) {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        for (; i < width; i++) {
            if (b.getByte(at + i) != ' ') {
                return -1;
            }
        }
        return v;
    }

    /**
     * @param text  ASCII text, at most {@code width} characters
     * @param width field width
     * @return {@code text} left-justified and padded on the right with spaces: an alpha field
     * @throws IllegalArgumentException if too long or not printable ASCII
     */
    public static byte[] alpha(final String text, final int width) {
        if (text.length() > width) {
            throw new IllegalArgumentException("'" + text + "' is longer than " + width + " characters");
        }
        final byte[] b = new byte[width];
        java.util.Arrays.fill(b, (byte) ' ');
        for (int i = 0; i < text.length(); i++) {
            final char c = text.charAt(i);
            if (c < 0x20 || c > 0x7E) {
                throw new IllegalArgumentException("'" + text + "' is not printable ASCII");
            }
            b[i] = (byte) c;
        }
        return b;
    }

    /**
     * @param text a session name, at most {@link #SESSION_LENGTH} characters
     * @return it right-justified and padded on the left with spaces, as Login Accepted's session is
     * @throws IllegalArgumentException if too long or not printable ASCII
     */
    public static byte[] session(final String text) {
        final byte[] left = alpha(text, SESSION_LENGTH);
        final byte[] b = new byte[SESSION_LENGTH];
        java.util.Arrays.fill(b, (byte) ' ');
        System.arraycopy(left, 0, b, SESSION_LENGTH - text.length(), text.length());
        return b;
    }

    /**
     * Writes a numeric field, right-justified and padded on the left with spaces.
     *
     * @param b     buffer
     * @param at    field offset
     * @param width field width
     * @param value 0 or more
     */
    public static void putNumeric(final MutableDirectBuffer b, final int at, final int width, final long value) {
        long v = value;
        int i = width - 1;
        do {
            b.putByte(at + i--, (byte) ('0' + (v % 10)));
            v /= 10;
        } while (v != 0 && i >= 0);
        while (i >= 0) {
            b.putByte(at + i--, (byte) ' ');
        }
    }

    /**
     * Writes a packet header.
     *
     * @param b             buffer
     * @param at            where the packet starts
     * @param type          packet type
     * @param payloadLength bytes of payload that follow, 0..65534
     * @return {@link #HEADER_LENGTH}: where the payload goes, from {@code at}
     */
    public static int putHeader(final MutableDirectBuffer b, final int at, final byte type, final int payloadLength) {
        b.putShort(at, (short) (payloadLength + 1), BE);
        b.putByte(at + LENGTH_FIELD, type);
        return HEADER_LENGTH;
    }

    /**
     * Writes a packet without payload: a heartbeat, End of Session or Logout Request.
     *
     * @param b    buffer
     * @param at   where
     * @param type {@link #SERVER_HEARTBEAT}, {@link #CLIENT_HEARTBEAT}, {@link #END_OF_SESSION} or {@link #LOGOUT_REQUEST}
     * @return {@link #EMPTY_LENGTH}
     */
    public static int putEmpty(final MutableDirectBuffer b, final int at, final byte type) {
        return putHeader(b, at, type, 0);
    }

    /**
     * Writes a Login Request.
     *
     * @param b         buffer
     * @param at        where
     * @param username  {@link #USERNAME_LENGTH} bytes, from {@link #alpha}
     * @param password  {@link #PASSWORD_LENGTH} bytes, from {@link #alpha}
     * @param session   {@link #SESSION_LENGTH} bytes (all spaces: the current session)
     * @param sequence  requested sequence number (0: from the newest)
     * @return {@link #LOGIN_REQUEST_LENGTH}
     */
    public static int putLoginRequest(final MutableDirectBuffer b, final int at, final byte[] username, final byte[] password,
                                      final byte[] session, final long sequence) {
        putHeader(b, at, LOGIN_REQUEST, LOGIN_REQUEST_LENGTH - HEADER_LENGTH);
        b.putBytes(at + LOGIN_USERNAME_OFFSET, username, 0, USERNAME_LENGTH);
        b.putBytes(at + LOGIN_PASSWORD_OFFSET, password, 0, PASSWORD_LENGTH);
        b.putBytes(at + LOGIN_SESSION_OFFSET, session, 0, SESSION_LENGTH);
        putNumeric(b, at + LOGIN_SEQUENCE_OFFSET, SEQUENCE_LENGTH, sequence);
        return LOGIN_REQUEST_LENGTH;
    }

    /**
     * Writes a Login Accepted.
     *
     * @param b        buffer
     * @param at       where
     * @param session  {@link #SESSION_LENGTH} bytes, from {@link #session}
     * @param sequence the sequence number the next Sequenced Data will carry
     * @return {@link #LOGIN_ACCEPTED_LENGTH}
     */
    public static int putLoginAccepted(final MutableDirectBuffer b, final int at, final byte[] session, final long sequence) {
        putHeader(b, at, LOGIN_ACCEPTED, LOGIN_ACCEPTED_LENGTH - HEADER_LENGTH);
        b.putBytes(at + ACCEPTED_SESSION_OFFSET, session, 0, SESSION_LENGTH);
        putNumeric(b, at + ACCEPTED_SEQUENCE_OFFSET, SEQUENCE_LENGTH, sequence);
        return LOGIN_ACCEPTED_LENGTH;
    }

    /**
     * Writes a Login Rejected.
     *
     * @param b      buffer
     * @param at     where
     * @param reason {@link #REJECT_NOT_AUTHORIZED} or {@link #REJECT_SESSION_NOT_AVAILABLE}
     * @return {@link #LOGIN_REJECTED_LENGTH}
     */
    public static int putLoginRejected(final MutableDirectBuffer b, final int at, final byte reason) {
        putHeader(b, at, LOGIN_REJECTED, 1);
        b.putByte(at + HEADER_LENGTH, reason);
        return LOGIN_REJECTED_LENGTH;
    }
}
