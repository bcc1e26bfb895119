/**
 * UDP on every backend: {@link io.bypass.udp.UdpEndpoint} (bind, join, poll, tryClaim,
 * send), written once over an L2 {@link io.bypass.Port} ({@link io.bypass.udp.L2UdpEndpoint},
 * with ARP and IGMP) and implemented on kernel sockets by {@code nio:}. The same calls
 * behave the same on every backend; the conformance suites assert it.
 *
 * <p>Caveats met in the first hour (the README's "What you meet in the first hour"):
 * <ul>
 *   <li>A kernel sender on a veth pair leaves UDP checksums to an offload that never runs (only
 *       the pseudo-header sum is in the field). The L2 backends deliver such datagrams and count
 *       them as {@code RX_PARTIAL_CHECKSUM} under the default checksum policy; with
 *       {@code checksum=verify} they are dropped as {@code DROP_BAD_UDP_CHECKSUM}. See
 *       {@link io.bypass.net.ChecksumPolicy}.</li>
 *   <li>A busy-spinning poller takes a whole CPU: on a two-CPU host it starves the kernel's
 *       softirq work and loss rises; yield or back off there, or spin on an isolated CPU.</li>
 *   <li>Receive buffering follows the stall budget ({@code rxStallMs=50}, {@code rxStallPps=200000},
 *       see {@link io.bypass.spi.RxStallBudget}); on afxdp that locks 72 MiB of UMEM per queue
 *       by default, which a low {@code ulimit -l} (systemd {@code LimitMEMLOCK=}) refuses.</li>
 * </ul>
 */
package io.bypass.udp;
