/**
 * The NIO fallback backend: {@code nio:IFACE?...} URIs, kernel UDP sockets through
 * {@link java.nio.channels.DatagramChannel}, on any host. See
 * {@link io.bypass.nio.NioBackendProvider} for the URI keys and
 * {@link io.bypass.nio.NioUdpEndpoint} for what each costs.
 */
package io.bypass.nio;
