package io.bypass.afxdp;

import io.bypass.BackendUnavailableException;
import io.bypass.Bypass;
import io.bypass.BypassException;
import io.bypass.BypassUriException;
import io.bypass.FlowRule;
import io.bypass.FrameClaim;
import io.bypass.Port;
import io.bypass.RxQueue;
import io.bypass.TxQueue;
import io.bypass.net.Ipv4;
import io.bypass.testing.Requirements;
import io.bypass.testkit.Cmd;
import io.bypass.udp.UdpEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each failure the backend can meet gives an exception naming the cause and the remedy,
 * and leaves nothing behind: no XDP program, no socket, no mapping.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AfXdpErrorsTest extends AfXdpVethTest {
    private BypassException openFails(final String uri) throws Exception {
        // The namespace executor rethrows the task's own exception.
        return assertThrows(BypassException.class, () -> t.executorA().call(() -> Bypass.open(uri)));
    }

    /** @return the open socket, anon-inode and namespace descriptors of this process */
    private static long fds() throws IOException {
        // The JDK's NIO opens one socketpair for the JVM's lifetime on first use
        // (sun.nio.ch.UnixDispatcher.init, its pre-close fd); open it before any count is taken,
        // so a port's first open does not look like a leak of one fd.
        java.nio.channels.DatagramChannel.open().close();
        // Only what a port opens (sockets, BPF objects and maps as anon inodes, namespaces): the JVM's own
        // threads open and close files (jars, /proc) at any time, which a plain count would see.
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.map(AfXdpErrorsTest::target)
                .filter(link -> link.startsWith("socket:") || link.startsWith("anon_inode:") || link.startsWith("net:")).count();
        }
    }

    private static String target(final Path fd) {
        try {
            return Files.readSymbolicLink(fd).toString();
        } catch (final IOException e) {
            return ""; // closed between the listing and the read: not the port's
        }
    }

    // AF_XDP rings show up as mappings of the socket ("socket:[N]"), the UMEM as anonymous memory.
    private static long socketMappings() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains("socket:") || l.contains("xdp")).count();
    }

    private boolean xdpAttached() {
        return t.a().ip("link", "show", "dev", t.ifaceA()).contains("xdp");
    }

    @Test
    void peerMtuTooLargeForNativeXdpNamesThePeerAndTheLimitNotTheInterface() throws Exception {
        // Native XDP on veth checks the peer's MTU: with the peer at 9000 the attach fails with
        // ERANGE although the DUT's own interface is at 1500.
        t.b().ip("link", "set", "dev", t.ifaceB(), "mtu", "9000");
        final BypassException e = openFails("afxdp:" + t.ifaceA() + "?xdp=drv&mode=copy");
        final String m = e.getMessage();
        assertTrue(m.contains("ERANGE") || m.contains("Numerical result out of range"), m);
        assertFalse(m.contains("the MTU of " + t.ifaceA() + " may be too large"), "blames the wrong interface: " + m);
        assertTrue(m.contains("peer") && m.contains("3506") && m.contains("1500"), "names the peer, the limit and "
            + t.ifaceA() + "'s own MTU: " + m);
        assertFalse(m.contains("libbpf"), "libbpf's log belongs in a debug log, not the error: " + m);
        assertFalse(xdpAttached(), "an XDP program is left after the failed open");
    }

    @Test
    void interfaceThatDoesNotExist() throws Exception {
        final BypassException e = openFails("afxdp:nosuch0?xdp=drv");
        assertTrue(e.getMessage().contains("no interface 'nosuch0'") && e.getMessage().contains("ip link show"), e.getMessage());
    }

    @Test
    void queueThatDoesNotExistNamesTheQueueAndLeavesNothing() throws Exception {
        final long fdsBefore = fds();
        final BypassException e = openFails("afxdp:" + t.ifaceA() + "?nicQueue=7&mode=copy");
        assertTrue(e.getMessage().contains("queue 7") && e.getMessage().contains("ethtool -l " + t.ifaceA()), e.getMessage());
        assertFalse(xdpAttached());
        assertEquals(fdsBefore, fds(), "file descriptors leaked by a failed open");
        assertEquals(0, socketMappings(), "ring mappings left by a failed open");
    }

    /**
     * Closing a port frees everything even after a step fails: with its rings and UMEM unmapped
     * behind its back (so the unmapping step fails), the program is still detached, every socket
     * closed (the multicast and neighbour sockets come after the failed step) and the queue free
     * for the next port; the failure is reported.
     */
    @Test
    void closeCarriesOnPastAFailedStepAndReportsIt() throws Exception {
        // The first port of a JVM leaves one unix socket open for good (not the port's); count from after it.
        t.executorA().call(() -> Bypass.open("afxdp:" + t.ifaceA() + "?mode=copy")).close();
        final long fdsBefore = fds();
        final Port port = t.executorA().call(() -> Bypass.open("afxdp:" + t.ifaceA() + "?mode=copy"));
        assertTrue(xdpAttached());
        final java.lang.reflect.Field mapArena = port.getClass().getDeclaredField("mapArena");
        mapArena.setAccessible(true);
        ((java.lang.foreign.Arena) mapArena.get(port)).close();

        final BypassException e = assertThrows(BypassException.class, port::close);
        assertTrue(e.getMessage().startsWith("afxdp: closing afxdp:" + t.ifaceA())
            && e.getMessage().contains("unmapping the rings and UMEM: java.lang.IllegalStateException"), e.getMessage());
        assertTrue(e.getCause() instanceof IllegalStateException, "the failure is the cause");
        assertTrue(port.isClosed());
        assertFalse(xdpAttached(), "XDP program detached");
        assertEquals(fdsBefore, fds(), "every socket closed");
        port.close(); // idempotent: nothing more to report
        try (Port again = t.executorA().call(() -> Bypass.open("afxdp:" + t.ifaceA() + "?mode=copy"))) {
            assertTrue(xdpAttached(), "the interface and queue are free for the next port");
        }
    }

    @Test
    void zeroCopyOnVethSuggestsCopyModeAndLeavesNothing() throws Exception {
        // Prove the leak checks can fail: an open port has fds, ring mappings and a program.
        final long fdsBefore = fds();
        try (Port open = t.executorA().call(() -> Bypass.open("afxdp:" + t.ifaceA() + "?mode=copy"))) {
            assertTrue(socketMappings() >= 4, "rings mapped while open");
            assertTrue(fds() > fdsBefore);
            assertTrue(xdpAttached());
            assertFalse(open.isClosed());
        }
        assertEquals(0, socketMappings());
        for (int i = 0; i < 3; i++) {
            final BypassException e = openFails("afxdp:" + t.ifaceA() + "?mode=zerocopy&xdp=drv");
            assertTrue(e.getMessage().contains("zero-copy") && e.getMessage().contains("mode=copy"), e.getMessage());
        }
        assertFalse(xdpAttached(), "XDP program left attached after a failed open");
        assertEquals(fdsBefore, fds(), "file descriptors leaked by failed opens");
        assertEquals(0, socketMappings(), "ring mappings left by failed opens");
    }

    @Test
    void modeAutoFallsBackToCopyAndSaysSo() throws Exception {
        try (Port port = t.executorA().call(() -> Bypass.open("afxdp:" + t.ifaceA() + "?mode=auto"))) {
            assertFalse(((AfXdpPort) port).isZeroCopy());
            assertFalse(port.capabilities().contains(io.bypass.Capability.ZERO_COPY_TX));
        }
    }

    @Test
    void anotherXdpProgramIsNamedAndNotReplaced() throws Exception {
        final Path obj = Files.createTempFile("other_xdp", ".o");
        try (InputStream in = AfXdpErrorsTest.class.getResourceAsStream("/META-INF/native/bypass_xdp.o")) {
            Files.write(obj, in.readAllBytes());
        }
        try {
            t.a().ip("link", "set", "dev", t.ifaceA(), "xdpgeneric", "obj", obj.toString(), "sec", "xdp");
            final String before = t.a().ip("link", "show", "dev", t.ifaceA());
            assertTrue(before.contains("xdpgeneric"), before);
            for (final String mode : List.of("drv", "skb")) {
                final BypassException e = openFails("afxdp:" + t.ifaceA() + "?mode=copy&xdp=" + mode);
                assertTrue(e.getMessage().contains("another XDP program (id ")
                    && e.getMessage().contains("no process holds it: orphaned")
                    && e.getMessage().contains("ip link set dev " + t.ifaceA() + " xdp off")
                    && e.getMessage().contains("xdp-loader unload"), e.getMessage());
            }
            assertEquals(before, t.a().ip("link", "show", "dev", t.ifaceA()), "the other program must stay as it was");
        } finally {
            Files.deleteIfExists(obj);
        }
    }

    /** A program some live process holds (here this JVM, through a program fd) is named by pid, not called an orphan. */
    @Test
    void aLiveOwnersProgramIsNamedByPid() throws Throwable {
        final Path obj = Files.createTempFile("owned_xdp", ".o");
        try (InputStream in = AfXdpErrorsTest.class.getResourceAsStream("/META-INF/native/bypass_xdp.o")) {
            Files.write(obj, in.readAllBytes());
        }
        int fd = -1;
        try {
            t.a().ip("link", "set", "dev", t.ifaceA(), "xdpgeneric", "obj", obj.toString(), "sec", "xdp");
            final java.util.regex.Matcher id = java.util.regex.Pattern.compile("prog/xdp\\w* id (\\d+)")
                .matcher(t.a().ip("-d", "link", "show", "dev", t.ifaceA()));
            assertTrue(id.find());
            final java.lang.foreign.Linker linker = java.lang.foreign.Linker.nativeLinker();
            final java.lang.invoke.MethodHandle getFd = linker.downcallHandle(java.lang.foreign.SymbolLookup
                    .libraryLookup("libbpf.so.1", java.lang.foreign.Arena.global()).find("bpf_prog_get_fd_by_id").orElseThrow(),
                java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT, java.lang.foreign.ValueLayout.JAVA_INT));
            fd = (int) getFd.invokeExact(Integer.parseInt(id.group(1)));
            assertTrue(fd >= 0);
            final BypassException e = openFails("afxdp:" + t.ifaceA() + "?mode=copy&xdp=skb");
            assertTrue(e.getMessage().contains("another XDP program (id " + id.group(1))
                && e.getMessage().contains("held by pid " + ProcessHandle.current().pid() + " (")
                && e.getMessage().contains("would silently stop that process's reception")
                && !e.getMessage().contains("orphaned"), e.getMessage());
        } finally {
            if (fd >= 0) {
                final java.lang.foreign.Linker linker = java.lang.foreign.Linker.nativeLinker();
                final int ignored = (int) linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(),
                    java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT,
                        java.lang.foreign.ValueLayout.JAVA_INT)).invokeExact(fd);
            }
            Files.deleteIfExists(obj);
        }
    }

    /**
     * The exposure of DPDK's net_af_xdp (its netlink-attached program removed from outside by
     * 'ip link set dev X xdp off') does not apply: afxdp attaches through a bpf_link, which the
     * kernel refuses to detach by netlink, in every mode, so the port keeps its program.
     */
    @Test
    void xdpOffCannotRemoveTheLinkAttachedProgram() throws Exception {
        try (Port port = t.executorA().call(() -> Bypass.open("afxdp:" + t.ifaceA() + "?mode=copy"))) {
            final String before = t.a().ip("-d", "link", "show", "dev", t.ifaceA());
            final java.util.regex.Matcher id = java.util.regex.Pattern.compile("prog/xdp\\w* id (\\d+)").matcher(before);
            assertTrue(id.find(), before);
            final Cmd.Result off = Cmd.runUnchecked("ip", "netns", "exec", t.a().name(), "ip", "link", "set", "dev",
                t.ifaceA(), "xdp", "off");
            assertTrue(off.exitCode() != 0, "the kernel must refuse: " + off);
            for (final String mode : List.of("xdpdrv", "xdpgeneric")) {
                Cmd.runUnchecked("ip", "netns", "exec", t.a().name(), "ip", "link", "set", "dev", t.ifaceA(), mode, "off");
            }
            final String after = t.a().ip("-d", "link", "show", "dev", t.ifaceA());
            assertTrue(after.contains(" id " + id.group(1) + " "), "the port's program must stay attached: " + after);
            assertFalse(port.isClosed());
        }
    }

    @Test
    void useAfterCloseThrowsAndNeverCrashes() throws Exception {
        final Port port = t.executorA().call(() -> Bypass.open("afxdp:" + t.ifaceA() + "?mode=copy"));
        final RxQueue rx = port.rxQueue(0);
        final TxQueue tx = port.txQueue(0);
        final FrameClaim claim = new FrameClaim();
        assertTrue(tx.tryClaim(60, claim));
        port.close();
        port.close(); // idempotent
        assertTrue(port.isClosed());
        assertFalse(xdpAttached());
        final List<Runnable> uses = new ArrayList<>(List.of(
            () -> rx.poll((b, o, l, m) -> { }, 16),
            () -> tx.tryClaim(60, new FrameClaim()),
            tx::flush,
            () -> port.rxQueue(0),
            () -> port.txQueue(0),
            () -> port.addFlow(0, new FlowRule(0, 9)),
            () -> port.removeFlow(0, new FlowRule(0, 9)),
            () -> port.joinMulticast(Ipv4.parse("239.1.1.1")),
            () -> port.leaveMulticast(Ipv4.parse("239.1.1.1")),
            () -> port.resolveNeighbour(t.addressB())));
        for (final Runnable use : uses) {
            final BypassException e = assertThrows(BypassException.class, use::run);
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
        port.counters().refresh(); // readable after close, never touches freed memory
    }

    /**
     * A second endpoint on a queue already bound (a sender opened next to the receiver, a
     * common first try) is refused with what to do: one endpoint serves RX and TX.
     */
    @Test
    void aSecondEndpointOnABoundQueueSaysOneEndpointServesRxAndTx() throws Exception {
        try (UdpEndpoint first = t.executorA().call(() -> Bypass.openUdp("afxdp:" + t.ifaceA() + "?mode=copy"))) {
            final BypassException e = assertThrows(BypassException.class,
                () -> t.executorA().call(() -> Bypass.openUdp("afxdp:" + t.ifaceA() + "?mode=copy")));
            assertTrue(e.getMessage().contains("EBUSY") && e.getMessage().contains("queue 0"), e.getMessage());
            assertTrue(e.getMessage().contains("one endpoint serves both receive and send"), e.getMessage());
            assertTrue(e.getMessage().contains("nicQueue=N"), e.getMessage());
            assertFalse(first.isClosed());
        }
        assertFalse(xdpAttached(), "the refused open left nothing and the first closed cleanly");
    }

    @Test
    void badUriParametersAreNamed() {
        for (final String bad : List.of("rxRing=100", "mode=fast", "xdp=hw", "frameSize=3000", "queues=0", "bogus=1",
            "busyPollBudget=8")) {
            final BypassUriException e = assertThrows(BypassUriException.class,
                () -> Bypass.open("afxdp:" + t.ifaceA() + "?" + bad));
            assertTrue(e.getMessage().contains(bad.substring(0, bad.indexOf('='))), e.getMessage());
        }
    }

    @Test
    void withoutPrivilegesTheBackendIsUnavailableWithTheRemedy() throws Exception {
        // A child JVM, still uid 0 but with every capability dropped from its bounding set.
        final String out = probeChild(List.of("setpriv", "--bounding-set=-all", "--inh-caps=-all"), "");
        assertTrue(out.contains("available=false") && out.contains("EPERM")
            && out.contains("this process lacks CAP_NET_RAW, CAP_NET_ADMIN, CAP_BPF, CAP_PERFMON;")
            && out.contains("AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN CAP_BPF CAP_PERFMON CAP_IPC_LOCK")
            && out.contains("--ambient-caps=+net_raw,+net_admin,+bpf,+perfmon,+ipc_lock") && !out.contains("setcap cap_"), out);
        assertTrue(out.contains("open: " + BackendUnavailableException.class.getSimpleName()), out);
    }

    /** Without CAP_IPC_LOCK a UMEM past RLIMIT_MEMLOCK fails at open (ENOBUFS) with the bytes and the ways to allow them. */
    @Test
    void aUmemPastTheMemlockLimitFailsAtOpenNamingTheBytes() throws Exception {
        // uid 0 without CAP_IPC_LOCK is charged like anyone else; 4 MiB against the default 72 MiB UMEM.
        final String out = probeChild(List.of("ip", "netns", "exec", t.a().name(), "prlimit", "--memlock=4194304:4194304",
            "setpriv", "--bounding-set=-ipc_lock", "--inh-caps=-all"), "?mode=copy");
        assertTrue(out.contains("available=true"), out);
        assertTrue(out.contains("open: BypassException: afxdp: setsockopt(XDP_UMEM_REG, 75497472 bytes, frameSize 4096) failed: ENOBUFS")
            && out.contains("the UMEM: 75497472 bytes (72 MiB) of locked memory, charged to RLIMIT_MEMLOCK (here 4194304 bytes,"
                + " added up over every UMEM of this user in every process) because the process lacks CAP_IPC_LOCK")
            && out.contains("LimitMEMLOCK=75497472") && out.contains("ulimit -l 73728") && out.contains("rxStallMs=N"), out);
        assertFalse(xdpAttached(), "the failed open left its XDP program");
    }

    private String probeChild(final List<String> prefix, final String query) throws Exception {
        Requirements.requireCommand("setpriv");
        Requirements.requireCommand("prlimit");
        final List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
            UnprivilegedProbe.class.getName(), t.ifaceA() + query));
        final Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void programIsDetachedWhenTheProcessDies() throws Exception {
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final Process p = new ProcessBuilder("ip", "netns", "exec", t.a().name(), java, "--enable-native-access=ALL-UNNAMED",
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), OpenAndWait.class.getName(), t.ifaceA())
            .redirectErrorStream(true).start();
        try {
            final java.io.BufferedReader out = new java.io.BufferedReader(
                new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            final String line = out.readLine();
            assertEquals("OPEN", line, "child JVM opened the port");
            assertTrue(xdpAttached(), "attached while the child runs");
        } finally {
            p.destroyForcibly(); // SIGKILL: no close(), no shutdown hook
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        }
        // The kernel releases the bpf_link with the dead process's fds.
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (xdpAttached() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertFalse(xdpAttached(), "XDP program must go away with the process: " + t.a().ip("link", "show", "dev", t.ifaceA()));
        // And the interface is usable again at once.
        try (Port again = t.executorA().call(() -> Bypass.open("afxdp:" + t.ifaceA() + "?mode=copy"))) {
            assertTrue(xdpAttached());
        }
    }

    /** Runs in a child JVM inside namespace A: opens a port and waits to be killed. */
    static final class OpenAndWait {
        private OpenAndWait() {
        }

        public static void main(final String[] args) throws Exception {
            final Port port = Bypass.open("afxdp:" + args[0] + "?mode=copy");
            System.out.println(port.isClosed() ? "CLOSED" : "OPEN");
            System.out.flush();
            Thread.sleep(60_000);
        }
    }

    /** Runs in the unprivileged child JVM. */
    static final class UnprivilegedProbe {
        private UnprivilegedProbe() {
        }

        public static void main(final String[] args) {
            final var p = Bypass.backend("afxdp");
            System.out.println("available=" + p.isAvailable() + " cause=" + p.unavailabilityCause());
            try {
                Bypass.open("afxdp:" + args[0]).close();
                System.out.println("open: succeeded");
            } catch (final BypassException e) {
                System.out.println("open: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
    }
}
