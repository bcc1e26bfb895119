/**
 * The DPDK backend: {@code dpdk:DEVARGS?...} URIs. See {@link io.bypass.dpdk.DpdkBackendProvider}
 * for the URI, {@link io.bypass.dpdk.DpdkContext} for the EAL and mempool settings and
 * {@link io.bypass.dpdk.DpdkPort} for what only DPDK reports.
 */
package io.bypass.dpdk;
