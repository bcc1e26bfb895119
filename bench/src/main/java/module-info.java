/**
 * Bypass benchmarks: JMH benchmarks of the per-packet paths and a network harness that
 * compares every backend with C baselines on the same veth pair, writing one report.
 * Run with {@code bin/bench}; see {@link io.bypass.bench.BenchMain}.
 */
module io.bypass.bench {
    requires io.bypass;
    requires io.bypass.dpdk;
    requires io.bypass.samples;
    requires io.bypass.testkit;
    requires io.bypass.threads;
    requires org.agrona;
    requires HdrHistogram;
    requires jmh.core;
    requires java.desktop;
    requires jdk.management;

    exports io.bypass.bench;
    exports io.bypass.bench.jmh;
    exports io.bypass.bench.net;
    exports io.bypass.bench.report;

    uses io.bypass.spi.BackendProvider;
}
