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
    private final int forgetEvery;
    private int next;
    private long lookups;
    /** The lookup that makes every entry stale next; never reached (-1) outside a warm-up. */
    private long forgetAt;

    DestinationCache(final int size) {
        this(size, 0);
    }

    /**
     * @param size        entries
     * @param forgetEvery for a warm-up: make every entry stale every this many lookups (0 = never), so the JIT
     *                    compiles the paths a live server takes when a new client comes (other clients' entries
     *                    passed over, then a miss) and that client's first request does not deoptimise the loop
     */
    DestinationCache(final int size, final int forgetEvery) {
        this.forgetEvery = forgetEvery;
        this.forgetAt = forgetEvery > 0 ? forgetEvery : -1;
        addresses = new int[size];
        ports = new int[size];
        destinations = new UdpDestination[size];
    }

    UdpDestination get(final int address, final int port) {
        // One comparison whose outcome the warm-up sees both ways (false, and true once in forgetEvery) and the live
        // server sees false: a test of forgetEvery itself would be compiled for the warm-up's value alone.
        if (++lookups == forgetAt) {
            forgetAt += forgetEvery;
            stale((lookups / forgetEvery & 1) == 0);
        }
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

    /** @return entries held, stale ones included */
    int entries() {
        int n = 0;
        for (final UdpDestination d : destinations) {
            n += d == null ? 0 : 1;
        }
        return n;
    }

    // Entries of other clients, not empty ones: the warm-up has one sender, a live server has one client after
    // another, whose lookups pass over their predecessors' entries (same address, another port; or another host).
    private void stale(final boolean otherPort) {
        for (int i = 0; i < destinations.length; i++) {
            if (otherPort) {
                ports[i] = ~ports[i];
            } else {
                addresses[i] = ~addresses[i];
            }
        }
    }
}
