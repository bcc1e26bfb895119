/**
 * Counters another process can read while a Bypass application runs, as Aeron's CnC file
 * and AeronStat: each process publishes its ports', endpoints' and the application's own
 * counters in one memory-mapped file under {@code /dev/shm/bypass}
 * ({@link io.bypass.stat.CountersPublisher}), which {@code bypass stat} reads
 * ({@link io.bypass.stat.CountersFileReader}). The layout is in
 * {@link io.bypass.stat.CountersDescriptor}.
 */
package io.bypass.stat;
