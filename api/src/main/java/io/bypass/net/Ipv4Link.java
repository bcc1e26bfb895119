package io.bypass.net;

import io.bypass.Capability;
import io.bypass.FrameClaim;
import io.bypass.Port;
import io.bypass.TxQueue;
import org.agrona.MutableDirectBuffer;

/**
 * This host's end of one IPv4-over-Ethernet link, as the protocol layers over an L2
 * {@link Port} see it: its MAC, IPv4 address, prefix, gateway, MTU and 802.1Q VLAN, read
 * from the port once. It writes what every frame we send starts with (the Ethernet header,
 * tagged on a VLAN), hands out IPv4 identification numbers from one sequence for every
 * protocol on the link, and writes ARP frames. Shared by the pieces both UDP and TCP use:
 * {@link NextHopResolver}, {@link ArpResponder}, {@link IgmpReporter}.
 *
 * <pre>{@code
 * Ipv4Link link = new Ipv4Link(port, PortVlan.from(uri), 0);
 * link.writeEthernet(buffer, offset, frameLength, nextHopMac, Ethernet.ETHERTYPE_IPV4);
 * ip.wrap(buffer, offset + link.ipOffset(), length).header(..., link.nextIdentification(), ...);
 * }</pre>
 *
 * <p>Not thread-safe: use from the thread that sends on the link. Allocates nothing after
 * construction and keeps no string constant (see {@link io.bypass.spi.HotPathErrors}).
 */
public final class Ipv4Link {
    /** Used when a port cannot tell its MTU (reports 0). */
    public static final int DEFAULT_MTU = 1500;

    private final Port port;
    private final long localMac;
    private final int localAddress;
    private final int prefixLength;
    private final int gateway;
    private final int mtu;
    private final int vlan;
    private final int ipOffset;
    private final boolean kernelNeighbours;
    private final Ethernet ethernet = new Ethernet();
    private final Arp arp = new Arp();
    private final FrameClaim arpClaim = new FrameClaim();
    private int identification;

    /**
     * Reads the link's addresses from {@code port}.
     *
     * @param port an open L2 port
     * @param vlan the VLAN id frames are sent on, 0 for untagged ({@link io.bypass.spi.PortVlan#UNTAGGED})
     * @param identification the first IPv4 identification number less one (random, as hosts start)
     */
    public Ipv4Link(final Port port, final int vlan, final int identification) {
        this.port = port;
        this.vlan = vlan;
        this.identification = identification & 0xFFFF;
        localMac = port.macAddress() & Mac.MASK;
        localAddress = port.ipv4Address();
        prefixLength = port.ipv4PrefixLength();
        gateway = port.ipv4Gateway();
        mtu = port.mtu() > 0 ? port.mtu() : DEFAULT_MTU;
        ipOffset = vlan != 0 ? Ethernet.VLAN_HEADER_LENGTH : Ethernet.HEADER_LENGTH;
        kernelNeighbours = port.capabilities().contains(Capability.KERNEL_NEIGHBOURS);
    }

    /**
     * @return the port this link runs over
     */
    public Port port() {
        return port;
    }

    /**
     * @return our MAC address
     */
    public long localMac() {
        return localMac;
    }

    /**
     * @return our IPv4 address, or 0 if the port has none
     */
    public int localAddress() {
        return localAddress;
    }

    /**
     * @return the prefix length of our subnet
     */
    public int prefixLength() {
        return prefixLength;
    }

    /**
     * @return the default gateway, or 0 for none
     */
    public int gateway() {
        return gateway;
    }

    /**
     * @return the IP MTU: the port's, or {@link #DEFAULT_MTU} where it cannot tell
     */
    public int mtu() {
        return mtu;
    }

    /**
     * @return the VLAN id, 0 for untagged frames
     */
    public int vlan() {
        return vlan;
    }

    /**
     * @return where the IPv4 header (or ARP body) starts in a frame we send: 14, or 18 behind an 802.1Q tag
     */
    public int ipOffset() {
        return ipOffset;
    }

    /**
     * @return true where the port has {@link Capability#KERNEL_NEIGHBOURS}: the kernel answers
     *         ARP and IGMP and resolves next hops, so the protocol layers send neither
     */
    public boolean kernelNeighbours() {
        return kernelNeighbours;
    }

    /**
     * Writes the Ethernet header of a frame we send, with our 802.1Q tag when the link is on a VLAN.
     *
     * @param buffer      the frame's buffer
     * @param offset      where the frame starts
     * @param frameLength the frame's length
     * @param destination the destination MAC
     * @param etherType   the EtherType of what follows
     */
    public void writeEthernet(final MutableDirectBuffer buffer, final int offset, final int frameLength,
                              final long destination, final int etherType) {
        ethernet.wrap(buffer, offset, frameLength).header(destination, localMac, etherType);
        if (vlan != 0) {
            ethernet.vlan(0, vlan, etherType);
        }
    }

    /**
     * @return the next IPv4 identification number, one sequence for every datagram the link sends
     */
    public int nextIdentification() {
        identification = (identification + 1) & 0xFFFF;
        return identification;
    }

    /**
     * Claims, writes and commits one ARP frame from us (padded to 60 bytes); the caller flushes.
     *
     * @param tx                  the queue to send on
     * @param operation           {@link Arp#OP_REQUEST} or {@link Arp#OP_REPLY}
     * @param ethernetDestination the frame's destination MAC
     * @param targetMac           the ARP target hardware address
     * @param targetAddress       the ARP target protocol address
     * @return false if the TX ring was full (nothing sent)
     */
    public boolean sendArp(final TxQueue tx, final int operation, final long ethernetDestination, final long targetMac,
                           final int targetAddress) {
        final FrameClaim claim = arpClaim;
        if (!tx.tryClaim(Ethernet.MIN_FRAME_LENGTH, claim)) {
            return false;
        }
        final MutableDirectBuffer b = claim.buffer();
        final int o = claim.offset();
        writeEthernet(b, o, Ethernet.MIN_FRAME_LENGTH, ethernetDestination, Ethernet.ETHERTYPE_ARP);
        arp.wrap(b, o + ipOffset, Arp.LENGTH).header(operation, localMac, localAddress, targetMac, targetAddress);
        final int used = ipOffset + Arp.LENGTH;
        b.setMemory(o + used, Ethernet.MIN_FRAME_LENGTH - used, (byte) 0);
        claim.commit(Ethernet.MIN_FRAME_LENGTH);
        return true;
    }
}
