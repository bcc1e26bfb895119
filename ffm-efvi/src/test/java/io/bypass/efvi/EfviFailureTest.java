package io.bypass.efvi;

import io.bypass.Bypass;
import io.bypass.BypassException;
import io.bypass.FlowRule;
import io.bypass.Port;
import io.bypass.testing.Requirements;
import io.bypass.testkit.VethPair;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Failures part way through setup, injected in the software stand-in (its test hook
 * {@code bypass_ciul_standin_fail_next}): the exception names the ef_vi call, the errno and
 * the remedy, and everything allocated before the failure is freed (the stand-in counts
 * its live driver handles, PDs, memory registrations and VIs; no packet socket is left).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class EfviFailureTest {
    private final Arena arena = Arena.ofShared();
    private VethPair topo;
    private MethodHandle failNext;
    private MethodHandle liveObjects;

    @BeforeAll
    void setUp() {
        Requirements.requireNetns();
        Requirements.requireBackendAvailable("efvi");
        final SymbolLookup standin = SymbolLookup.libraryLookup(Path.of(System.getProperty("bypass.efvi.libciul")), arena);
        final Linker linker = Linker.nativeLinker();
        failNext = linker.downcallHandle(standin.find("bypass_ciul_standin_fail_next").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        liveObjects = linker.downcallHandle(standin.find("bypass_ciul_standin_live_objects").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT));
        topo = VethPair.create();
    }

    @AfterAll
    void tearDown() {
        if (topo != null) {
            topo.close();
        }
        arena.close();
    }

    /** No injected failure may outlive its test. */
    @AfterEach
    void clearInjection() throws Throwable {
        failNext("", 0, 0);
    }

    private void failNext(final String call, final int negativeErrno, final int times) throws Throwable {
        final int rc = (int) failNext.invokeExact(arena.allocateFrom(call), negativeErrno, times);
        assertEquals(0, rc);
    }

    private int live() throws Throwable {
        return (int) liveObjects.invokeExact();
    }

    private long packetSocketsOn(final String iface) throws Exception {
        final int ifindex = java.net.NetworkInterface.getByName(iface).getIndex();
        return Files.readAllLines(Path.of("/proc/thread-self/net/packet")).stream().skip(1)
            .map(l -> l.trim().split("\\s+")).filter(f -> f.length > 4 && f[4].equals(Integer.toString(ifindex))).count();
    }

    @ParameterizedTest
    @CsvSource({
        "ef_driver_open, -19, ENODEV, load Onload's drivers",
        "ef_pd_alloc, -1, EPERM, AmbientCapabilities=CAP_NET_RAW CAP_IPC_LOCK",
        "ef_vi_alloc_from_pd, -16, EBUSY, out of VIs or filters",
        "ef_memreg_alloc, -12, ENOMEM, ulimit -l",
    })
    void failedOpenNamesTheCallAndFreesEverything(final String call, final int err, final String errName, final String remedy)
        throws Throwable {
        final int before = live();
        topo.executorA().run(() -> {
            try {
                // The VI allocation is retried without RX timestamps, so it must fail twice.
                failNext(call, err, call.equals("ef_vi_alloc_from_pd") ? 2 : 1);
            } catch (final Throwable t) {
                throw new AssertionError(t);
            }
            final BypassException e = assertThrows(BypassException.class, () -> Bypass.open("efvi:" + topo.ifaceA()));
            assertTrue(e.getMessage().contains(call) && e.getMessage().contains(errName) && e.getMessage().contains(remedy)
                && e.getMessage().contains("bypass-ciul-standin"), e.getMessage());
            assertEquals(0, packetSocketsOn(topo.ifaceA()), "no VI socket left after the failed open");
        });
        assertEquals(before, live(), "every driver handle, PD, registration and VI allocated before " + call + " was freed");
    }

    /** NICs without PTP refuse EF_VI_RX_TIMESTAMPS: the VI is allocated again without them. */
    @Test
    void viWithoutRxTimestampsStillOpens() throws Throwable {
        final int before = live();
        topo.executorA().run(() -> {
            try {
                failNext("ef_vi_alloc_from_pd", -95, 1);
            } catch (final Throwable t) {
                throw new AssertionError(t);
            }
            try (Port port = Bypass.open("efvi:" + topo.ifaceA())) {
                assertTrue(port.capabilities().contains(io.bypass.Capability.L2_FRAMES));
            }
        });
        assertEquals(before, live());
    }

    @Test
    void refusedFilterIsAClearErrorAndThePortStaysUsable() throws Throwable {
        final int before = live();
        topo.executorA().run(() -> {
            try (Port port = Bypass.open("efvi:" + topo.ifaceA())) {
                try {
                    failNext("ef_vi_filter_add", -17, 1);
                } catch (final Throwable t) {
                    throw new AssertionError(t);
                }
                final BypassException e = assertThrows(BypassException.class, () -> port.addFlow(0, new FlowRule(0, 5555)));
                assertTrue(e.getMessage().contains("ef_vi_filter_add(udp " + io.bypass.net.Ipv4.toString(topo.addressA()) + ":5555)")
                    && e.getMessage().contains("EEXIST") && e.getMessage().contains("already has a filter"), e.getMessage());
                port.addFlow(0, new FlowRule(0, 5555));
                port.removeFlow(0, new FlowRule(0, 5555));
            }
        });
        assertEquals(before, live(), "close freed everything");
    }

    /**
     * A refused TCP filter leaves nothing: the local port's kernel reservation is released (a kernel
     * socket binds it again), no stand-in drop table is left in the namespace (nft list ruleset), and the
     * same rule then adds, with the table, and removes, without it.
     */
    @Test
    void refusedTcpFilterReleasesItsPortAndLeavesNoDropRule() throws Throwable {
        final int before = live();
        topo.executorA().run(() -> {
            try (Port port = Bypass.open("efvi:" + topo.ifaceA())) {
                try {
                    failNext("ef_vi_filter_add", -28, 1);
                } catch (final Throwable t) {
                    throw new AssertionError(t);
                }
                final BypassException e = assertThrows(BypassException.class, () -> port.addFlow(0, FlowRule.tcpListener(0, 5556)));
                assertTrue(e.getMessage().contains("ef_vi_filter_add(tcp listener " + io.bypass.net.Ipv4.toString(topo.addressA()) + ":5556)")
                    && e.getMessage().contains("ENOSPC"), e.getMessage());
                try (java.nio.channels.ServerSocketChannel s = java.nio.channels.ServerSocketChannel.open()) {
                    s.bind(new java.net.InetSocketAddress(5556)); // the reservation was released
                }
                assertTrue(!topo.a().exec("nft", "list", "ruleset").contains("bypass_standin_"), "no drop table after the failure");
                final FlowRule rule = port.addFlow(0, FlowRule.tcpListener(0, 5556));
                assertTrue(topo.a().exec("nft", "list", "ruleset").contains("bypass_standin_"), "the drop table with the filter");
                port.removeFlow(0, rule);
                assertTrue(!topo.a().exec("nft", "list", "ruleset").contains("bypass_standin_"), "gone with the last TCP filter");
            }
        });
        assertEquals(before, live(), "close freed everything");
    }

    /**
     * Closing a port frees everything even after a step fails: two filter deletions refused,
     * the VI, memory registration, protection domain and driver handle are still freed, no
     * packet socket is left, and both failures are reported.
     */
    @Test
    void closeCarriesOnPastFailedFilterDeletionsAndReportsEach() throws Throwable {
        final int before = live();
        topo.executorA().run(() -> {
            final Port port = Bypass.open("efvi:" + topo.ifaceA());
            port.addFlow(0, new FlowRule(0, 5001));
            port.addFlow(0, new FlowRule(0, 5002));
            try {
                failNext("ef_vi_filter_del", -5, 2);
            } catch (final Throwable t) {
                throw new AssertionError(t);
            }
            final BypassException e = assertThrows(BypassException.class, port::close);
            final String a = io.bypass.net.Ipv4.toString(topo.addressA());
            assertTrue(e.getMessage().startsWith("efvi: closing efvi:" + topo.ifaceA() + " failed part-way")
                && e.getMessage().contains("ef_vi_filter_del(udp " + a + ":5001)")
                && e.getMessage().contains("ef_vi_filter_del(udp " + a + ":5002)") && e.getMessage().contains("EIO"),
                e.getMessage());
            assertEquals(1, e.getSuppressed().length, "the second failure is suppressed");
            assertTrue(port.isClosed());
            assertEquals(0, packetSocketsOn(topo.ifaceA()), "the VI's socket was closed");
            port.close(); // idempotent: nothing more to report
        });
        assertEquals(before, live(), "every driver handle, PD, registration and VI was freed");
    }
}
