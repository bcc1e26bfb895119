package io.bypass.udp;

import io.bypass.FrameMeta;

/**
 * Addresses, ports and arrival time of one received datagram; a flyweight reused for
 * every datagram. Addresses are IPv4 as big-endian ints (see {@link io.bypass.net.Ipv4}).
 */
public final class DatagramMeta {
    private int sourceAddress;
    private int sourcePort;
    private int destinationAddress;
    private int destinationPort;
    private long timestampNanos = FrameMeta.NO_TIMESTAMP;

    /** Creates an empty flyweight. */
    public DatagramMeta() {
    }

    /** @return sender's IPv4 address */
    public int sourceAddress() {
        return sourceAddress;
    }

    /** @return sender's UDP port */
    public int sourcePort() {
        return sourcePort;
    }

    /** @return IPv4 destination: our address, or the multicast group */
    public int destinationAddress() {
        return destinationAddress;
    }

    /** @return UDP destination port */
    public int destinationPort() {
        return destinationPort;
    }

    /** @return epoch nanoseconds of arrival, or {@link FrameMeta#NO_TIMESTAMP} */
    public long timestampNanos() {
        return timestampNanos;
    }

    /**
     * For backends: fills the flyweight.
     *
     * @param sourceAddress      sender's IPv4
     * @param sourcePort         sender's port
     * @param destinationAddress destination IPv4
     * @param destinationPort    destination port
     * @param timestampNanos     arrival time or {@link FrameMeta#NO_TIMESTAMP}
     * @return this
     */
    public DatagramMeta set(final int sourceAddress, final int sourcePort, final int destinationAddress,
                            final int destinationPort, final long timestampNanos) {
        this.sourceAddress = sourceAddress;
        this.sourcePort = sourcePort;
        this.destinationAddress = destinationAddress;
        this.destinationPort = destinationPort;
        this.timestampNanos = timestampNanos;
        return this;
    }
}
