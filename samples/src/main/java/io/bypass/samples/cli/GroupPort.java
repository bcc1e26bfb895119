package io.bypass.samples.cli;

import io.bypass.net.Ipv4;
import io.bypass.udp.UdpDestination;

/**
 * An IPv4 address and UDP port given as {@code A.B.C.D:PORT} on the command line.
 *
 * @param address IPv4 as a big-endian int
 * @param port    UDP port 1..65535
 */
public record GroupPort(int address, int port) {
    /**
     * Parses {@code A.B.C.D:PORT}.
     *
     * @param option the option name, for the error message
     * @param text   the value
     * @return the parsed value
     * @throws UsageException if malformed
     */
    public static GroupPort parse(final String option, final String text) throws UsageException {
        final int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new UsageException(option + ": expected ADDRESS:PORT such as 239.1.1.1:30001, got '" + text + "'");
        }
        final int address;
        try {
            address = Ipv4.parse(text.substring(0, colon));
        } catch (final RuntimeException e) {
            throw new UsageException(option + ": '" + text.substring(0, colon) + "' is not an IPv4 address");
        }
        final int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (final NumberFormatException e) {
            throw new UsageException(option + ": port '" + text.substring(colon + 1) + "' is not a number");
        }
        if (port < 1 || port > 65535) {
            throw new UsageException(option + ": port " + port + " outside 1..65535");
        }
        return new GroupPort(address, port);
    }

    /** @return true if the address is a multicast group */
    public boolean isMulticast() {
        return Ipv4.isMulticast(address);
    }

    /** @return the same address as a destination for sends */
    public UdpDestination destination() {
        return UdpDestination.of(address, port);
    }

    @Override
    public String toString() {
        return Ipv4.toString(address) + ":" + port;
    }
}
