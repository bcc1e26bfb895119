package io.bypass.samples.doctor;

import io.bypass.samples.Main;
import io.bypass.spi.RxBuffering;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DoctorTest {
    @Test
    void printsEverySectionAndJsonLastLine() {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int rc = Main.run(new String[] {"doctor", "--json"}, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
        final String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8));
        for (final String section : DoctorCommand.SECTIONS) {
            assertTrue(text.contains("== " + section + " =="), "section " + section + " in\n" + text);
        }
        final String[] lines = text.strip().split("\n");
        final String last = lines[lines.length - 1];
        assertTrue(last.startsWith("{\"command\":\"doctor\""), last);
        for (final String section : DoctorCommand.SECTIONS) {
            assertTrue(last.contains("\"" + section + "\":"), section);
        }
        assertTrue(text.contains("release: " + System.getProperty("os.version")) || text.contains("release: "));
        assertTrue(text.contains("- lo"), "loopback listed");
    }

    @Test
    void stallBudgetSectionOnThisHost() throws Exception {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final int rc = Main.run(new String[] {"doctor", "--json"}, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertEquals(0, rc);
        final String text = out.toString(StandardCharsets.UTF_8);
        for (final String field : List.of("budget: 50 ms at 200000 pps = 10000 frames", "rmem_max: ", "can_force_rcvbuf: ",
            "afxdp_umem_per_queue: 75497472 bytes (72 MiB, locked)", "memlock_soft: ", "afxdp_umem_fits_memlock: ",
            "afxdp: RX and fill rings 16384 frames: 81.9 ms at 200000 pps (budget 50 ms)",
            "efvi: NIC ring cap 4095 frames: 20.5 ms at 200000 pps", "dpdk net_af_xdp: PMD cap 2048 frames: 10.2 ms",
            "dpdk net_af_packet: framecnt 16384 frames: 81.9 ms",
            "dpdk PCI NIC: rxDesc 16384 frames: 81.9 ms at 200000 pps (budget 50 ms) (the PMD may clamp it)")) {
            assertTrue(text.contains(field), field + " in\n" + text);
        }
        // The full value: procfs files report size 0, and a reader that trusts that gets a partial one.
        assertTrue(text.contains("rmem_max: " + Files.readAllLines(Path.of("/proc/sys/net/core/rmem_max")).get(0).trim() + "\n"), text);
        final String json = text.strip().substring(text.strip().lastIndexOf('\n') + 1);
        assertTrue(json.contains("\"rx_stall_budget\":{\"budget\":"), json);
        assertTrue(json.contains("\"default_buffering\":{\"afxdp\":"), json);
    }

    /** A host with the usual defaults and no privileges: both shortfalls are reported with their remedy. */
    @Test
    void stallBudgetSectionNamesWhatTheHostCutsShort(@TempDir final Path root) throws Exception {
        write(root, "proc/sys/net/core/rmem_max", "212992\n");
        write(root, "proc/self/status", "Name:\tjava\nUid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\n");
        write(root, "proc/self/limits", "Limit                     Soft Limit           Hard Limit           Units\n"
            + "Max locked memory         8388608              8388608              bytes\n");
        final Map<String, Object> m = StallBudgetReport.report(new HostProbe(root));
        assertEquals(212992L, m.get("rmem_max"));
        assertEquals(11_520_000L, m.get("nio_rcvbuf_asked"));
        assertTrue(String.valueOf(m.get("can_force_rcvbuf")).startsWith("no"), m.toString());
        assertTrue(String.valueOf(m.get("afxdp_umem_fits_memlock")).startsWith("NO: 8388608 < 75497472"), m.toString());
        final Map<?, ?> depth = (Map<?, ?>) m.get("default_buffering");
        // 2 x 212992 bytes at 2304 bytes a datagram: 184 frames, 0.9 ms at 200 kpps.
        assertEquals("SO_RCVBUF 425984 bytes, about 184 frames: 0.9 ms at 200000 pps (budget 50 ms)", depth.get("nio"));
        final String notes = String.valueOf(m.get("notes"));
        assertTrue(notes.contains("sysctl -w net.core.rmem_max=11520000"), notes);
        assertTrue(notes.contains("ulimit -l unlimited"), notes);
    }

    /** With CAP_NET_ADMIN and CAP_IPC_LOCK neither limit applies, whatever the sysctl and rlimit say. */
    @Test
    void stallBudgetSectionWithPrivileges(@TempDir final Path root) throws Exception {
        write(root, "proc/sys/net/core/rmem_max", "212992\n");
        write(root, "proc/self/status", "Uid:\t0\t0\t0\t0\nCapEff:\t000001ffffffffff\n");
        write(root, "proc/self/limits", "Max locked memory         65536                65536                bytes\n");
        final Map<String, Object> m = StallBudgetReport.report(new HostProbe(root));
        assertTrue(String.valueOf(m.get("can_force_rcvbuf")).startsWith("yes"), m.toString());
        assertTrue(String.valueOf(m.get("afxdp_umem_fits_memlock")).startsWith("yes (CAP_IPC_LOCK"), m.toString());
        assertEquals("SO_RCVBUF 23040000 bytes, about 10000 frames: 50.0 ms at 200000 pps (budget 50 ms)",
            ((Map<?, ?>) m.get("default_buffering")).get("nio"));
        assertEquals(List.of(), m.get("notes"));
    }

    /**
     * The depths are what each backend reports (BackendProvider.rxBuffering), not rules of the
     * doctor's own: a backend that reports another buffering is shown with it, one not on the path is left out.
     */
    @Test
    void stallBudgetSectionShowsWhatEachBackendReports(@TempDir final Path root) throws Exception {
        write(root, "proc/sys/net/core/rmem_max", "16777216\n");
        write(root, "proc/self/status", "Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\n");
        write(root, "proc/self/limits", "Max locked memory         65536                65536                bytes\n");
        final Map<String, Object> m = StallBudgetReport.report(new HostProbe(root),
            uri -> "nio".equals(uri.scheme()) ? RxBuffering.socketBuffer(500 * 1152, 1152) : null);
        assertEquals(Map.of("nio", "SO_RCVBUF 1152000 bytes, about 500 frames: 2.5 ms at 200000 pps (budget 50 ms)"),
            m.get("default_buffering"));
        assertEquals(576_000L, m.get("nio_rcvbuf_asked"));
        assertNull(m.get("afxdp_umem_per_queue"), "no afxdp on the path: no UMEM to check against RLIMIT_MEMLOCK");
        assertEquals(List.of(), m.get("notes"));
    }

    private static void write(final Path root, final String rel, final String text) throws Exception {
        final Path f = root.resolve(rel);
        Files.createDirectories(f.getParent());
        Files.writeString(f, text);
    }

    /** The four afxdp capabilities but not CAP_IPC_LOCK, 8 MiB of memlock: the default UMEM does not fit, a small one does. */
    @Test
    void privilegesSectionChecksMemlockAgainstWhatTheUriLocks(@TempDir final Path root) throws Exception {
        write(root, "proc/self/status", "Uid:\t1000\t1000\t1000\t1000\nCapEff:\t000000c000003000\n");
        write(root, "proc/self/limits", "Max locked memory         8388608              8388608              bytes\n");
        final Map<String, Object> big = PrivilegeReport.report(new HostProbe(root), "afxdp:eth1");
        assertEquals(List.of("CAP_NET_RAW", "CAP_NET_ADMIN", "CAP_BPF", "CAP_PERFMON"), big.get("capabilities_needed"));
        assertEquals(List.of("none"), big.get("capabilities_missing"));
        assertEquals(75_497_472L, big.get("locked_bytes"));
        assertEquals("NO: 8388608 < 75497472 bytes and no CAP_IPC_LOCK", big.get("memlock_fits"));
        assertEquals("NO: RLIMIT_MEMLOCK below 75497472 bytes", big.get("ready"));
        assertTrue(String.valueOf(big.get("systemd_without_ipc_lock")).contains("LimitMEMLOCK=75497472"), big.toString());
        assertTrue(String.valueOf(big.get("systemd")).contains("AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN CAP_BPF CAP_PERFMON CAP_IPC_LOCK"),
            big.toString());

        final Map<String, Object> small = PrivilegeReport.report(new HostProbe(root), "afxdp:eth1?frames=2048&frameSize=2048");
        assertEquals(4_194_304L, small.get("locked_bytes"));
        assertEquals("yes", small.get("ready"), small.toString());

        final Map<String, Object> nio = PrivilegeReport.report(new HostProbe(root), "nio:eth1");
        assertEquals("yes (locks nothing)", nio.get("memlock_fits"));
        assertEquals("yes", nio.get("ready"));
    }

    /** No capability at all: the missing ones are named; a bad URI is a usage error. */
    @Test
    void privilegesSectionNamesWhatIsMissing(@TempDir final Path root) throws Exception {
        write(root, "proc/self/status", "Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\n");
        write(root, "proc/self/limits", "Max locked memory         unlimited            unlimited            bytes\n");
        final Map<String, Object> m = PrivilegeReport.report(new HostProbe(root), "afxdp:eth1");
        assertEquals("NO: missing CAP_NET_RAW, CAP_NET_ADMIN, CAP_BPF, CAP_PERFMON", m.get("ready"));
        assertEquals(List.of(), PrivilegeReport.report(new HostProbe(root), null).getOrDefault("notes", List.of()));
        assertThrows(io.bypass.samples.cli.UsageException.class, () -> PrivilegeReport.report(new HostProbe(root), "afxdp:eth1?bogus=1"));
        assertThrows(io.bypass.samples.cli.UsageException.class, () -> PrivilegeReport.report(new HostProbe(root), "nosuch:eth1"));
    }

    @Test
    void parsesKernelVersions() {
        assertEquals(6, DoctorCommand.version("6.18.44-fc-v669")[0]);
        assertEquals(18, DoctorCommand.version("6.18.44-fc-v669")[1]);
        assertEquals(4, DoctorCommand.version("5.4.0-150-generic")[1]);
    }

    @Test
    void explainsPartialChecksumsOnVethOnly() {
        final String veth = ChecksumReport.forDriver("veth");
        assertTrue(veth.contains("rx_partial_checksum") && veth.contains("checksum=verify") && veth.contains("checksum=nic"), veth);
        final String nic = ChecksumReport.forDriver("ixgbe");
        assertTrue(!nic.contains("rx_partial_checksum") && nic.contains("complete"), nic);
        assertTrue(ChecksumReport.forDriver(null).contains("RX_CHECKSUM_VERDICT"));
    }

    @Test
    void recognisesAttachedXdpPrograms() {
        assertEquals("none", XdpReport.xdpAttached("2: eth0: <BROADCAST,MULTICAST,UP> mtu 1500 qdisc mq"));
        assertEquals("native program id 42", XdpReport.xdpAttached("3: veth0@if2: <...> mtu 1500 xdp qdisc noqueue\n    prog/xdp id 42 name bypass"));
        assertEquals("generic (skb) program id 7", XdpReport.xdpAttached("    prog/xdpgeneric id 7 tag abc"));
    }
}
