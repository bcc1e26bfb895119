package io.bypass.udp;

import org.agrona.DirectBuffer;

/**
 * Receives UDP payloads from {@link UdpEndpoint#poll(DatagramHandler, int)}. The buffer
 * is valid only during the call (zero copy on L2 backends).
 */
@FunctionalInterface
public interface DatagramHandler {
    /**
     * Called once per datagram.
     *
     * @param buffer the payload's memory; read only
     * @param offset where the UDP payload starts
     * @param length payload length in bytes
     * @param meta   addresses, ports and timestamp; reused for the next datagram
     */
    void onDatagram(DirectBuffer buffer, int offset, int length, DatagramMeta meta);
}
