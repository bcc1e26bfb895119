package io.bypass.dpdk;

import io.bypass.Bypass;
import io.bypass.BypassException;
import io.bypass.Counter;
import io.bypass.Port;
import io.bypass.testkit.Cmd;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

    /**
     * A second opener is told whose program is attached: the live process by pid (removing its
     * program would silently stop its reception), and once that process is killed, an orphan
     * with the command that removes it.
     */
    @Test
    void programOfALiveProcessIsNamedAndOneLeftByAKilledProcessIsOrphaned() throws Exception {
        final String iface = topology().ifaceA();
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // A JVM in the DUT namespace opens a port ('ip netns exec' execs java: same pid) ...
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

            final BypassException live = assertThrows(BypassException.class, () -> topology().executorA().call(
                () -> Bypass.open(uri(DpdkTestSupport.nextVdevIndex(), ""))));
            assertTrue(live.getMessage().contains("is already attached to " + iface)
                && live.getMessage().contains("held by pid " + child.pid() + " (java")
                && live.getMessage().contains("would silently stop that process's reception")
                && !live.getMessage().contains("orphaned"), live.getMessage());

            // ... and is SIGKILLed: no close runs, the PMD's program stays with nobody holding it.
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            final String link = topology().a().ip("link", "show", "dev", iface);
            assertTrue(link.contains("xdp"), "a killed process leaves net_af_xdp's program attached: " + link);

            final BypassException e = assertThrows(BypassException.class, () -> topology().executorA().call(
                () -> Bypass.open(uri(DpdkTestSupport.nextVdevIndex(), ""))));
            assertTrue(e.getMessage().contains("is already attached to " + iface)
                && e.getMessage().contains("no process holds it: orphaned")
                && e.getMessage().contains("ip link set dev " + iface + " xdp off"), e.getMessage());

            // The remedy works: the port opens, and its close leaves nothing behind.
            topology().a().ip("link", "set", "dev", iface, "xdp", "off");
            final Port port = topology().executorA().call(() -> Bypass.open(uri(DpdkTestSupport.nextVdevIndex(), "")));
            topology().executorA().run(port::close);
            assertNothingAttached();
        } finally {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS); // its AF_XDP socket must be gone before the next test binds the queue
            Cmd.runUnchecked("ip", "netns", "exec", topology().a().name(), "ip", "link", "set", "dev", iface, "xdp", "off");
        }
    }

    /**
     * Removing the port's program from outside (as the orphan remedy says to) stops its reception
     * silently: the port notices it, off the hot path, counts it once and logs one warning naming
     * the interface, both from its periodic check (no reader needed) and on a counters refresh.
     */
    @Test
    void programRemovedFromUnderTheOpenPortIsCountedAndWarnedOnce() throws Exception {
        final String iface = topology().ifaceA();
        final Logger logger = Logger.getLogger("io.bypass.dpdk.internal.DpdkPortImpl");
        final List<String> warnings = new CopyOnWriteArrayList<>();
        final Handler capture = new Handler() {
            @Override
            public void publish(final LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(new SimpleFormatter().formatMessage(r));
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(capture);
        final Port port = topology().executorA().call(() -> Bypass.open(uri(DpdkTestSupport.nextVdevIndex(), "")));
        try {
            port.counters().refresh();
            assertEquals(0, port.counters().get(Counter.XDP_PROGRAM_DETACHED));
            assertTrue(warnings.stream().noneMatch(w -> w.contains("XDP program")), warnings.toString());

            topology().a().ip("link", "set", "dev", iface, "xdp", "off");
            // The periodic check, with nobody reading the counters (get does not refresh).
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (port.counters().get(Counter.XDP_PROGRAM_DETACHED) == 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(1, port.counters().get(Counter.XDP_PROGRAM_DETACHED), "the periodic check must notice");
            port.counters().refresh();
            assertEquals(1, port.counters().get(Counter.XDP_PROGRAM_DETACHED), "counted once");
            final List<String> gone = warnings.stream().filter(w -> w.contains("XDP program")).toList();
            assertEquals(1, gone.size(), warnings.toString());
            assertTrue(gone.get(0).contains("attached to " + iface + " is gone") && gone.get(0).contains("receives nothing"),
                gone.get(0));
        } finally {
            logger.removeHandler(capture);
            topology().executorA().run(port::close);
        }
        assertNothingAttached();
    }

    /** The same check on a counters refresh alone: before the first periodic check can run. */
    @Test
    void programRemovedFromUnderTheOpenPortIsCountedOnRefresh() throws Exception {
        final Port port = topology().executorA().call(() -> Bypass.open(uri(DpdkTestSupport.nextVdevIndex(), "")));
        try {
            topology().a().ip("link", "set", "dev", topology().ifaceA(), "xdp", "off");
            port.counters().refresh();
            assertEquals(1, port.counters().get(Counter.XDP_PROGRAM_DETACHED));
        } finally {
            topology().executorA().run(port::close);
        }
    }
}
