package io.bypass.spi;

import io.bypass.PortUri;

import java.util.List;

/**
 * How long the polling thread may stop, at what packet rate, with no frame lost: the one
 * figure every backend sizes its receive buffering from (AF_XDP RX and fill rings and UMEM
 * frames, DPDK descriptors and mempool, ef_vi ring and buffers, NIO {@code SO_RCVBUF}).
 *
 * <p>A feed handler's polling thread stops now and then: JIT compiler threads, GC, the
 * kernel's softirq work and other processes take its CPU. Whatever arrives meanwhile waits
 * in the receive buffering; when that is full, the NIC or kernel drops (counted as
 * {@code DROP_FILL_RING_EMPTY}, {@code DROP_RX_RING_FULL} or {@code DROP_NO_BUFFER}).
 * The default, {@value #DEFAULT_STALL_MS} ms at {@value #DEFAULT_RATE_PPS} packets per
 * second (10,000 frames), absorbs the stalls measured on a busy 2-vCPU host at a 20x
 * replay. Both URI keys mean the same on every backend:
 *
 * <pre>
 * afxdp:eth1?rxStallMs=100&amp;rxStallPps=500000    // 50,000 frames of buffering
 * </pre>
 *
 * An explicit ring size ({@code rxRing}, {@code rxDesc}, {@code rcvbuf}) wins over the budget.
 * A backend whose hardware caps the ring below the budget says so in its documentation and
 * in {@link #describe(int)}.
 *
 * <p>Depth is not free at low rates. The kernel or NIC writes each packet into the buffer given
 * back a ring's depth of packets earlier, so the deeper the ring, the colder that memory (on AF_XDP
 * in copy mode also the kernel's page-table entry for it). A request/response endpoint, which never
 * has more waiting than its peers have in flight, should ask for a small budget: sockperf against
 * {@code bypass pingpong server} on a veth, spinning client, read 5.8% slower than a C reflector with
 * 2048-deep rings at this default (16384 frames) and 0.2-4% slower over ten runs at
 * {@code rxStallMs=10} (2048 frames), which the ping-pong sample asks for (docs/benchmarks.md).
 */
public final class RxStallBudget {
    /** URI key: milliseconds the polling thread may stall with no loss. */
    public static final String STALL_MS_PARAM_NAME = "rxStallMs";
    /** URI key: packet rate (per second) the stall must be absorbed at. */
    public static final String RATE_PPS_PARAM_NAME = "rxStallPps";
    /** Default stall, in milliseconds. */
    public static final int DEFAULT_STALL_MS = 50;
    /** Default rate, in packets per second. */
    public static final int DEFAULT_RATE_PPS = 200_000;
    /** The stall's declaration. */
    public static final UriParam STALL_MS = UriParam.integer(STALL_MS_PARAM_NAME, 1, 60_000, DEFAULT_STALL_MS,
        "milliseconds the polling thread may stall with no frame lost: receive buffering is sized for it");
    /** The rate's declaration. */
    public static final UriParam RATE_PPS = UriParam.integer(RATE_PPS_PARAM_NAME, 1_000, 100_000_000, DEFAULT_RATE_PPS,
        "packets per second the stall (rxStallMs) must be absorbed at");
    /** Both keys, for a backend's list of accepted URI keys. */
    public static final List<UriParam> URI_PARAMS = List.of(STALL_MS, RATE_PPS);

    private final int stallMs;
    private final int ratePps;

    private RxStallBudget(final int stallMs, final int ratePps) {
        this.stallMs = stallMs;
        this.ratePps = ratePps;
    }

    /**
     * Reads the budget from a URI.
     *
     * @param uri the port URI
     * @return the budget, defaults where the keys are absent
     * @throws io.bypass.BypassUriException if a value is out of range
     */
    public static RxStallBudget from(final PortUri uri) {
        return new RxStallBudget(STALL_MS.intValue(uri), RATE_PPS.intValue(uri));
    }

    /** @return the default budget */
    public static RxStallBudget defaults() {
        return new RxStallBudget(DEFAULT_STALL_MS, DEFAULT_RATE_PPS);
    }

    /** @return the stall in milliseconds */
    public int stallMs() {
        return stallMs;
    }

    /** @return the rate in packets per second */
    public int ratePps() {
        return ratePps;
    }

    /** @return frames that arrive during one stall at the rate (at least 1) */
    public long frames() {
        return Math.max(1, ((long) stallMs * ratePps + 999) / 1000);
    }

    /**
     * The smallest power of two that holds {@link #frames()}, within a backend's limits.
     *
     * @param min the backend's smallest ring
     * @param max the backend's largest ring
     * @return the ring size
     */
    public int ringSize(final int min, final int max) {
        final long f = frames();
        final long pow = f <= 1 ? 1 : Long.highestOneBit(f - 1) << 1;
        return (int) Math.max(min, Math.min(max, pow));
    }

    /**
     * The stall that a given depth of buffering absorbs at this budget's rate.
     *
     * @param frames frames of buffering
     * @return milliseconds
     */
    public double stallMsFor(final long frames) {
        return frames * 1000.0 / ratePps;
    }

    /**
     * Says what a depth of buffering gives against this budget.
     *
     * @param frames the buffering a backend set up
     * @return e.g. {@code "16384 frames: 81.9 ms at 200000 pps (budget 50 ms)"}
     */
    public String describe(final int frames) {
        return String.format(java.util.Locale.ROOT, "%d frames: %.1f ms at %d pps (budget %d ms)", frames,
            stallMsFor(frames), ratePps, stallMs);
    }

    @Override
    public String toString() {
        return stallMs + " ms at " + ratePps + " pps";
    }
}
