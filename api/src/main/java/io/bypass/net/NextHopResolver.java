package io.bypass.net;

import io.bypass.Capability;
import io.bypass.Port;
import io.bypass.TxQueue;
import org.agrona.concurrent.NanoClock;

/**
 * Finds the Ethernet destination of a unicast IPv4 packet: routes it (on our subnet the
 * destination itself is the next hop, elsewhere the link's gateway) and looks the next
 * hop's MAC up in the {@link NeighbourTable}. An unknown next hop is solicited, at most
 * once per retry interval: with a broadcast ARP request, or, where the port has
 * {@link Capability#KERNEL_NEIGHBOURS}, by asking the kernel ({@link Port#resolveNeighbour}),
 * whose answer is used at once. A known but expired next hop keeps being used while it is
 * solicited again in the same way, so a neighbour whose MAC changed still hears the request.
 * Answers arrive through {@link ArpResponder}, which learns into {@link #neighbours()}.
 *
 * <pre>{@code
 * resolver.tick();                         // once per poll: the clock expiry is judged by
 * long mac = resolver.resolve(destination, tx);
 * if (mac == NeighbourTable.NO_MAC) {
 *     return NEIGHBOUR_PENDING;            // no route, or a request is out
 * }
 * link.writeEthernet(buffer, offset, length, mac, Ethernet.ETHERTYPE_IPV4);
 * }</pre>
 *
 * <p>Multicast and broadcast destinations need no resolving ({@link Ipv4#multicastMac},
 * {@link Mac#BROADCAST}); the caller maps them. Not thread-safe: use from the polling
 * thread. Looking up a known neighbour allocates nothing and makes no call into the kernel;
 * this class keeps no string constant (see {@link io.bypass.spi.HotPathErrors}).
 */
public final class NextHopResolver {
    /** How long a learned MAC stays fresh, as Linux's base_reachable_time. */
    public static final long REACHABLE_NANOS = 30_000_000_000L;
    /** Least time between two ARP requests for one address. */
    public static final long ARP_RETRY_NANOS = 1_000_000_000L;
    /** Least time between two kernel queries for one address (no packet leaves, so sooner). */
    public static final long KERNEL_RETRY_NANOS = 10_000_000L;
    private static final int POLLS_PER_TICK_MASK = 15;

    private final Ipv4Link link;
    private final Port port;
    private final NanoClock clock;
    private final NeighbourTable neighbours;
    private final boolean kernelNeighbours;
    private final int localAddress;
    private final int prefixLength;
    private final int gateway;
    private long nowNanos;
    private int polls;
    private int warmUpHop;
    private long warmUpMac;

    /**
     * @param link  our end of the link: addresses, gateway, and how ARP requests are written
     * @param clock read by {@link #tick()} and when an unknown next hop is solicited
     */
    public NextHopResolver(final Ipv4Link link, final NanoClock clock) {
        this.link = link;
        this.port = link.port();
        this.clock = clock;
        kernelNeighbours = link.kernelNeighbours();
        localAddress = link.localAddress();
        prefixLength = link.prefixLength();
        gateway = link.gateway();
        neighbours = new NeighbourTable(16, REACHABLE_NANOS, kernelNeighbours ? KERNEL_RETRY_NANOS : ARP_RETRY_NANOS);
        nowNanos = clock.nanoTime();
    }

    /**
     * @return the neighbour (ARP) cache; read and change it from the polling thread only
     */
    public NeighbourTable neighbours() {
        return neighbours;
    }

    /**
     * Reads the clock: neighbour freshness is judged against this time until the next tick.
     * Call once per poll.
     */
    public void tick() {
        nowNanos = clock.nanoTime();
    }

    /**
     * Reads the clock after every 16th poll, busy or idle, for a receiver that must not make
     * a request wait for a clock read (some 25 ns): a busy-spinning poller that read it after
     * every idle poll would find a request that arrived meanwhile that much later. Neighbour
     * ages are then judged by a time at most 16 polls old (about a microsecond for a
     * busy-spinning poller, 16 ms for one that parks 1 ms between polls), against a 30 s
     * reachable time and retries 10 ms or more apart; a neighbour learned from ARP is
     * stamped with a fresh {@link #tick()}.
     */
    public void afterPoll() {
        if ((++polls & POLLS_PER_TICK_MASK) == 0) {
            nowNanos = clock.nanoTime();
        }
    }

