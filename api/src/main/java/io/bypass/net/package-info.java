/**
 * Protocol flyweights and pieces the L2 backends share: Ethernet, IPv4, UDP, ARP and IGMP
 * headers over Agrona buffers, checksums, frame classification and the neighbour table.
 */
package io.bypass.net;
