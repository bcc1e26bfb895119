package io.bypass.samples.codec;

import io.bypass.tcp.TcpHandler;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * Cuts a connection's byte stream into SoupBinTCP packets by their length fields. TCP may split a
 * packet across segments (and a connection's poll then delivers it in pieces) or carry several in
 * one: whole packets go to the handler in place, zero copy; only a packet split across deliveries
 * is copied, into this stream's own buffer ({@link SoupBinTcp#MAX_PACKET_LENGTH} bytes, allocated
 * once per connection), and handed over when its last byte arrives.
 *
 * <p>The handler gets each framed packet as its length field declares it, checked for nothing
 * else: wrap it in a {@link SoupBinTcp} to learn whether it is well formed. A length field of 0
 * frames a 2-byte packet (which {@link SoupBinTcp#wrap} calls {@link SoupBinTcp#SHORT_LENGTH}), so
 * the stream stays in step after it. Allocation-free after construction.
 */
public final class SoupBinTcpStream implements TcpHandler {
    /** Receives whole packets. */
    @FunctionalInterface
    public interface PacketHandler {
        /**
         * @param buffer the packet's bytes, valid only during the call
         * @param offset where its length field starts
         * @param length the whole packet, length field included (2 or more)
         */
        void onPacket(DirectBuffer buffer, int offset, int length);
    }

    private final UnsafeBuffer partial = new UnsafeBuffer(ByteBuffer.allocateDirect(SoupBinTcp.MAX_PACKET_LENGTH));
    private final PacketHandler handler;
    private int partialLength;
    private long packets;
    private long reassembled;

    /**
     * @param handler gets each whole packet
     */
    public SoupBinTcpStream(final PacketHandler handler) {
        this.handler = handler;
    }

    @Override
    public void onData(final DirectBuffer buffer, final int offset, final int length) {
        int at = offset;
        final int end = offset + length;
        if (partialLength > 0) {
            at = completePartial(buffer, at, end);
            if (partialLength > 0) {
                return;
            }
        }
        while (end - at >= SoupBinTcp.LENGTH_FIELD) {
            final int framed = SoupBinTcp.framedLength(buffer, at);
            if (end - at < framed) {
                break;
            }
            packets++;
            handler.onPacket(buffer, at, framed);
            at += framed;
        }
        if (at < end) {
            partial.putBytes(0, buffer, at, end - at);
            partialLength = end - at;
        }
    }

    /** Adds bytes to the packet held back; hands it over once whole. Returns where the caller goes on. */
    private int completePartial(final DirectBuffer buffer, final int from, final int end) {
        int at = from;
        if (partialLength < SoupBinTcp.LENGTH_FIELD) {
            final int n = Math.min(SoupBinTcp.LENGTH_FIELD - partialLength, end - at);
            partial.putBytes(partialLength, buffer, at, n);
            partialLength += n;
            at += n;
            if (partialLength < SoupBinTcp.LENGTH_FIELD) {
                return at;
            }
        }
        final int framed = SoupBinTcp.framedLength(partial, 0);
        final int n = Math.min(framed - partialLength, end - at);
        partial.putBytes(partialLength, buffer, at, n);
        partialLength += n;
        at += n;
        if (partialLength == framed) {
            partialLength = 0;
            packets++;
            reassembled++;
            handler.onPacket(partial, 0, framed);
        }
        return at;
    }

    /** @return bytes of a packet held back, waiting for the rest */
    public int pendingBytes() {
        return partialLength;
    }

    /** @return packets handed over */
    public long packets() {
        return packets;
    }

    /** @return packets that arrived split and were copied whole before being handed over */
    public long reassembled() {
        return reassembled;
    }

    /** Forgets a packet held back (a new connection). */
    public void reset() {
        partialLength = 0;
    }
}