    /**
     * @return the time of the last {@link #tick()} or solicitation, in the clock's nanoseconds
     */
    public long nowNanos() {
        return nowNanos;
    }

    /**
     * Routes a unicast destination.
     *
     * @param destination a unicast IPv4 address
     * @return the destination itself when on our subnet, else the gateway; 0 when there is no route
     */
    public int nextHop(final int destination) {
        return Ipv4.sameSubnet(destination, localAddress, prefixLength) ? destination : gateway;
    }

    /**
     * The MAC to send a unicast packet for {@code destination} to, soliciting the next hop
     * when it is unknown or expired (the request, if any, goes out on {@code tx} and is flushed).
     *
     * @param destination a unicast IPv4 address (not multicast, not broadcast)
     * @param tx          the queue an ARP request goes out on
     * @return the next hop's MAC, or {@link NeighbourTable#NO_MAC} when there is no route
     *         or the next hop is not known yet
     */
    public long resolve(final int destination, final TxQueue tx) {
        final int nextHop = nextHop(destination);
        final long mac = neighbours.freshMac(nextHop, nowNanos);
        return mac != NeighbourTable.NO_MAC ? mac : resolveStale(nextHop, tx);
    }

    /**
     * The next hop is unknown, being resolved, expired, or there is none. A call of its own,
     * which a warm-up calls seldom enough that the JIT compiles it apart from the send path:
     * a new client or an expired neighbour then takes compiled code, not an uncommon trap in
     * the polling loop (see {@link #warmUp}).
     */
    private long resolveStale(final int nextHop, final TxQueue tx) {
        if (nextHop == 0) {
            return NeighbourTable.NO_MAC;
        }
        final long mac = neighbours.lookup(nextHop);
        if (mac == NeighbourTable.NO_MAC) {
            nowNanos = clock.nanoTime();
            return solicit(nextHop, tx);
        }
        final long confirmed = solicit(nextHop, tx);
        return confirmed != NeighbourTable.NO_MAC ? confirmed : mac;
    }

    /**
     * For an endpoint's warm-up: until {@link #endWarmUp()}, soliciting {@code nextHop} learns
     * {@code mac} at once, with no ARP request and no kernel query. The warm-up can then forget
     * its placeholder neighbour, or let it expire, and the lookup's unknown and expired
     * branches run as a new client's first reply and a neighbour's expiry take them live,
     * with nothing sent anywhere.
     *
     * @param nextHop the warm-up's placeholder next hop, not a real neighbour's
     * @param mac     the MAC it resolves to
     */
    public void warmUp(final int nextHop, final long mac) {
        warmUpHop = nextHop;
        warmUpMac = mac & Mac.MASK;
    }

    /** Ends {@link #warmUp}: every next hop is solicited for real again. */
    public void endWarmUp() {
        warmUpHop = 0;
    }

    /**
     * Asks for a next hop's MAC unless it was asked for within the retry interval: the
     * kernel (whose answer is learned and returned) or the link, with a broadcast ARP request.
     *
     * @return the kernel's answer, or {@link NeighbourTable#NO_MAC} until one arrives
     */
    private long solicit(final int nextHop, final TxQueue tx) {
        final long now = nowNanos;
        if (neighbours.trySolicit(nextHop, now)) {
            if (nextHop == warmUpHop) {
                neighbours.learn(nextHop, warmUpMac, now);
                return warmUpMac;
            }
            if (kernelNeighbours) {
                final long mac = port.resolveNeighbour(nextHop);
                if (mac >= 0) {
                    neighbours.learn(nextHop, mac, now);
                    return mac & Mac.MASK;
                }
            } else if (link.sendArp(tx, Arp.OP_REQUEST, Mac.BROADCAST, Mac.ZERO, nextHop)) {
                tx.flush();
            }
        }
        return NeighbourTable.NO_MAC;
    }
}
