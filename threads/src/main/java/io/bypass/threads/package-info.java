/**
 * The polling thread on Linux: {@link io.bypass.threads.ThreadPlacement} pins it alone on
 * its CPU, {@link io.bypass.threads.HiccupRecorder} records the gaps between its polls.
 */
package io.bypass.threads;
