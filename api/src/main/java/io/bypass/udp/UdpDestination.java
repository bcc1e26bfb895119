package io.bypass.udp;

import io.bypass.net.Ipv4;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * Where a datagram goes: an IPv4 address (unicast or multicast group) and a UDP port.
 * Create one per peer off the hot path and reuse it for every send.
 *
 * <pre>{@code
 * UdpDestination exchange = UdpDestination.of("10.0.0.2", 9000);
 * }</pre>
 */
public final class UdpDestination {
    private final int address;
    private final int port;
    private final InetSocketAddress socketAddress;

    private UdpDestination(final int address, final int port, final InetSocketAddress socketAddress) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("UDP port " + port + " outside 1..65535");
        }
        this.address = address;
        this.port = port;
        this.socketAddress = socketAddress;
    }

    /**
     * @param address dotted-quad IPv4 address
     * @param port    UDP port
     * @return the destination
     */
    public static UdpDestination of(final String address, final int port) {
        return of(Ipv4.parse(address), port);
    }

    /**
     * @param address IPv4 as a big-endian int
     * @param port    UDP port
     * @return the destination
     */
    public static UdpDestination of(final int address, final int port) {
        try {
            final InetAddress inet = InetAddress.getByAddress(Ipv4.toBytes(address));
            return new UdpDestination(address, port, new InetSocketAddress(inet, port));
        } catch (final UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /**
     * @param socketAddress an IPv4 socket address
     * @return the destination
     */
    public static UdpDestination of(final InetSocketAddress socketAddress) {
        if (!(socketAddress.getAddress() instanceof Inet4Address v4)) {
            throw new IllegalArgumentException("only IPv4 is supported, got " + socketAddress);
        }
        return new UdpDestination(Ipv4.fromBytes(v4.getAddress()), socketAddress.getPort(), socketAddress);
    }

    /** @return IPv4 address as a big-endian int */
    public int address() {
        return address;
    }

    /** @return UDP port */
    public int port() {
        return port;
    }

    /** @return the same destination as a socket address */
    public InetSocketAddress socketAddress() {
        return socketAddress;
    }

    /** @return true if {@link #address()} is an IPv4 multicast group */
    public boolean isMulticast() {
        return Ipv4.isMulticast(address);
    }

    @Override
    public String toString() {
        return Ipv4.toString(address) + ":" + port;
    }
}
