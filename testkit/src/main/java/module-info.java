/**
 * Host set-up shared by the tests, the samples and the benchmarks: network namespaces and
 * veth pairs ({@link io.bypass.testkit.Netns}, {@link io.bypass.testkit.VethPair}), a
 * thread inside a namespace ({@link io.bypass.testkit.NetnsExecutor},
 * {@link io.bypass.testkit.NetNamespace}), commands ({@link io.bypass.testkit.Cmd}) and a
 * JSON writer ({@link io.bypass.testkit.Json}). {@code setns} goes through FFM: the module
 * needs {@code --enable-native-access=io.bypass.testkit} (or {@code ALL-UNNAMED} on the
 * class path). No backend depends on it outside its tests.
 */
module io.bypass.testkit {
    exports io.bypass.testkit;
}
