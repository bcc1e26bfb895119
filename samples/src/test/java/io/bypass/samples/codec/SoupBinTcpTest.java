package io.bypass.samples.codec;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SoupBinTCP 3.00 packets byte for byte as the specification lays them out, and malformed ones classified. */
class SoupBinTcpTest {
    private final UnsafeBuffer b = new UnsafeBuffer(new byte[256]);
    private final SoupBinTcp p = new SoupBinTcp();

    private String ascii(final int at, final int len) {
        final byte[] out = new byte[len];
        b.getBytes(at, out);
        return new String(out, StandardCharsets.US_ASCII);
    }

    @Test
    void loginRequestRoundTripAndPadding() {
        final int n = SoupBinTcp.putLoginRequest(b, 0, SoupBinTcp.alpha("TRADER", 6), SoupBinTcp.alpha("secret", 10),
            SoupBinTcp.alpha("", 10), 42);
        assertEquals(49, n);
        assertEquals(47, b.getShort(0, ByteOrder.BIG_ENDIAN), "length excludes itself, includes the type");
        assertEquals('L', b.getByte(2));
        assertEquals("TRADERsecret              " + " ".repeat(18) + "42", ascii(3, 46));
        assertEquals(SoupBinTcp.VALID, p.wrap(b, 0, n));
        assertEquals(SoupBinTcp.LOGIN_REQUEST, p.type());
        assertTrue(p.usernameEquals(SoupBinTcp.alpha("TRADER", 6)));
        assertTrue(p.passwordEquals(SoupBinTcp.alpha("secret", 10)));
        assertFalse(p.passwordEquals(SoupBinTcp.alpha("secreT", 10)));
        assertEquals(42, p.requestedSequence());
        assertEquals(46, p.payloadLength());
    }

    @Test
    void loginAcceptedRejectedAndEmptyPackets() {
        int n = SoupBinTcp.putLoginAccepted(b, 0, SoupBinTcp.session("EXCH01"), 1);
        assertEquals(33, n);
        assertEquals("    EXCH01" + " ".repeat(19) + "1", ascii(3, 30));
        assertEquals(SoupBinTcp.VALID, p.wrap(b, 0, n));
        assertEquals(SoupBinTcp.LOGIN_ACCEPTED, p.type());
        assertEquals(1, p.acceptedSequence());
        assertTrue(p.acceptedSessionEquals(SoupBinTcp.session("EXCH01")));

        n = SoupBinTcp.putLoginRejected(b, 0, SoupBinTcp.REJECT_NOT_AUTHORIZED);
        assertArrayEquals(new byte[] {0, 2, 'J', 'A'}, bytes(n));
        assertEquals(SoupBinTcp.VALID, p.wrap(b, 0, n));
        assertEquals('A', p.rejectReason());

        for (final byte t : new byte[] {'H', 'R', 'Z', 'O'}) {
            n = SoupBinTcp.putEmpty(b, 0, t);
            assertArrayEquals(new byte[] {0, 1, t}, bytes(n));
            assertEquals(SoupBinTcp.VALID, p.wrap(b, 0, n));
            assertEquals(t, p.type());
            assertEquals(0, p.payloadLength());
        }
    }

    @Test
    void dataPacketsCarryTheirMessage() {
        final int h = SoupBinTcp.putHeader(b, 10, SoupBinTcp.UNSEQUENCED_DATA, EnterOrder.LENGTH);
        EnterOrder.encode(b, 10 + h, 7, (byte) 'B', 100, "BYPS    ".getBytes(), 10_000, "BYPS".getBytes());
        assertEquals(SoupBinTcp.VALID, p.wrap(b, 10, 3 + EnterOrder.LENGTH + 20), "bytes after the packet are not its own");
        assertEquals(3 + 49, p.length());
        assertEquals(13, p.payloadOffset());
        assertTrue(EnterOrder.isEnterOrder(b, p.payloadOffset(), p.payloadLength()));
        assertEquals(7, EnterOrder.token(b, p.payloadOffset()));
        SoupBinTcp.putHeader(b, 0, SoupBinTcp.DEBUG, 5);
        b.putStringWithoutLengthAscii(3, "hello");
        assertEquals(SoupBinTcp.VALID, p.wrap(b, 0, 8));
        assertEquals("hello", ascii(p.payloadOffset(), p.payloadLength()));
    }

