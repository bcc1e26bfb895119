package io.bypass.udp;

import io.bypass.Claim;

/**
 * A flyweight over the payload of a datagram claimed with
 * {@link UdpEndpoint#tryClaim(UdpDestination, int, DatagramClaim)}. Write the payload at
 * {@link #offset()} in {@link #buffer()}, then {@link #commit()} or {@link #abort()}; the
 * endpoint writes the Ethernet, IPv4 and UDP headers. Reuse one instance for every claim.
 */
public final class DatagramClaim extends Claim {
    /** Creates an unclaimed flyweight. */
    public DatagramClaim() {
        super("datagram");
    }

    /** {@inheritDoc} */
    @Override
    public void commit(final int actualLength) {
        release(actualLength).commit(token(), actualLength);
    }
}
