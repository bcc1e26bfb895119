package io.bypass.tcp;

import org.agrona.DirectBuffer;

/**
 * Receives a connection's bytes, in order, from {@link TcpConnection#poll(TcpHandler, int)}.
 * TCP is a byte stream: one call may carry part of an application message or several; frame
 * messages yourself (a length prefix, as SoupBinTCP does). The buffer is valid only during the
 * call (zero copy: a view onto the received frame, or on {@code nio:} onto the connection's
 * receive buffer).
 */
@FunctionalInterface
public interface TcpHandler {
    /**
     * Called once per contiguous run of received bytes.
     *
     * @param buffer the bytes' memory; read only, valid only during the call
     * @param offset where they start
     * @param length how many, at least 1
     */
    void onData(DirectBuffer buffer, int offset, int length);
}
