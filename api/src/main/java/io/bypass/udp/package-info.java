/**
 * UDP on every backend: {@link io.bypass.udp.UdpEndpoint} (bind, join, poll, tryClaim,
 * send), written once over an L2 {@link io.bypass.Port} ({@link io.bypass.udp.L2UdpEndpoint},
 * with ARP and IGMP) and implemented on kernel sockets by {@code nio:}. The same calls
 * behave the same on every backend; the conformance suites assert it.
 */
package io.bypass.udp;
