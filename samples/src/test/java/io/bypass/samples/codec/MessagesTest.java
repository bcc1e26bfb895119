package io.bypass.samples.codec;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MessagesTest {
    @Test
    void enterOrderLayoutMatchesOuch42() {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[64]);
        EnterOrder.encode(b, 0, 12345678901234L, (byte) 'B', 300, "AAPL    ".getBytes(), 1_500_000, "FIRM".getBytes());
        assertEquals(49, EnterOrder.LENGTH);
        assertEquals('O', b.getByte(0));
        final byte[] token = new byte[14];
        b.getBytes(1, token);
        assertArrayEquals("12345678901234".getBytes(), token);
        assertEquals('B', b.getByte(15));
        assertEquals(300, b.getInt(16, java.nio.ByteOrder.BIG_ENDIAN));
        assertEquals('A', b.getByte(20));
        assertEquals(1_500_000, b.getInt(28, java.nio.ByteOrder.BIG_ENDIAN));
        assertEquals('F', b.getByte(36));
        assertEquals('R', b.getByte(48));
        assertTrue(EnterOrder.isEnterOrder(b, 0, 49));
        assertFalse(EnterOrder.isEnterOrder(b, 0, 48));
        assertEquals(12345678901234L, EnterOrder.token(b, 0));
        b.putByte(5, (byte) 'x');
        assertEquals(-1, EnterOrder.token(b, 0));
    }

    @Test
    void sockperfReplyClearsClientBitOnly() {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[64]);
        SockperfHeader.encode(b, 0, 77, SockperfHeader.FLAG_CLIENT | SockperfHeader.FLAG_PONG_REQUEST, 64);
        // Network byte order on the wire: sequence big-endian at 0, flags at 8, length at 10.
        assertEquals(77, b.getByte(7));
        assertEquals(3, b.getByte(9));
        assertEquals(64, b.getByte(13));
        assertTrue(SockperfHeader.wantsReply(b, 0, 64));
        assertFalse(SockperfHeader.wantsReply(b, 0, 63), "length field must match the datagram");
        SockperfHeader.toReply(b, 0);
        assertEquals(SockperfHeader.FLAG_PONG_REQUEST, SockperfHeader.flags(b, 0));
        assertFalse(SockperfHeader.wantsReply(b, 0, 64), "a reply is not answered again");
        SockperfHeader.encode(b, 0, 1, SockperfHeader.FLAG_CLIENT | SockperfHeader.FLAG_PONG_REQUEST | SockperfHeader.FLAG_WARMUP, 64);
        assertFalse(SockperfHeader.wantsReply(b, 0, 64), "warm-up is never answered");
        SockperfHeader.encode(b, 0, 1, SockperfHeader.FLAG_CLIENT, 64);
        assertFalse(SockperfHeader.wantsReply(b, 0, 64), "no pong request, no reply");
        assertFalse(SockperfHeader.wantsReply(b, 0, 13));
    }

    @Test
    void pingMessageIsNotMistakenForSockperf() {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[64]);
        PingMessage.encode(b, 0, PingMessage.ORDER, 5, 99, 0);
        assertTrue(PingMessage.is(b, 0, PingMessage.LENGTH, PingMessage.ORDER));
        assertFalse(PingMessage.is(b, 0, PingMessage.LENGTH, PingMessage.ACK));
        assertFalse(PingMessage.is(b, 0, PingMessage.LENGTH + 1, PingMessage.ORDER));
        assertEquals(5, PingMessage.sequence(b, 0));
        assertEquals(99, PingMessage.sendNanos(b, 0));
    }
}
