/**
 * {@code bypass stat}: the counters of running Bypass processes, read from their counters
 * files ({@link io.bypass.stat}), printed with rates once a second, as JSON, or served to
 * Prometheus from the stat process itself.
 */
package io.bypass.samples.stat;
