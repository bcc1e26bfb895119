/**
 * The AF_XDP backend: {@code afxdp:IFACE?...} URIs. See {@link io.bypass.afxdp.AfXdpBackendProvider}
 * for the parameters and {@link io.bypass.afxdp.AfXdpPort} for what only AF_XDP reports.
 */
package io.bypass.afxdp;
