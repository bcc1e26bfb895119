package io.bypass.dpdk;

import io.bypass.Bypass;
import io.bypass.BypassException;
import io.bypass.Port;
import io.bypass.testing.Requirements;
import io.bypass.testkit.VethPair;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Closing a port frees everything even after a step fails, and reports the failure: a
 * net_af_packet port whose interface is deleted under it cannot turn the interface's
 * promiscuous mode back off, yet its device is still stopped, closed (its packet sockets
 * with it) and removed, so the same vdev name opens again.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DpdkCloseTest {
    @BeforeAll
    static void host() {
        Requirements.requireNetns();
        Requirements.requireBackendAvailable("dpdk");
    }

    /** @return packet sockets of this process in the calling thread's namespace */
    private static long packetSockets() throws Exception {
        return Files.readAllLines(Path.of("/proc/thread-self/net/packet")).stream().skip(1).filter(l -> !l.isBlank()).count();
    }

    @Test
    void closeCarriesOnPastAFailedStepAndReportsIt() throws Exception {
        final int index = DpdkTestSupport.nextVdevIndex();
        final String name = "net_af_packet" + index;
        final VethPair gone = VethPair.create();
        try {
            final Port port = gone.executorA().call(() -> Bypass.open("dpdk:" + name + ",iface=" + gone.ifaceA()
                + "?hugepages=false&promisc=true"));
            assertTrue(gone.executorA().call(DpdkCloseTest::packetSockets) > 0, "the PMD's packet socket is open");
            // Fault injection: the interface goes away under the open port, so restoring its promiscuity fails.
            gone.a().ip("link", "del", gone.ifaceA());

            final BypassException e = assertThrows(BypassException.class, () -> gone.executorA().run(port::close));
            assertTrue(e.getMessage().startsWith("dpdk: closing " + name + " failed part-way")
                && e.getMessage().contains("rte_eth_promiscuous_disable: "), e.getMessage());
            assertTrue(port.isClosed());
            assertEquals(0, gone.executorA().call(DpdkCloseTest::packetSockets), "the device was closed after the failure");
            port.close(); // idempotent: nothing more to report
        } finally {
            gone.close();
        }
        final VethPair next = VethPair.create();
        try (next; Port again = next.executorA().call(() -> Bypass.open("dpdk:" + name + ",iface=" + next.ifaceA()
            + "?hugepages=false"))) {
            assertFalse(again.isClosed(), "the device was removed after the failure, so its name opens again");
        }
    }
}
