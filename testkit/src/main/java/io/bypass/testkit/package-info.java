/**
 * Host set-up shared by the tests, the samples and the benchmarks: {@link io.bypass.testkit.Netns}
 * and {@link io.bypass.testkit.VethPair} (namespaces and veth pairs made with {@code ip}),
 * {@link io.bypass.testkit.NetnsExecutor} and {@link io.bypass.testkit.NetNamespace} (threads
 * inside a namespace), {@link io.bypass.testkit.Cmd} (commands) and {@link io.bypass.testkit.Json}.
 */
package io.bypass.testkit;
