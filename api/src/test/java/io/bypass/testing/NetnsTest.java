package io.bypass.testing;

import io.bypass.testkit.Cmd;
import io.bypass.testkit.Netns;
import io.bypass.testkit.NetnsExecutor;
import io.bypass.testkit.VethPair;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Proves the namespace tools do what the conformance suite relies on: sockets opened on
 * an executor live in its namespace, the veth carries traffic between A and B, the root
 * namespace sees none of it, raw sockets inject and capture, and close removes everything.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NetnsTest {
    @BeforeAll
    static void host() {
        Requirements.requireNetns();
    }

    @Test
    void datagramFromNamespaceAReachesNamespaceBOverTheVeth() throws Exception {
        try (VethPair t = VethPair.create()) {
            final DatagramChannel rx = t.executorB().call(() -> DatagramChannel.open(StandardProtocolFamily.INET)
                .bind(new InetSocketAddress(t.addressBText(), 0)));
            final DatagramChannel tx = t.executorA().call(() -> DatagramChannel.open(StandardProtocolFamily.INET)
                .bind(new InetSocketAddress(t.addressAText(), 0)));
            try (rx; tx) {
                final int port = ((InetSocketAddress) rx.getLocalAddress()).getPort();
                // Sent from the test thread (root namespace): the socket belongs to A regardless.
                tx.send(ByteBuffer.wrap("over the veth".getBytes(StandardCharsets.US_ASCII)), new InetSocketAddress(t.addressBText(), port));
                final ByteBuffer got = ByteBuffer.allocate(100);
                rx.configureBlocking(false);
                final InetSocketAddress from = receive(rx, got, 5000);
                assertNotNull(from, "nothing arrived in B");
                assertEquals(t.addressAText(), from.getAddress().getHostAddress());
                got.flip();
                assertEquals("over the veth", StandardCharsets.US_ASCII.decode(got).toString());
            }
        }
    }

    @Test
    void vethIsVisibleInItsNamespaceAndNotInTheRoot() throws Exception {
        try (VethPair t = VethPair.create()) {
            assertNull(NetworkInterface.getByName(t.ifaceA()), "root namespace must not see " + t.ifaceA());
            assertNull(NetworkInterface.getByName(t.ifaceB()));
            assertNotEquals(0, Cmd.runUnchecked("ip", "link", "show", "dev", t.ifaceA()).exitCode());
            // NetworkInterface asks the kernel by name on every query, so ask from inside A.
            final byte[] macA = t.executorA().call(() -> NetworkInterface.getByName(t.ifaceA()).getHardwareAddress());
            assertEquals(t.macA(), Netns.parseMac(hex(macA)));
            assertNull(t.executorA().call(() -> NetworkInterface.getByName(t.ifaceB())), "A must not see B's end");
            assertTrue(t.b().hasInterface(t.ifaceB()));
            assertNotEquals(t.macA(), t.macB());
            assertTrue(t.ifaceA().length() <= 15 && t.ifaceB().length() <= 15);
            final String thread = t.executorA().call(() -> Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString());
            assertNotEquals(Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString(), thread);
        }
    }

    @Test
    void closeRemovesBothNamespacesAndIsIdempotent() {
        final VethPair t = VethPair.create();
        final String a = t.a().name();
        final String b = t.b().name();
        assertTrue(Files.exists(Path.of("/var/run/netns", a)));
        t.close();
        assertFalse(Files.exists(Path.of("/var/run/netns", a)));
        assertFalse(Files.exists(Path.of("/var/run/netns", b)));
        t.close();
        assertThrows(IllegalStateException.class, () -> t.a().executor());
    }

    @Test
    void failedCommandNamesItselfAndItsStderr() {
        final IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> Cmd.run("ip", "link", "show", "dev", "bypass-no-such0"));
        assertTrue(e.getMessage().contains("bypass-no-such0"), e.getMessage());
        assertTrue(e.getMessage().contains("exited"), e.getMessage());
    }

    @Test
    void executorForMissingNamespaceFailsWithErrno() {
        final IllegalStateException e = assertThrows(IllegalStateException.class, () -> new NetnsExecutor("bypass-missing-" + Netns.randomSuffix()));
        assertTrue(e.getMessage().contains("No such file"), e.getMessage());
    }

    @Test
    void executorRethrowsTheTasksException() throws Exception {
        try (Netns ns = Netns.create("bypx")) {
            final java.io.IOException e = assertThrows(java.io.IOException.class,
                () -> ns.executor().call(() -> {
                    throw new java.io.IOException("boom");
                }));
            assertEquals("boom", e.getMessage());
            assertEquals(42, ns.executor().call(() -> 42), "the thread survives a failed task");
        }
    }

    @Test
    void loopbackNamespaceCarriesMulticastOnLo() throws Exception {
        try (Netns ns = Netns.createLoopback()) {
            final byte[] got = ns.executor().call(() -> {
                final NetworkInterface lo = NetworkInterface.getByName("lo");
                try (DatagramChannel rx = DatagramChannel.open(StandardProtocolFamily.INET);
                     DatagramChannel tx = DatagramChannel.open(StandardProtocolFamily.INET)) {
                    rx.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true).bind(new InetSocketAddress(0));
                    final java.net.InetAddress group = java.net.InetAddress.getByName("239.7.7.7");
                    rx.join(group, lo);
                    tx.setOption(java.net.StandardSocketOptions.IP_MULTICAST_IF, lo);
                    tx.send(ByteBuffer.wrap(new byte[] {1, 2, 3}), new InetSocketAddress(group, ((InetSocketAddress) rx.getLocalAddress()).getPort()));
                    rx.configureBlocking(false);
                    final ByteBuffer b = ByteBuffer.allocate(10);
                    assertNotNull(receive(rx, b, 5000));
                    return java.util.Arrays.copyOf(b.array(), b.position());
                }
            });
            assertArrayEquals(new byte[] {1, 2, 3}, got);
        }
    }

    @Test
    void rawFrameFromFramesIsAcceptedByTheKernelAndBadChecksumIsNot() throws Exception {
        try (VethPair t = VethPair.create()) {
            final DatagramChannel rx = t.executorA().call(() -> DatagramChannel.open(StandardProtocolFamily.INET)
                .bind(new InetSocketAddress(t.addressAText(), 0)));
            final RawSocket raw = t.executorB().call(() -> RawSocket.open(t.ifaceB()));
            try (rx; raw) {
                rx.configureBlocking(false);
                final int port = ((InetSocketAddress) rx.getLocalAddress()).getPort();
                final Frames.Udp spec = Frames.udp().macs(t.macB(), t.macA()).addresses(t.addressB(), t.addressA())
                    .ports(41000, port);
                // The kernel validates the UDP checksum, so delivery proves Frames computes it right.
                raw.send(Frames.Malformation.BAD_UDP_CHECKSUM.apply(spec.copy().payload(new byte[] {9})));
                raw.send(spec.copy().payload(new byte[] {1, 2, 3, 4, 5}).build());
                raw.send(spec.copy().payload(new byte[] {7, 7, 7}).udpChecksum(false).build());
                final ByteBuffer b = ByteBuffer.allocate(100);
                final InetSocketAddress from = receive(rx, b, 5000);
                assertNotNull(from, "valid injected frame not delivered");
                assertEquals(41000, from.getPort());
                assertArrayEquals(new byte[] {1, 2, 3, 4, 5}, java.util.Arrays.copyOf(b.array(), b.position()));
                b.clear();
                assertNotNull(receive(rx, b, 5000), "frame without UDP checksum not delivered");
                assertArrayEquals(new byte[] {7, 7, 7}, java.util.Arrays.copyOf(b.array(), b.position()));
                b.clear();
                assertNull(receive(rx, b, 200), "nothing else (the bad-checksum frame) may arrive");
            }
        }
    }

    @Test
    void rawSocketCapturesWhatTheOtherSideSent() throws Exception {
        try (VethPair t = VethPair.create()) {
            final RawSocket raw = t.executorB().call(() -> RawSocket.open(t.ifaceB()));
            final DatagramChannel tx = t.executorA().call(() -> DatagramChannel.open(StandardProtocolFamily.INET)
                .bind(new InetSocketAddress(t.addressAText(), 42000)));
            try (raw; tx) {
                // B has no listener: the kernel answers ICMP, which the capture ignores (filter).
                tx.send(ByteBuffer.wrap("captured".getBytes(StandardCharsets.US_ASCII)), new InetSocketAddress(t.addressBText(), 42001));
                final byte[] f = raw.receive(5000, fr -> Frames.isIpv4Udp(fr) && Frames.getShort(fr, Frames.UDP_OFFSET) == 42000);
                assertNotNull(f, "no UDP frame captured on " + t.ifaceB());
                assertEquals(t.macA(), Frames.getMac(f, 6));
                assertEquals(t.macB(), Frames.getMac(f, 0));
                assertEquals(t.addressA(), Frames.getInt(f, Frames.IP_OFFSET + 12));
                assertEquals(42001, Frames.getShort(f, Frames.UDP_OFFSET + 2));
                assertTrue(Frames.ipChecksumOk(f));
                assertEquals("captured", new String(f, Frames.PAYLOAD_OFFSET, 8, StandardCharsets.US_ASCII));
                assertNull(raw.receive(100, fr -> Frames.isIpv4Udp(fr) && Frames.getShort(fr, Frames.UDP_OFFSET) == 42000),
                    "sent once, captured once");
            }
            assertThrows(IllegalStateException.class, () -> raw.send(new byte[60]), "use after close");
        }
    }

    @Test
    void rawSocketOnMissingInterfaceNamesIt() throws Exception {
        try (Netns ns = Netns.create("bypx")) {
            final IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ns.executor().call(() -> RawSocket.open("nosuch0")));
            assertTrue(e.getMessage().contains("nosuch0"), e.getMessage());
        }
    }

    /**
     * A run stopped with SIGTERM (a CI timeout, Ctrl-C) removes what it still had open; one killed with SIGKILL
     * leaves it, and the next run's first namespace sweeps it away. Two child JVMs, real signals.
     */
    @Test
    void namespacesOfAStoppedOrKilledRunAreRemoved() throws Exception {
        final List<String> killed = startHolder(true);
        try {
            assertTrue(namespaces().containsAll(killed), "SIGKILL runs no hook: " + namespaces());
            final List<String> stopped = startHolder(false);
            assertTrue(Collections.disjoint(namespaces(), killed), "the next run swept the killed run's: " + namespaces());
            assertTrue(stopped.stream().allMatch(n -> n.matches("byp[abx]-\\d+-[0-9a-f]{6}")), stopped.toString());
        } finally {
            killed.forEach(n -> Cmd.runUnchecked("ip", "netns", "del", n));
        }
    }

    /**
     * Starts a child JVM that makes a veth pair and a namespace and waits, then stops it with SIGKILL or SIGTERM.
     *
     * @return the child's three namespaces; after SIGTERM, checked gone
     */
    private static List<String> startHolder(final boolean sigkill) throws Exception {
        // To a file: Process.destroy closes the pipes, and the child's last words come after it.
        final Path log = Files.createTempFile("bypass-netns-holder", ".log");
        final Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), HoldNamespaces.class.getName())
            .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            String ready = null;
            while (ready == null && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
                ready = Files.readAllLines(log).stream().filter(l -> l.startsWith("READY ")).findFirst().orElse(null);
            }
            assertNotNull(ready, "the child never said READY: " + Files.readString(log));
            final List<String> names = List.of(ready.substring(6).split(" "));
            if (sigkill) {
                p.destroyForcibly();
            } else {
                p.destroy();
            }
            // Well under the 10 s close() would wait for the busy executor.
            assertTrue(p.waitFor(sigkill ? 20 : 6, TimeUnit.SECONDS), "the child did not exit in time");
            final String output = Files.readString(log);
            if (!sigkill) {
                assertEquals(143, p.exitValue(), output);
                assertTrue(Collections.disjoint(namespaces(), names), "SIGTERM: left " + names + " in " + namespaces() + "\n" + output);
                for (final String name : names) {
                    assertTrue(output.contains("removed namespace " + name + ", still open at exit"), output);
                }
            }
            return names;
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(log);
        }
    }

    private static List<String> namespaces() {
        final List<String> names = new java.util.ArrayList<>();
        for (final String line : Cmd.run("ip", "netns", "list").split("\n")) {
            if (!line.isBlank()) {
                names.add(line.trim().split("\\s+")[0]);
            }
        }
        return names;
    }

    /** Runs in a child JVM: makes a veth pair and a namespace, says their names, and waits to be stopped. */
    static final class HoldNamespaces {
        private HoldNamespaces() {
        }

        public static void main(final String[] args) throws Exception {
            final VethPair pair = VethPair.create();
            final Netns ns = Netns.create("bypx");
            // A task still running inside at exit must not hold the clean-up up (close would wait 10 s for it).
            final java.util.concurrent.CountDownLatch busy = new java.util.concurrent.CountDownLatch(1);
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    pair.executorA().call(() -> {
                        busy.countDown();
                        Thread.sleep(60_000);
                        return null;
                    });
                } catch (final Exception ignored) {
                    // the JVM is ending
                }
            });
            busy.await();
            System.out.println("READY " + pair.a().name() + " " + pair.b().name() + " " + ns.name());
            System.out.flush();
            Thread.sleep(60_000);
        }
    }

    static InetSocketAddress receive(final DatagramChannel ch, final ByteBuffer into, final long timeoutMillis) throws Exception {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < deadline) {
            final InetSocketAddress from = (InetSocketAddress) ch.receive(into);
            if (from != null) {
                return from;
            }
            Thread.sleep(1);
        }
        return null;
    }

    private static String hex(final byte[] mac) {
        final StringBuilder sb = new StringBuilder();
        for (final byte b : mac) {
            if (sb.length() > 0) {
                sb.append(':');
            }
            sb.append(String.format("%02x", b & 0xFF));
        }
        return sb.toString();
    }
}
