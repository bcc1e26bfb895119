package io.bypass.samples.e2e;

import io.bypass.testing.Requirements;
import io.bypass.testkit.Cmd;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README demo: runs, loses nothing, and leaves no namespace behind. */
class DemoTest {
    @Test
    void vethDemoOnTheBestBackendCleansUp() throws Exception {
        Requirements.requireNetns();
        Requirements.require(io.bypass.Bypass.backends().stream().anyMatch(b -> b.isAvailable()), "no backend available");
        final Run demo = Run.start(null, "demo", "--seconds", "2", "--rate", "2000", "--json");
        assertEquals(0, demo.await(90), demo.err() + demo.out());
        assertEquals(0, demo.num("lost"), demo.describe());
        assertTrue(demo.summary().get("feed_drops") instanceof java.util.Map, "drops listed by reason: " + demo.describe());
        demo.num("feed_endpoint_drops");
        assertEquals(12000, demo.num("messages"), demo.describe());
        assertTrue(demo.num("latency_samples") > 0, demo.describe());
        assertTrue(String.valueOf(demo.summary().get("topology")).startsWith("veth pair"), demo.describe());
        final String pid = String.valueOf(ProcessHandle.current().pid());
        assertFalse(Cmd.runUnchecked("ip", "netns", "list").stdout().contains("bpdemo-" + pid + "-"), "namespaces removed");
    }

    @Test
    void loopbackDemoOnNio() throws Exception {
        Requirements.requireBackendAvailable("nio");
        final Run demo = Run.start(null, "demo", "--loopback", "--seconds", "2", "--rate", "2000", "--json");
        assertEquals(0, demo.await(90), demo.err() + demo.out());
        assertEquals(0, demo.num("lost"), demo.describe());
        assertEquals("loopback", demo.summary().get("topology"));
        assertEquals("nio", demo.summary().get("feed_backend"));
    }
}
