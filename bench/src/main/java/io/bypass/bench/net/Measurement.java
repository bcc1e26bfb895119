package io.bypass.bench.net;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The repeated runs of one scenario by one implementation (Java backend or C baseline),
 * summarised over the repeats: a noisy 2-core host makes single runs meaningless. Packet
 * rates are the median run's; round-trip percentiles are taken over every round trip of
 * every run together, so a slow spell of the host weighs by how long it lasted rather
 * than deciding a whole run's figure.
 */
public final class Measurement {
    private final String backend;
    private final String api;
    private final String scenario;
    private final String impl;
    private final String label;
    private final List<Run> runs = new ArrayList<>();
    private final List<String> errors = new ArrayList<>();
    private long[] pooled;

    /**
     * @param backend  backend the row belongs to (nio, afxdp, dpdk, efvi)
     * @param api      l2 (Port), udp (UdpEndpoint) or c
     * @param scenario rx, tx or pingpong
     * @param impl     java or c
     * @param label    what ran, such as {@code Java afxdp Port} or {@code C libxdp xsk}
     */
    public Measurement(final String backend, final String api, final String scenario, final String impl, final String label) {
        this.backend = backend;
        this.api = api;
        this.scenario = scenario;
        this.impl = impl;
        this.label = label;
    }

    /**
     * One run's figures.
     *
     * @param pps        packets (or round trips) per second in the measured window
     * @param packets    packets counted in the window
     * @param lost       ping-pong: pings without an answer in 50 ms
     * @param p50Nanos   round trip median (ping-pong), else 0
     * @param p99Nanos   99th percentile
     * @param p999Nanos  99.9th percentile
     * @param allocBytes bytes the Java polling thread allocated in the window (0 for C)
     * @param rtts       round trips recorded (nanoseconds); kept for the chart
     */
    public record Run(double pps, long packets, long lost, long p50Nanos, long p99Nanos, long p999Nanos, long allocBytes,
                      long[] rtts) {
    }

    /** @param run a completed run */
    public void add(final Run run) {
        runs.add(run);
        pooled = null;
    }

    /** @param error why a run failed */
    public void addError(final String error) {
        errors.add(error);
    }

    /** @return backend name */
    public String backend() {
        return backend;
    }

    /** @return l2, udp or c */
    public String api() {
        return api;
    }

    /** @return rx, tx or pingpong */
    public String scenario() {
        return scenario;
    }

    /** @return java or c */
    public String impl() {
        return impl;
    }

    /** @return what ran */
    public String label() {
        return label;
    }

    /** @return the runs */
    public List<Run> runs() {
        return runs;
    }

    /** @return errors of failed runs */
    public List<String> errors() {
        return errors;
    }

    /** @return true if at least one run succeeded */
    public boolean hasData() {
        return !runs.isEmpty();
    }

    /** @return median packet rate */
    public double medianPps() {
        return median(runs.stream().mapToDouble(Run::pps).toArray());
    }

    /** @return median p50 round trip, ns */
    public double medianP50() {
        return median(runs.stream().mapToDouble(Run::p50Nanos).toArray());
    }

    /** @return median p99 round trip, ns */
    public double medianP99() {
        return median(runs.stream().mapToDouble(Run::p99Nanos).toArray());
    }

    /** @return median p99.9 round trip, ns */
    public double medianP999() {
        return median(runs.stream().mapToDouble(Run::p999Nanos).toArray());
    }

    /**
     * A percentile over the round trips of all runs together (ping-pong).
     *
     * @param percentile 0..100
     * @return that percentile in ns, NaN if no round trips were recorded
     */
    public double pooledPercentile(final double percentile) {
        if (pooled == null) {
            pooled = runs.stream().flatMapToLong(r -> Arrays.stream(r.rtts())).sorted().toArray();
        }
        if (pooled.length == 0) {
            return Double.NaN;
        }
        final int rank = (int) Math.ceil(percentile / 100.0 * pooled.length) - 1;
        return pooled[Math.max(0, Math.min(pooled.length - 1, rank))];
    }

    /** @return the round trips of all runs together: their median, ns */
    public double pooledP50() {
        return pooledPercentile(50);
    }

    /** @return the round trips of all runs together: 99th percentile, ns */
    public double pooledP99() {
        return pooledPercentile(99);
    }

    /** @return the round trips of all runs together: 99.9th percentile, ns */
    public double pooledP999() {
        return pooledPercentile(99.9);
    }

    /**
     * The median over repeats of this run's figure divided by the other's run with the same
     * index. The harness alternates implementations run by run, so run i of each was made
     * seconds apart; pairing them cancels a host whose speed drifts or jumps between runs
     * (a 2-vCPU VM here flips between two speeds, ~1.6x apart, for seconds at a time), and
     * the median drops the pairs that straddle a jump, in either direction.
     *
     * @param other  the baseline, run alternately with this one
     * @param figure which figure of a run (pps, p50Nanos, ...)
     * @return the median ratio, NaN if no run pairs up
     */
    public double pairedRatio(final Measurement other, final java.util.function.ToDoubleFunction<Run> figure) {
        final int n = Math.min(runs.size(), other.runs.size());
        final double[] ratios = new double[n];
        for (int i = 0; i < n; i++) {
            ratios[i] = figure.applyAsDouble(runs.get(i)) / figure.applyAsDouble(other.runs.get(i));
        }
        return median(ratios);
    }

    /** @return bytes allocated per packet by the Java polling thread, over all runs; NaN for C */
    public double allocPerPacket() {
        long bytes = 0;
        long packets = 0;
        for (final Run r : runs) {
            bytes += r.allocBytes();
            packets += r.packets();
        }
        return "c".equals(impl) || packets == 0 ? Double.NaN : (double) bytes / packets;
    }

    /**
     * @param v values
     * @return their median, NaN if none
     */
    public static double median(final double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        final double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
