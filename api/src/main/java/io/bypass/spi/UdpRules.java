package io.bypass.spi;

import io.bypass.BypassException;
import io.bypass.PortUri;
import io.bypass.net.Ethernet;
import io.bypass.net.Ipv4;
import io.bypass.net.Ipv4Header;
import io.bypass.net.Udp;

/**
 * The behaviour every {@link io.bypass.udp.UdpEndpoint} shares, written once so the L2
 * protocol layer and a socket backend (nio) cannot drift apart: argument checks, the
 * use-after-close error and what {@code TX_BYTES} counts. The conformance suite's
 * {@code UdpBehaviourSuite} asserts each rule on every backend.
 */
public final class UdpRules {
    /** Ethernet, IPv4 (no options) and UDP headers in front of a payload. */
    public static final int HEADERS_LENGTH = Ethernet.HEADER_LENGTH + Ipv4Header.MIN_HEADER_LENGTH + Udp.HEADER_LENGTH;

    private UdpRules() {
    }

    /**
     * @param uri the endpoint's URI
     * @return the exception every method of a closed endpoint throws
     */
    public static BypassException closed(final PortUri uri) {
        return new BypassException("endpoint closed: " + uri.text() + " (open a new one)");
    }

    /**
     * @param port a UDP port given to bind, join or leave
     * @throws IllegalArgumentException outside 1..65535
     */
    public static void checkPort(final int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("UDP port " + port + " outside 1..65535");
        }
    }

    /**
     * @param group an address given to join or leave
     * @throws IllegalArgumentException if it is not IPv4 multicast
     */
    public static void checkGroup(final int group) {
        if (!Ipv4.isMulticast(group)) {
            throw new IllegalArgumentException("group " + Ipv4.toString(group)
                + " is not an IPv4 multicast address (224.0.0.0/4); for unicast use bind(port)");
        }
    }

    /**
     * @param group the group
     * @param port  the port
     * @return the error for leaving a group and port not joined
     */
    public static IllegalArgumentException notJoined(final int group, final int port) {
        return new IllegalArgumentException("not joined to " + Ipv4.toString(group) + ":" + port);
    }

    /**
     * @param length a payload length given to tryClaim or send
     * @throws IllegalArgumentException if negative (a programming error, not a refusal to count)
     */
    public static void checkLength(final int length) {
        if (length < 0) {
            throw new IllegalArgumentException("negative payload length " + length);
        }
    }

    /**
     * The arguments of {@link io.bypass.udp.UdpEndpoint#warmUp}, checked in this order.
     *
     * @param length           the warm-up payload's length
     * @param maxPayloadLength the endpoint's largest payload
     * @param datagrams        how many datagrams to warm up with
     * @param subscribed       whether a group is joined or a port bound (the path a warm-up takes)
     * @throws IllegalArgumentException if the length is outside 0..maxPayloadLength or the count negative
     * @throws IllegalStateException if nothing is joined or bound
     */
    public static void checkWarmUp(final int length, final int maxPayloadLength, final int datagrams,
                                   final boolean subscribed) {
        if (length < 0 || length > maxPayloadLength) {
            throw new IllegalArgumentException("warm-up payload of " + length + " bytes outside 0.." + maxPayloadLength);
        }
        if (datagrams < 0) {
            throw new IllegalArgumentException("negative warm-up count " + datagrams);
        }
        if (!subscribed) {
            throw new IllegalStateException("join a group or bind a port before warmUp, so the warm-up takes the path your datagrams take");
        }
    }

    /**
     * The loop of {@link io.bypass.udp.UdpEndpoint#warmUpDutyCycle(io.bypass.udp.DutyCycle,
     * org.agrona.DirectBuffer, int, int, int)} on every backend: turns the duty cycle until the
     * diverted endpoint has counted {@code datagrams} deliveries in {@code delivered}.
     *
     * @param dutyCycle  the application's turn
     * @param delivered  where the diverted endpoint counts the datagrams it delivers ({@code RX_PACKETS})
     * @param datagrams  how many to deliver
     * @param beforeTurn run before each turn (a backend feeding its synthetic source), or null
     * @return datagrams delivered
     * @throws IllegalStateException when {@link io.bypass.udp.UdpEndpoint#WARM_UP_IDLE_TURNS} turns
     *                               in a row deliver nothing (the duty cycle does not poll the endpoint)
     */
    public static int runDutyCycle(final io.bypass.udp.DutyCycle dutyCycle, final io.bypass.Counters delivered,
                                   final int datagrams, final Runnable beforeTurn) {
        long got = 0;
        int idleTurns = 0;
        while (got < datagrams) {
            if (beforeTurn != null) {
                beforeTurn.run();
            }
            dutyCycle.doWork();
            final long now = delivered.get(io.bypass.Counter.RX_PACKETS);
            if (now != got) {
                idleTurns = 0;
                got = now;
            } else if (++idleTurns == io.bypass.udp.UdpEndpoint.WARM_UP_IDLE_TURNS) {
                throw new IllegalStateException("warm-up: the duty cycle delivered no datagram in "
                    + io.bypass.udp.UdpEndpoint.WARM_UP_IDLE_TURNS + " turns in a row; it must poll this endpoint");
            }
        }
        return (int) Math.min(Integer.MAX_VALUE, got);
    }

    /**
     * What {@code TX_BYTES} counts for one datagram on every backend: the Ethernet frame
     * without FCS, headers included and padded to the 60-byte minimum, as the L2 backends
     * hand it to the NIC (nio computes it; the kernel builds the same frame).
     *
     * @param payloadLength payload bytes
     * @return frame bytes
     */
    public static int frameLength(final int payloadLength) {
        return Math.max(Ethernet.MIN_FRAME_LENGTH, HEADERS_LENGTH + payloadLength);
    }
}
