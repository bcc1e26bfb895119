package io.bypass;

/**
 * A UDP/IPv4 flow that a {@link Port} with {@link Capability#FLOW_STEERING} delivers to
 * one RX queue; every other frame stays with the kernel.
 *
 * @param destinationAddress IPv4 destination (unicast or multicast group) as a big-endian
 *                           int, or 0 for any address
 * @param destinationPort    UDP destination port, 1..65535
 */
public record FlowRule(int destinationAddress, int destinationPort) {
    /**
     * Validates the port range.
     *
     * @param destinationAddress IPv4 destination or 0
     * @param destinationPort    UDP destination port
     */
    public FlowRule {
        if (destinationPort < 1 || destinationPort > 65535) {
            throw new IllegalArgumentException("UDP port " + destinationPort + " outside 1..65535");
        }
    }
}