    @Test
    void malformedPacketsAreClassifiedNotThrown() {
        b.putShort(0, (short) 0, ByteOrder.BIG_ENDIAN);
        assertEquals(SoupBinTcp.SHORT_LENGTH, p.wrap(b, 0, 2), "length 0 leaves no room for the type");
        assertEquals(SoupBinTcp.SHORT_LENGTH, p.wrap(b, 0, 1), "one byte is not even a length field");
        SoupBinTcp.putEmpty(b, 0, (byte) 'Q');
        assertEquals(SoupBinTcp.UNKNOWN_TYPE, p.wrap(b, 0, 3));
        assertEquals("unknown_type", SoupBinTcp.RESULT_NAMES[SoupBinTcp.UNKNOWN_TYPE]);
        SoupBinTcp.putLoginRequest(b, 0, SoupBinTcp.alpha("A", 6), SoupBinTcp.alpha("B", 10), SoupBinTcp.alpha("", 10), 0);
        assertEquals(SoupBinTcp.TRUNCATED, p.wrap(b, 0, 48), "one byte short of the declared 49");
        SoupBinTcp.putHeader(b, 0, SoupBinTcp.SERVER_HEARTBEAT, 4);
        assertEquals(SoupBinTcp.BAD_LENGTH, p.wrap(b, 0, 7), "a heartbeat has no payload");
        SoupBinTcp.putHeader(b, 0, SoupBinTcp.LOGIN_REQUEST, 10);
        assertEquals(SoupBinTcp.BAD_LENGTH, p.wrap(b, 0, 13), "a login request of the wrong size");
    }

    @Test
    void numericFields() {
        SoupBinTcp.putNumeric(b, 0, 20, 0);
        assertEquals(" ".repeat(19) + "0", ascii(0, 20));
        assertEquals(0, SoupBinTcp.numeric(b, 0, 20));
        SoupBinTcp.putNumeric(b, 0, 20, Long.MAX_VALUE);
        assertEquals(Long.MAX_VALUE, SoupBinTcp.numeric(b, 0, 20));
        b.putStringWithoutLengthAscii(0, "17                  ");
        assertEquals(17, SoupBinTcp.numeric(b, 0, 20), "left-justified, as some peers send it");
        b.putStringWithoutLengthAscii(0, "        ");
        assertEquals(-1, SoupBinTcp.numeric(b, 0, 8), "blank");
        b.putStringWithoutLengthAscii(0, "  1 2   ");
        assertEquals(-1, SoupBinTcp.numeric(b, 0, 8), "digits after padding");
        b.putStringWithoutLengthAscii(0, "99999999999999999999");
        assertEquals(-1, SoupBinTcp.numeric(b, 0, 20), "overflow");
        assertThrows(IllegalArgumentException.class, () -> SoupBinTcp.alpha("SEVENCH", 6));
    }

    @Test
    void ouchAcceptedCopiesTheOrder() {
        EnterOrder.encode(b, 0, 12345678901234L, (byte) 'S', 300, "AAPL    ".getBytes(), 1_500_000, "FIRM".getBytes());
        final UnsafeBuffer a = new UnsafeBuffer(new byte[80]);
        assertEquals(66, OuchAccepted.encode(a, 0, b, 0, 3_600_000_000_000L, 99, OuchAccepted.STATE_DEAD));
        assertTrue(OuchAccepted.isAccepted(a, 0, 66));
        assertFalse(OuchAccepted.isAccepted(a, 0, 65));
        assertEquals(3_600_000_000_000L, a.getLong(1, ByteOrder.BIG_ENDIAN));
        assertEquals(12345678901234L, OuchAccepted.token(a, 0));
        assertEquals('S', a.getByte(23));
        assertEquals(300, OuchAccepted.shares(a, 0));
        assertEquals('A', a.getByte(28));
        assertEquals(1_500_000, OuchAccepted.price(a, 0));
        assertEquals('F', a.getByte(44));
        assertEquals('Y', a.getByte(48));
        assertEquals(99, OuchAccepted.orderRef(a, 0));
        assertEquals('P', a.getByte(57));
        assertEquals('N', a.getByte(58));
        assertEquals('N', a.getByte(63));
        assertEquals('D', OuchAccepted.state(a, 0));
    }

    private byte[] bytes(final int n) {
        final byte[] out = new byte[n];
        b.getBytes(0, out);
        return out;
    }

