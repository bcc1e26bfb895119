package io.bypass.afxdp;

import io.bypass.Bypass;
import io.bypass.BypassException;
import io.bypass.FlowRule;
import io.bypass.Port;
import io.bypass.testkit.Cmd;
import io.bypass.testkit.VethPair;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel port reservation of steered TCP flows (issue 14, "Living beside the kernel"): while a
 * TCP rule is steered its local port is bound by a kernel socket the port holds, so no other
 * kernel socket gets it; nothing is left reserved or steered after removeFlow, a failed add,
 * close, or kill -9 of the process.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class AfXdpTcpReservationTest extends AfXdpVethTest {
    private static final Pattern PROG_ID = Pattern.compile("prog/xdp\\w* id (\\d+)");
    private static final Pattern MAP_IDS = Pattern.compile("map_ids ([\\d,]+)");

    private Port open() throws Exception {
        return t.executorA().call(() -> Bypass.open("afxdp:" + t.ifaceA() + "?mode=copy"));
    }

    /**
     * @return null if a fresh kernel socket in A binds {@code address:port}, else the failure's message
     */
    private String bindInA(final String address, final int port) throws Exception {
        return t.executorA().call(() -> {
            try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.INET)) {
                c.setOption(StandardSocketOptions.SO_REUSEADDR, false);
                c.bind(new InetSocketAddress(address, port));
                return null;
            } catch (final IOException e) {
                return e.getMessage();
            }
        });
    }

    /** A listening socket on the wildcard address, SO_REUSEADDR on as the JDK sets it: still refused. */
    private String listenInA(final int port) throws Exception {
        return t.executorA().call(() -> {
            try (ServerSocketChannel c = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
                c.bind(new InetSocketAddress("0.0.0.0", port));
                return null;
            } catch (final IOException e) {
                return e.getMessage();
            }
        });
    }

    private void assertReserved(final int port) throws Exception {
        final String specific = bindInA(t.addressAText(), port);
        assertTrue(specific != null && specific.contains("Address already in use"), "bind to " + port + ": " + specific);
        final String wildcard = listenInA(port);
        assertTrue(wildcard != null && wildcard.contains("Address already in use"), "listen on *:" + port + ": " + wildcard);
    }

    private void assertFree(final int port) throws Exception {
        assertNull(bindInA(t.addressAText(), port), "port " + port + " is free again");
        assertNull(listenInA(port), "port " + port + " is free again");
    }

    static String programId(final VethPair t) {
        final Matcher m = PROG_ID.matcher(t.a().ip("-d", "link", "show", "dev", t.ifaceA()));
        return m.find() ? m.group(1) : null;
    }

    /** The id of the program attached to A and of its maps. */
    private List<String> bpfObjects() {
        final String prog = programId(t);
        assertTrue(prog != null, "a program is attached");
        final String shown = Cmd.run("bpftool", "prog", "show", "id", prog);
        assertTrue(shown.contains("name bypass_xdp"), shown);
        final Matcher maps = MAP_IDS.matcher(shown);
        assertTrue(maps.find(), shown);
        final List<String> objects = new ArrayList<>(List.of("prog " + prog));
        for (final String id : maps.group(1).split(",")) {
            objects.add("map " + id);
        }
        assertTrue(objects.size() >= 9, "the program's maps, TCP ones included: " + objects);
        return objects;
    }

    /** Waits for every object to be gone: the kernel frees them once the last reference goes. */
    private static void assertGone(final List<String> objects) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<String> left = objects;
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
            left = left.stream().filter(o -> Cmd.runUnchecked(("bpftool " + o.replace(" ", " show id ")).split(" ")).exitCode() == 0)
                .toList();
        }
        assertEquals(List.of(), left, "Bypass bpf objects left behind");
    }

    private boolean xdpAttached() {
        return t.a().ip("link", "show", "dev", t.ifaceA()).contains("xdp");
    }

    @Test
    void aSteeredPortIsReservedInTheKernelUntilItsLastRuleGoes() throws Exception {
        try (Port port = open()) {
            assertFree(7740);
            final FlowRule listener = port.addFlow(0, FlowRule.tcpListener(0, 7740));
            assertReserved(7740);
            assertEquals(listener, port.addFlow(0, FlowRule.tcpListener(t.addressA(), 7740)), "adding it again changes nothing");

            // An active open with port 0: the kernel's ephemeral port, reserved.
            final FlowRule active = port.addFlow(0, FlowRule.tcp(0, 0, t.addressB(), 9000));
            final String[] range = t.a().exec("cat", "/proc/sys/net/ipv4/ip_local_port_range").trim().split("\\s+");
            assertTrue(active.localPort() >= Integer.parseInt(range[0]) && active.localPort() <= Integer.parseInt(range[1]),
                active + " in the ephemeral range " + String.join("-", range));
            assertEquals(FlowRule.tcp(t.addressA(), active.localPort(), t.addressB(), 9000), active);
            assertReserved(active.localPort());

            // An accepted connection shares its listener's reservation and keeps it after the listener goes.
            final FlowRule accepted = port.addFlow(0, FlowRule.tcp(0, 7740, t.addressB(), 41000));
            port.removeFlow(0, listener);
            assertReserved(7740);
            port.removeFlow(0, accepted);
            assertFree(7740);
            port.removeFlow(0, active);
            assertFree(active.localPort());
            port.addFlow(0, FlowRule.tcpListener(0, 7743));
            assertReserved(7743);
            port.removeFlow(0, FlowRule.tcpListener(0, 7743)); // address 0 is the port's own here too
            assertFree(7743);

            port.addFlow(0, FlowRule.tcpListener(0, 7741));
            port.addFlow(0, FlowRule.tcp(0, 7742, t.addressB(), 9000));
            assertReserved(7741);
            assertReserved(7742);
        }
        assertFree(7741);
        assertFree(7742);
        assertFalse(xdpAttached());
    }

    /**
     * A port a kernel socket holds cannot be steered: the add fails naming the cause, steers
     * nothing (the kernel's listener still gets its connections) and reserves nothing.
     */
    @Test
    void aPortTheKernelHoldsIsRefusedAndNothingIsSteered() throws Exception {
        try (Port port = open();
             ServerSocket kernel = t.executorA().call(() -> new ServerSocket(7745, 4, java.net.InetAddress.getByName(t.addressAText())))) {
            final BypassException e = assertThrows(BypassException.class, () -> port.addFlow(0, FlowRule.tcpListener(0, 7745)));
            assertTrue(e.getMessage().contains("Address already in use") && e.getMessage().contains("tcp listener "
                + t.addressAText() + ":7745"), e.getMessage());
            final Socket client = t.executorB().call(() -> new Socket(t.addressAText(), 7745));
            try (Socket s = kernel.accept()) {
                assertTrue(client.isConnected() && s.isConnected(), "the kernel's listener still works");
                client.close(); // B closes first, so B, not A's port 7745, keeps the TIME_WAIT
                s.setSoTimeout(5000);
                assertEquals(-1, s.getInputStream().read());
            }
            kernel.close();
            assertFree(7745);
            // The port is still usable, and the address 0 rule can take the port now.
            port.addFlow(0, FlowRule.tcpListener(0, 7745));
            assertReserved(7745);
        }
        assertFree(7745);
    }

    /** After close: no program on the interface, no bpf object of ours, no reserved port. */
    @Test
    void closeLeavesNothingSteeredOrReserved() throws Exception {
        final List<String> objects;
        final int ephemeral;
        try (Port port = open()) {
            port.addFlow(0, FlowRule.tcpListener(0, 7750));
            ephemeral = port.addFlow(0, FlowRule.tcp(0, 0, t.addressB(), 9000)).localPort();
            objects = bpfObjects();
            assertReserved(7750);
        }
        assertFalse(xdpAttached());
        assertGone(objects);
        assertFree(7750);
        assertFree(ephemeral);
    }

    /**
     * kill -9 of a process holding a steered listener and connection: the kernel closes its
     * reserving sockets and its bpf_link, so the program and its maps go and the ports are free.
     */
    @Test
    void killNineLeavesNothingSteeredOrReserved() throws Exception {
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final Process p = new ProcessBuilder("ip", "netns", "exec", t.a().name(), java, "--enable-native-access=ALL-UNNAMED",
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
            HoldTcpFlows.class.getName(), t.ifaceA(), t.addressBText()).redirectErrorStream(true).start();
        final List<String> objects;
        final int ephemeral;
        try {
            final BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            final String line = out.readLine();
            assertTrue(line != null && line.startsWith("OPEN "), "the child steered its flows: " + line);
            ephemeral = Integer.parseInt(line.substring(5).trim());
            assertTrue(xdpAttached());
            objects = bpfObjects();
            assertReserved(7760);
            assertReserved(ephemeral);
        } finally {
            p.destroyForcibly(); // SIGKILL: no close(), no shutdown hook
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (xdpAttached() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertFalse(xdpAttached(), "the program goes with the process");
        assertGone(objects);
        assertFree(7760);
        assertFree(ephemeral);
    }

    /** Runs in a child JVM in namespace A: steers a listener and a connection, says which port, waits to be killed. */
    static final class HoldTcpFlows {
        private HoldTcpFlows() {
        }

        public static void main(final String[] args) throws Exception {
            final Port port = Bypass.open("afxdp:" + args[0] + "?mode=copy");
            port.addFlow(0, FlowRule.tcpListener(0, 7760));
            final FlowRule active = port.addFlow(0, FlowRule.tcp(0, 0, io.bypass.net.Ipv4.parse(args[1]), 9000));
            System.out.println("OPEN " + active.localPort());
            System.out.flush();
            Thread.sleep(60_000);
        }
    }
}
