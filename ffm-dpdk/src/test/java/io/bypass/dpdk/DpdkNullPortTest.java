package io.bypass.dpdk;

import io.bypass.Bypass;
import io.bypass.Capability;
import io.bypass.Counter;
import io.bypass.FrameClaim;
import io.bypass.FrameHandler;
import io.bypass.Port;
import io.bypass.testing.Requirements;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The port life cycle and the mbuf accounting on DPDK's net_null PMD, which receives
 * endless frames and drops what it sends: a million frames each way, then the mempool
 * must hold exactly as many free mbufs as before.
 */
class DpdkNullPortTest {
    @BeforeAll
    static void host() {
        Requirements.requireRoot();
        Requirements.requireBackendAvailable("dpdk");
    }

    @Test
    void millionFramesThroughRxAndTxReturnEveryMbuf() {
        try (Port port = Bypass.open("dpdk:net_null" + DpdkTestSupport.nextVdevIndex() + ",size=64?hugepages=false")) {
            final DpdkPort dpdk = (DpdkPort) port;
            assertTrue(port.capabilities().containsAll(java.util.Set.of(Capability.L2_FRAMES, Capability.ZERO_COPY_RX,
                Capability.ZERO_COPY_TX, Capability.MULTICAST)), port.capabilities().toString());
            assertFalse(port.capabilities().contains(Capability.KERNEL_NEIGHBOURS));
            final int before = dpdk.mempoolAvailable();
            final long[] seen = new long[2];
            final FrameHandler handler = (buffer, offset, length, meta) -> {
                seen[0]++;
                seen[1] += length;
            };
            while (seen[0] < 1_000_000) {
                port.rxQueue(0).poll(handler, 64);
            }
            assertEquals(seen[0], port.counters().get(Counter.RX_PACKETS));
            assertEquals(64L * seen[0], seen[1], "net_null frames are size=64");
            final FrameClaim claim = new FrameClaim();
            long sent = 0;
            while (sent < 1_000_000) {
                for (int i = 0; i < 32 && port.txQueue(0).tryClaim(60, claim); i++) {
                    claim.buffer().setMemory(0, 60, (byte) i);
                    claim.commit();
                }
                sent += port.txQueue(0).flush();
            }
            assertEquals(sent, port.counters().get(Counter.TX_PACKETS));
            // The TX stash holds up to one refill of allocated mbufs between flushes; abort-free claims
            // have all been committed and flushed, so only the stash is outstanding.
            final int stashed = before - dpdk.mempoolAvailable();
            assertTrue(stashed >= 0 && stashed <= 64, "only the TX stash may hold mbufs, got " + stashed);
        }
    }

    @Test
    void privateEalLeavesNoRuntimeDirectory() {
        Bypass.open("dpdk:net_null" + DpdkTestSupport.nextVdevIndex() + "?hugepages=false").close();
        final java.nio.file.Path dir = java.nio.file.Path.of("/var/run/dpdk", "bypass-" + ProcessHandle.current().pid());
        assertFalse(java.nio.file.Files.exists(dir), dir + " left behind");
    }
}
