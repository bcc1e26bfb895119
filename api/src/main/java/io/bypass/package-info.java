/**
 * Bypass's entry point and L2 API: {@link io.bypass.Bypass#open(String)} and
 * {@link io.bypass.Bypass#openUdp(String)} choose a backend from the URI's scheme
 * ({@code efvi:}, {@code dpdk:}, {@code afxdp:}, {@code nio:} or {@code auto:});
 * {@link io.bypass.Port}, {@link io.bypass.RxQueue} and {@link io.bypass.TxQueue} move raw
 * frames zero-copy; {@link io.bypass.Counters} counts every drop by reason.
 */
package io.bypass;
