package io.bypass.samples.pingpong;

import io.bypass.udp.UdpDestination;

/**
 * Reuses {@link UdpDestination}s for reply addresses so a server answering the same
 * clients allocates nothing per datagram: a small round-robin cache by address and port.
 */
final class DestinationCache {
    private final int[] addresses;
    private final int[] ports;
    private final UdpDestination[] destinations;
    private int next;

    DestinationCache(final int size) {
        addresses = new int[size];
        ports = new int[size];
        destinations = new UdpDestination[size];
    }

    UdpDestination get(final int address, final int port) {
        for (int i = 0; i < destinations.length; i++) {
            if (destinations[i] != null && addresses[i] == address && ports[i] == port) {
                return destinations[i];
            }
        }
        final int slot = next;
        next = (next + 1) % destinations.length;
        addresses[slot] = address;
        ports[slot] = port;
        destinations[slot] = UdpDestination.of(address, port);
        return destinations[slot];
    }
}
