package io.bypass.dpdk;

import io.bypass.BypassException;
import io.bypass.BypassUriException;
import io.bypass.Bypass;
import io.bypass.FrameClaim;
import io.bypass.Port;
import io.bypass.testing.Requirements;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every failure the DPDK backend can meet at open or after close gives a {@link BypassException}
 * naming the cause and the remedy, leaves nothing behind, and never crashes the JVM.
 */
class DpdkErrorTest {
    @BeforeAll
    static void eal() {
        Requirements.requireRoot();
        Requirements.requireBackendAvailable("dpdk");
        // Start the process's EAL with the defaults, as the other tests do, so the mismatch test below
        // has a running EAL to disagree with.
        Bypass.open("dpdk:net_null" + DpdkTestSupport.nextVdevIndex() + "?hugepages=false").close();
    }

    private static String message(final Throwable t) {
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    @Test
    void devargsThatAreNeitherVdevNorPciAreRefusedBeforeTouchingDpdk() {
        final BypassUriException e = assertThrows(BypassUriException.class, () -> Bypass.open("dpdk:eth0?hugepages=false"));
        assertTrue(message(e).contains("bad devargs 'eth0'") && message(e).contains("net_af_xdp0,iface="), message(e));
        final BypassUriException empty = assertThrows(BypassUriException.class, () -> Bypass.open("dpdk:?hugepages=false"));
        assertTrue(message(empty).contains("missing devargs"), message(empty));
    }

    @Test
    void misspeltParameterIsAnError() {
        final BypassUriException e = assertThrows(BypassUriException.class,
            () -> Bypass.open("dpdk:net_null1?hugepages=false&rxQueus=2"));
        assertTrue(message(e).contains("unknown parameter 'rxQueus'") && message(e).contains("rxQueues"), message(e));
    }

    @Test
    void udpWithoutAnAddressSaysToAddIp() {
        final BypassUriException e = assertThrows(BypassUriException.class,
            () -> Bypass.openUdp("dpdk:net_null1?hugepages=false"));
        assertTrue(message(e).contains("ip=A.B.C.D/NN"), message(e));
        final BypassUriException bad = assertThrows(BypassUriException.class,
            () -> Bypass.openUdp("dpdk:net_null1?hugepages=false&ip=10.0.0.300/24"));
        assertTrue(message(bad).contains("parameter 'ip'"), message(bad));
    }

    @Test
    void unknownDriverNamesTheProbeAndTheRemedy() {
        final BypassException e = assertThrows(BypassException.class,
            () -> Bypass.open("dpdk:net_nosuchpmd" + DpdkTestSupport.nextVdevIndex() + "?hugepages=false"));
        assertTrue(message(e).contains("rte_dev_probe(net_nosuchpmd") && message(e).contains("check the driver name"), message(e));
    }

    @Test
    void missingInterfaceNamesTheInterfaceAndTheNamespace() {
        final BypassException e = assertThrows(BypassException.class, () -> Bypass.open("dpdk:net_af_packet"
            + DpdkTestSupport.nextVdevIndex() + ",iface=nosuchif0?hugepages=false"));
        assertTrue(message(e).contains("rte_dev_probe(net_af_packet") && message(e).contains("network namespace"), message(e));
    }

    @Test
    void failedOpenLeavesNothingSoTheSameDeviceNameOpensNext() {
        final String name = "net_null" + DpdkTestSupport.nextVdevIndex();
        // A mempool far larger than the EAL's memory fails after the device was probed and configured.
        final BypassException e = assertThrows(BypassException.class,
            () -> Bypass.open("dpdk:" + name + "?hugepages=false&mbufs=8000000"));
        assertTrue(message(e).contains("rte_pktmbuf_pool_create") && message(e).contains("memory="), message(e));
        try (Port port = Bypass.open("dpdk:" + name + "?hugepages=false")) {
            assertEquals("dpdk", port.backend());
        }
    }

    @Test
    void laterPortCannotAskForAnotherEal() {
        final BypassException e = assertThrows(BypassException.class,
            () -> Bypass.open("dpdk:net_null" + DpdkTestSupport.nextVdevIndex() + "?hugepages=false&lcores=7@(0)"));
        assertTrue(message(e).contains("already runs with lcores=") && message(e).contains("once per process"), message(e));
    }

    @Test
    void hugepagesRequiredButAbsentIsRefusedWithTheRemedy() {
        Requirements.require(!DpdkContext.hugepagesAvailable(), "this host has hugepages, so hugepages=true cannot fail here");
        final BypassException e = assertThrows(BypassException.class,
            () -> Bypass.open("dpdk:net_null" + DpdkTestSupport.nextVdevIndex() + "?hugepages=true"));
        assertTrue(message(e).contains("no hugepages are reserved") && message(e).contains("nr_hugepages")
            && message(e).contains("hugepages=false"), message(e));
    }

    @Test
    void useAfterCloseThrowsAndNeverCrashes() {
        final Port port = Bypass.open("dpdk:net_null" + DpdkTestSupport.nextVdevIndex() + "?hugepages=false");
        port.close();
        port.close();
        assertTrue(port.isClosed());
        assertThrows(BypassException.class, () -> port.rxQueue(0));
        assertThrows(BypassException.class, () -> port.joinMulticast(0xEF000001));
        assertThrows(BypassException.class, () -> ((DpdkPort) port).isLinkUp());
        port.counters().refresh(); // a closed port's counters keep their last values
        final Port open = Bypass.open("dpdk:net_null" + DpdkTestSupport.nextVdevIndex() + "?hugepages=false");
        final var rx = open.rxQueue(0);
        final var tx = open.txQueue(0);
        open.close();
        assertThrows(BypassException.class, () -> rx.poll((b, o, l, m) -> { }, 8));
        assertThrows(BypassException.class, () -> tx.tryClaim(60, new FrameClaim()));
        assertThrows(BypassException.class, tx::flush);
    }

    @Test
    void secondPrimaryWithTheSamePrefixInAnotherProcessIsRefused() throws Exception {
        final String prefix = "bypass-test-" + Integer.toHexString(ThreadLocalRandom.current().nextInt());
        final Process holder = child(prefix, "hold");
        try {
            final BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = out.readLine()) != null && !line.equals("READY") && !line.startsWith("FAILED")) {
                // EAL log lines
            }
            assertEquals("READY", line, "the first process must start its EAL");
            final Process second = child(prefix, "try");
            final String secondOut = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(second.waitFor(60, TimeUnit.SECONDS));
            assertEquals(3, second.exitValue(), secondOut);
            assertTrue(secondOut.contains("FAILED: dpdk: another DPDK primary process already runs with --file-prefix=" + prefix)
                && secondOut.contains("use another prefix"), secondOut);
        } finally {
            holder.getOutputStream().close();
            if (!holder.waitFor(30, TimeUnit.SECONDS)) {
                holder.destroyForcibly();
            }
            deleteRuntimeDir(prefix);
        }
    }

    @Test
    void ealStartFailureNamesTheArgumentsTheErrnoAndARemedy() throws Exception {
        // In a separate JVM: an EAL that failed to start cannot be retried in the same process.
        final String prefix = "bypass-test-" + Integer.toHexString(ThreadLocalRandom.current().nextInt());
        try {
            final Process p = child(List.of(prefix, "lcores", "0@(999)"));
            final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(3, p.exitValue(), out);
            assertTrue(out.contains("FAILED: dpdk: rte_eal_init(") && out.contains("--lcores=0@(999)")
                && out.contains("errno") && out.contains("check lcores=0@(999) names CPUs"), out);
        } finally {
            deleteRuntimeDir(prefix);
        }
    }

    @Test
    void withoutCapabilitiesThePacketSocketProbeFailsWithThePrivilegeRemedy() throws Exception {
        Requirements.requireCommand("setpriv");
        // Root's uid but no capabilities at all: the closest to "not root" that can still read the build's class path.
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final Process p = new ProcessBuilder(List.of("setpriv", "--inh-caps=-all", "--bounding-set=-all", java,
            "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), EalChild.class.getName(), "unused", "open",
            "dpdk:net_af_packet0,iface=lo?hugepages=false")).redirectErrorStream(true).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(3, p.exitValue(), out);
        assertTrue(out.contains("FAILED: dpdk: rte_dev_probe(net_af_packet0,iface=lo,framecnt=16384)")
            && out.contains("this process lacks CAP_NET_RAW, CAP_NET_ADMIN;")
            && out.contains("AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN CAP_IPC_LOCK"), out);
    }

    private static Process child(final String prefix, final String mode) throws IOException {
        return child(List.of(prefix, mode));
    }

    private static Process child(final List<String> args) throws IOException {
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final List<String> cmd = new java.util.ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), EalChild.class.getName()));
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    private static void deleteRuntimeDir(final String prefix) throws IOException {
        final Path dir = Path.of("/var/run/dpdk", prefix);
        if (Files.exists(dir)) {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (final Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
