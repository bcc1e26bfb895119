/**
 * TCP for the order link: {@link io.bypass.tcp.TcpEndpoint} (connect, listen, poll),
 * {@link io.bypass.tcp.TcpConnection} (poll delivering in-order bytes as views, tryClaim / commit /
 * flush, close with FIN, abort with RST) and {@link io.bypass.tcp.TcpListener}, with the connection
 * states of RFC 9293 ({@link io.bypass.tcp.TcpState}). URI keys: {@link io.bypass.tcp.TcpUriParams}.
 *
 * <p>Nagle's algorithm and delayed ACKs are off by default: an order leaves when it is flushed.
 * Today {@code nio:} implements it on the kernel's TCP; the L2 backends refuse until their
 * user-space TCP is built (issue 14).
 */
package io.bypass.tcp;
