package io.bypass.samples.codec;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MoldUdp64Test {
    private final UnsafeBuffer buf = new UnsafeBuffer(new byte[2048]);
    private final MoldUdp64 mold = new MoldUdp64();

    /** Hand-built bytes, independent of the encoder: session, seq 0x0102..., 2 messages. */
    @Test
    void decodesHandBuiltPacket() {
        final byte[] p = {
            'S', 'E', 'S', 'S', 'I', 'O', 'N', '0', '0', '1',
            0, 0, 0, 0, 0, 0, 0x01, 0x02,     // sequence 258
            0, 2,                             // count
            0, 3, 'a', 'b', 'c',              // message 1
            0, 1, 'z'};                       // message 2
        final UnsafeBuffer b = new UnsafeBuffer(p);
        assertEquals(MoldUdp64.VALID, mold.wrap(b, 0, p.length));
        assertEquals(258, mold.sequence());
        assertEquals(2, mold.messageCount());
        int at = mold.firstMessage();
        assertEquals(3, mold.payloadLength(at));
        assertEquals('a', b.getByte(mold.payloadOffset(at)));
        at = mold.nextMessage(at);
        assertEquals(1, mold.payloadLength(at));
        assertEquals('z', b.getByte(mold.payloadOffset(at)));
        assertTrue(mold.sessionEquals("SESSION001".getBytes()));
        assertFalse(mold.sessionEquals("SESSION002".getBytes()));
    }

    @Test
    void encoderRoundTrip() {
        final MoldUdp64Encoder enc = new MoldUdp64Encoder();
        enc.wrap(buf, 100, MoldUdp64Encoder.session("S1")).sequence(42);
        for (int i = 0; i < 3; i++) {
            final int at = enc.addMessage(MarketMessage.LENGTH);
            MarketMessage.encode(buf, at, i == 0 ? MarketMessage.FLAG_TRIGGER : 0, 1000 + i, 7 + i, (byte) 'B', 100, "ABCDEFGH".getBytes(), 5);
        }
        assertEquals(MoldUdp64.HEADER_LENGTH + 3 * (2 + MarketMessage.LENGTH), enc.length());
        assertEquals(MoldUdp64.VALID, mold.wrap(buf, 100, enc.length()));
        assertEquals(42, mold.sequence());
        assertEquals(3, mold.count());
        int at = mold.firstMessage();
        for (int i = 0; i < 3; i++, at = mold.nextMessage(at)) {
            final int m = mold.payloadOffset(at);
            assertTrue(MarketMessage.isAddOrder(buf, m, mold.payloadLength(at)));
            assertEquals(i == 0, MarketMessage.isTrigger(buf, m));
            assertEquals(1000 + i, MarketMessage.sendNanos(buf, m));
            assertEquals(7 + i, MarketMessage.orderRef(buf, m));
        }
    }

    @Test
    void heartbeatAndEndOfSession() {
        final MoldUdp64Encoder enc = new MoldUdp64Encoder();
        enc.wrap(buf, 0, MoldUdp64Encoder.session("S")).sequence(9);
        assertEquals(MoldUdp64.VALID, mold.wrap(buf, 0, enc.length()));
        assertTrue(mold.isHeartbeat());
        assertEquals(0, mold.messageCount());
        enc.endOfSession();
        assertEquals(MoldUdp64.VALID, mold.wrap(buf, 0, enc.length()));
        assertTrue(mold.isEndOfSession());
        assertEquals(0, mold.messageCount());
        assertEquals(9, mold.sequence());
    }

    @Test
    void malformedFramingIsReportedNotThrown() {
        final MoldUdp64Encoder enc = new MoldUdp64Encoder();
        enc.wrap(buf, 0, MoldUdp64Encoder.session("S")).sequence(1);
        enc.addMessage(10);
        final int len = enc.length();
        assertEquals(MoldUdp64.VALID, mold.wrap(buf, 0, len));
        assertEquals(MoldUdp64.MALFORMED_SHORT_HEADER, mold.wrap(buf, 0, 19));
        assertEquals(MoldUdp64.MALFORMED_SHORT_HEADER, mold.wrap(buf, 0, 0));
        assertEquals(MoldUdp64.MALFORMED_OVERRUN, mold.wrap(buf, 0, len - 1));
        assertEquals(MoldUdp64.MALFORMED_OVERRUN, mold.wrap(buf, 0, MoldUdp64.HEADER_LENGTH + 1)); // half a length prefix
        assertEquals(MoldUdp64.MALFORMED_TRAILING, mold.wrap(buf, 0, len + 1));
        // count says 2, only one message present
        buf.putShort(MoldUdp64.COUNT_OFFSET, (short) 2, java.nio.ByteOrder.BIG_ENDIAN);
        assertEquals(MoldUdp64.MALFORMED_OVERRUN, mold.wrap(buf, 0, len));
        // heartbeat with trailing data
        buf.putShort(MoldUdp64.COUNT_OFFSET, (short) 0, java.nio.ByteOrder.BIG_ENDIAN);
        assertEquals(MoldUdp64.MALFORMED_CONTROL_WITH_DATA, mold.wrap(buf, 0, len));
        // a length of 0xFFFF in the prefix must not wrap negative
        buf.putShort(MoldUdp64.COUNT_OFFSET, (short) 1, java.nio.ByteOrder.BIG_ENDIAN);
        buf.putShort(MoldUdp64.HEADER_LENGTH, (short) 0xFFFF, java.nio.ByteOrder.BIG_ENDIAN);
        assertEquals(MoldUdp64.MALFORMED_OVERRUN, mold.wrap(buf, 0, len));
    }
}
