package io.bypass.dpdk;

import io.bypass.testing.Requirements;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Opening a port keeps the opening thread's CPU affinity, although {@code rte_eal_init} pins
 * its caller to the main lcore's CPUs; hotplug and polling from a registered thread keep
 * every thread's affinity too. In a child JVM ({@link AffinityCheck}), because the EAL starts
 * once per process and this check must be the one that starts it.
 */
class DpdkAffinityTest {
    @BeforeAll
    static void host() {
        Requirements.requireRoot();
        Requirements.requireBackendAvailable("dpdk");
    }

    @Test
    void openingAndPollingKeepEachThreadsCpuAffinity() throws Exception {
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final Process p = new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED",
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), EalChild.class.getName(), "unused", "affinity"))
            .redirectErrorStream(true).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        if (out.contains("AFFINITY SKIP")) {
            Requirements.require(false, "needs at least two CPUs to pin to one: " + out.strip());
        }
        assertTrue(out.contains("AFFINITY OK"), out);
    }
}
