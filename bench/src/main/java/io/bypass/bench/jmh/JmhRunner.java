package io.bypass.bench.jmh;

import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Runs the JMH benchmarks with the GC profiler ({@code -prof gc}) in forked JVMs that get
 * the flags Bypass needs, and returns one {@link Score} per benchmark and parameter set.
 */
public final class JmhRunner {
    private JmhRunner() {
    }

    /**
     * One benchmark's result.
     *
     * @param benchmark   short name, such as {@code BackendBenchmark.udpRxPoll}
     * @param params      parameters, such as {@code backend=afxdp}
     * @param score       primary score
     * @param error       its 99.9% error
     * @param unit        its unit
     * @param allocPerOp  gc.alloc.rate.norm, bytes per operation, median over iterations (NaN if not measured)
     * @param secondaries other secondary results by name (aux counters) with units
     */
    public record Score(String benchmark, String params, double score, double error, String unit, double allocPerOp,
                        Map<String, String> secondaries) {
    }

    /**
     * @param backends  backends whose BackendBenchmark params to run (others excluded)
     * @param withDpdk  run DpdkShimBenchmark
     * @param quick     fewer, shorter iterations
     * @param jvmProps  extra -D options for the forks
     * @param jsonOut   JMH's own JSON output file
     * @return the scores
     * @throws RunnerException if JMH fails as a whole
     */
    public static List<Score> run(final List<String> backends, final boolean withDpdk, final boolean quick,
                                  final List<String> jvmProps, final Path jsonOut) throws RunnerException {
        final List<String> jvmArgs = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED",
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-Xms512m", "-Xmx512m"));
        jvmArgs.addAll(jvmProps);
        final ChainedOptionsBuilder o = new OptionsBuilder()
            .include(FfmDowncallBenchmark.class.getName())
            .include(BufferAccessBenchmark.class.getName())
            .include(ProtocolLayerBenchmark.class.getName())
            .include(TurnaroundBenchmark.class.getName())
            // the cache-evicting and kernel-round-trip variants are for investigation by hand; the report times warm turnarounds
            .exclude(TurnaroundBenchmark.class.getName() + ".evictOnly")
            .exclude(TurnaroundBenchmark.class.getName() + ".kernelOnly")
            .param("evictKiB", "0")
            .param("kernelRoundTrip", "false")
            .include(TcpEngineBenchmark.class.getName())
            .include(ChecksumVerdictBenchmark.class.getName())
            .addProfiler(GCProfiler.class)
            .forks(1)
            .warmupIterations(quick ? 2 : 3)
            .warmupTime(TimeValue.seconds(1))
            .measurementIterations(quick ? 3 : 5)
            .measurementTime(TimeValue.seconds(1))
            .jvmArgsAppend(jvmArgs.toArray(String[]::new))
            .resultFormat(ResultFormatType.JSON)
            .result(jsonOut.toString())
            .shouldFailOnError(false);
        if (!backends.isEmpty()) {
            o.include(BackendBenchmark.class.getName()).param("backend", backends.toArray(String[]::new));
        }
        if (withDpdk) {
            o.include(DpdkShimBenchmark.class.getName());
        }
        final Collection<RunResult> results = new Runner(o.build()).run();
        final List<Score> scores = new ArrayList<>();
        for (final RunResult r : results) {
            final String full = r.getParams().getBenchmark();
            final String[] parts = full.split("\\.");
            final String name = parts[parts.length - 2] + "." + parts[parts.length - 1];
            final StringBuilder params = new StringBuilder();
            for (final String k : r.getParams().getParamsKeys()) {
                params.append(params.length() == 0 ? "" : ",").append(k).append('=').append(r.getParams().getParam(k));
            }
            final Result<?> primary = r.getPrimaryResult();
            double alloc = Double.NaN;
            final Map<String, String> secondaries = new java.util.LinkedHashMap<>();
            for (final Map.Entry<String, Result> e : r.getSecondaryResults().entrySet()) {
                if ("gc.alloc.rate.norm".equals(e.getKey())) {
                    alloc = e.getValue().getScore();
                } else if (!e.getKey().startsWith("gc.")) {
                    secondaries.put(e.getKey(), String.format(java.util.Locale.ROOT, "%.1f %s", e.getValue().getScore(),
                        e.getValue().getScoreUnit()));
                }
            }
            // JMH runs @TearDown(Level.Trial) inside the last iteration, before the profiler reads the
            // allocation counters, so closing a port (method handles spun, threads stopped) lands in that
            // iteration's gc.alloc.rate.norm. The median over iterations is the steady state; the mean is kept too.
            final List<Double> perIteration = new ArrayList<>();
            for (final org.openjdk.jmh.results.BenchmarkResult br : r.getBenchmarkResults()) {
                for (final org.openjdk.jmh.results.IterationResult ir : br.getIterationResults()) {
                    final Result<?> a = ir.getSecondaryResults().get("gc.alloc.rate.norm");
                    if (a != null) {
                        perIteration.add(a.getScore());
                    }
                }
            }
            if (!Double.isNaN(alloc)) {
                secondaries.put("gc.alloc.rate.norm mean", String.format(java.util.Locale.ROOT, "%.3f B/op", alloc));
                secondaries.put("gc.alloc.rate.norm per iteration", perIteration.stream()
                    .map(v -> String.format(java.util.Locale.ROOT, "%.3f", v)).toList().toString());
            }
            final double allocMedian = perIteration.isEmpty() ? alloc
                : io.bypass.bench.net.Measurement.median(perIteration.stream().mapToDouble(Double::doubleValue).toArray());
            scores.add(new Score(name, params.toString(), primary.getScore(), primary.getScoreError(), primary.getScoreUnit(),
                allocMedian, secondaries));
        }
        return scores;
    }
}