    /** Every packet type, back to back, cut at every byte boundary, comes out whole and in order. */
    @Test
    void streamSplitAtEveryByteBoundary() {
        final UnsafeBuffer s = new UnsafeBuffer(new byte[512]);
        int len = 0;
        len += SoupBinTcp.putLoginAccepted(s, len, SoupBinTcp.session("S1"), 5);
        len += SoupBinTcp.putEmpty(s, len, SoupBinTcp.SERVER_HEARTBEAT);
        len += SoupBinTcp.putHeader(s, len, SoupBinTcp.SEQUENCED_DATA, EnterOrder.LENGTH);
        EnterOrder.encode(s, len, 11, (byte) 'B', 1, "X       ".getBytes(), 1, "FIRM".getBytes());
        len += EnterOrder.LENGTH;
        s.putShort(len, (short) 0, ByteOrder.BIG_ENDIAN);   // a malformed 2-byte packet: the stream stays in step
        len += 2;
        len += SoupBinTcp.putLoginRejected(s, len, SoupBinTcp.REJECT_SESSION_NOT_AVAILABLE);
        len += SoupBinTcp.putEmpty(s, len, SoupBinTcp.END_OF_SESSION);
        final List<String> whole = decode(s, len, new int[] {len});
        assertEquals(List.of("A:33", "H:3", "S:52", "short:2", "J:4", "Z:3"), whole);
        for (int cut = 1; cut < len; cut++) {
            assertEquals(whole, decode(s, len, new int[] {cut, len - cut}), "cut at " + cut);
        }
        final int[] ones = new int[len];
        java.util.Arrays.fill(ones, 1);
        assertEquals(whole, decode(s, len, ones), "one byte at a time");
        for (int c1 = 1; c1 < len - 1; c1 += 3) {
            for (int c2 = c1 + 1; c2 < len; c2 += 5) {
                assertEquals(whole, decode(s, len, new int[] {c1, c2 - c1, len - c2}), "cut at " + c1 + " and " + c2);
            }
        }
    }

    @Test
    void wholePacketsAreDeliveredInPlace() {
        final UnsafeBuffer s = new UnsafeBuffer(new byte[64]);
        final int len = SoupBinTcp.putEmpty(s, 0, SoupBinTcp.SERVER_HEARTBEAT) + SoupBinTcp.putEmpty(s, 3, SoupBinTcp.SERVER_HEARTBEAT);
        final List<DirectBuffer> seen = new ArrayList<>();
        final SoupBinTcpStream stream = new SoupBinTcpStream((buffer, offset, length) -> seen.add(buffer));
        stream.onData(s, 0, len);
        assertEquals(2, seen.size());
        assertTrue(seen.get(0) == s && seen.get(1) == s, "zero copy when whole");
        assertEquals(0, stream.reassembled());
        stream.onData(s, 0, 4);
        assertEquals(1, stream.pendingBytes());
        stream.onData(s, 4, 2);
        assertEquals(4, seen.size());
        assertTrue(seen.get(3) != s, "the split packet was copied whole");
        assertEquals(1, stream.reassembled());
    }

    private static List<String> decode(final UnsafeBuffer s, final int len, final int[] pieces) {
        final List<String> out = new ArrayList<>();
        final SoupBinTcp p = new SoupBinTcp();
        final SoupBinTcpStream stream = new SoupBinTcpStream((buffer, offset, length) -> {
            final int rc = p.wrap(buffer, offset, length);
            if (rc == SoupBinTcp.SHORT_LENGTH) {
                out.add("short:" + length);
                return;
            }
            assertEquals(SoupBinTcp.VALID, rc);
            assertEquals(length, p.length());
            if (p.type() == SoupBinTcp.SEQUENCED_DATA) {
                assertEquals(11, EnterOrder.token(buffer, p.payloadOffset()));
            }
            out.add((char) p.type() + ":" + length);
        });
        // each piece from its own buffer, as separate TCP deliveries are
        int at = 0;
        for (final int piece : pieces) {
            final UnsafeBuffer copy = new UnsafeBuffer(new byte[piece + 7]);
            copy.putBytes(7, s, at, piece);
            stream.onData(copy, 7, piece);
            at += piece;
        }
        assertEquals(len, at);
        assertEquals(0, stream.pendingBytes());
        return out;
    }
}
