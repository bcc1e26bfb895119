/**
 * Protocol flyweights and pieces the L2 backends share: Ethernet, IPv4, UDP, ARP and IGMP
 * headers over Agrona buffers, checksums, frame classification and the neighbour table; and
 * the pieces every L4 layer over an L2 port (UDP now, TCP next) uses rather than copies:
 * {@link io.bypass.net.Ipv4Link} (our addresses and the headers we write),
 * {@link io.bypass.net.NextHopResolver} (routing and next-hop MACs),
 * {@link io.bypass.net.ArpResponder} and {@link io.bypass.net.IgmpReporter}.
 */
package io.bypass.net;
