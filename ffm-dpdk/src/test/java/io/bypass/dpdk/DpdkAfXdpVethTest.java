package io.bypass.dpdk;

import io.bypass.Bypass;
import io.bypass.BypassException;
import io.bypass.Port;
import io.bypass.testing.Netns;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link DpdkVethTest} through DPDK's net_af_xdp PMD (it attaches its own XDP program; close must detach it). */
class DpdkAfXdpVethTest extends DpdkVethTest {
    @Override
    String devargs(final int index, final String iface) {
        return "net_af_xdp" + index + ",iface=" + iface + ",busy_budget=0";
    }

    @Override
    String smallRingUri(final int index) {
        // rxDesc sizes the AF_XDP RX ring; the PMD fills the fill ring with 2048 buffers regardless.
        return uri(index, "promisc=true&rxDesc=" + SMALL_RING);
    }

    @Test
    void programLeftByAKilledProcessIsRefusedWithTheRemedy() throws Exception {
        final String iface = topology().ifaceA();
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // A JVM in the DUT namespace opens a port and is SIGKILLed: no close runs, the PMD's program stays.
        final Process child = new ProcessBuilder(List.of("ip", "netns", "exec", topology().a().name(), java,
            "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), EalChild.class.getName(), "unused", "hold-open",
            uri(DpdkTestSupport.nextVdevIndex(), ""))).redirectErrorStream(true).start();
        try {
            final BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            final StringBuilder log = new StringBuilder();
            String line;
            while ((line = out.readLine()) != null && !line.startsWith("OPENED") && !line.startsWith("FAILED")) {
                log.append(line).append('\n');
            }
            assertTrue(line != null && line.startsWith("OPENED"), "the child must open the port: " + log + line);
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            final String link = topology().a().ip("link", "show", "dev", iface);
            assertTrue(link.contains("xdp"), "a killed process leaves net_af_xdp's program attached: " + link);

            final BypassException e = assertThrows(BypassException.class, () -> topology().executorA().call(
                () -> Bypass.open(uri(DpdkTestSupport.nextVdevIndex(), ""))));
            assertTrue(e.getMessage().contains("is already attached to " + iface)
                && e.getMessage().contains("ip link set dev " + iface + " xdp off"), e.getMessage());

            // The remedy works: the port opens, and its close leaves nothing behind.
            topology().a().ip("link", "set", "dev", iface, "xdp", "off");
            final Port port = topology().executorA().call(() -> Bypass.open(uri(DpdkTestSupport.nextVdevIndex(), "")));
            topology().executorA().run(port::close);
            assertNothingAttached();
        } finally {
            child.destroyForcibly();
            Netns.runUnchecked("ip", "netns", "exec", topology().a().name(), "ip", "link", "set", "dev", iface, "xdp", "off");
        }
    }
}
