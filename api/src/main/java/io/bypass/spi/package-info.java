/**
 * For backend authors: {@link io.bypass.spi.BackendProvider} (found by ServiceLoader),
 * the shared rules and checks every backend applies ({@link io.bypass.spi.JvmFlags},
 * {@link io.bypass.spi.UdpRules}, {@link io.bypass.spi.RxStallBudget}) and base classes.
 */
package io.bypass.spi;
