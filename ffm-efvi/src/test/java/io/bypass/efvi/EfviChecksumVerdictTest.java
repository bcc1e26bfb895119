package io.bypass.efvi;

import io.bypass.Bypass;
import io.bypass.Capability;
import io.bypass.Counter;
import io.bypass.FlowRule;
import io.bypass.FrameMeta;
import io.bypass.Port;
import io.bypass.RxQueue;
import io.bypass.net.ChecksumPolicy;
import io.bypass.testing.Frames;
import io.bypass.testing.RawSocket;
import io.bypass.testing.Requirements;
import io.bypass.testkit.TestPorts;
import io.bypass.testkit.VethPair;
import io.bypass.udp.UdpEndpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ef_vi's checksum verdict through the software stand-in, whose NIC model reports a frame with
 * a wrong IPv4 header or UDP sum as {@code RX_DISCARD / EF_EVENT_RX_DISCARD_CSUM_BAD}, as an
 * EF10 NIC does with ef_vi's default discard mask, and every other frame as a plain RX event,
 * which says nothing of checksums. So the port does not claim
 * {@link Capability#RX_CHECKSUM_VERDICT}; a flagged frame is delivered with a bad verdict
 * (IPv4 or UDP, told apart by the IPv4 header's sum), and the protocol layer drops it on the
 * verdict alone under {@code checksum=nic} and sums it itself under {@code partial} and
 * {@code verify}. The stand-in's {@code bypass_ciul_standin_csum_bad_next} hook makes it
 * flag an intact datagram (a NIC that is wrong), which tells the two paths apart.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class EfviChecksumVerdictTest {
    private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);

    private VethPair topo;
    private Arena arena;
    private MethodHandle csumBadNext;
    private MethodHandle csumDiscards;
    private int nextPort = TestPorts.random();

    @BeforeAll
    void createTopology() {
        Requirements.requireNetns();
        Requirements.requireBackendAvailable("efvi");
        arena = Arena.ofShared();
        final SymbolLookup standin = SymbolLookup.libraryLookup(Path.of(System.getProperty("bypass.efvi.libciul")), arena);
        final Linker linker = Linker.nativeLinker();
        csumBadNext = linker.downcallHandle(standin.find("bypass_ciul_standin_csum_bad_next").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        csumDiscards = linker.downcallHandle(standin.find("bypass_ciul_standin_csum_discards").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG));
        topo = VethPair.create();
    }

    @AfterAll
    void removeTopology() {
        if (topo != null) {
            topo.close();
        }
        if (arena != null) {
            arena.close();
        }
    }

    private void flagNext(final int times) {
        try {
            assertEquals(0, (int) csumBadNext.invokeExact(times));
        } catch (final Throwable t) {
            throw new AssertionError(t);
        }
    }

    private long csumDiscards() {
        try {
            return (long) csumDiscards.invokeExact();
        } catch (final Throwable t) {
            throw new AssertionError(t);
        }
    }

    private Frames.Udp toDut(final int port) {
        return Frames.udp().macs(topo.macB(), topo.macA()).addresses(topo.addressB(), topo.addressA()).ports(40_000, port);
    }

    private static byte[] tag(final String text) {
        final byte[] b = new byte[16];
        final byte[] t = (text + "......").substring(0, 6).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(t, 0, b, 0, 6);
        return b;
    }

    private static void waitFor(final BooleanSupplier done, final Runnable poll) {
        final long deadline = System.nanoTime() + WAIT_NANOS;
        while (!done.getAsBoolean() && System.nanoTime() - deadline < 0) {
            poll.run();
        }
    }

    @Test
    void eachFrameCarriesOnlyABadVerdictAndTheCapabilityIsNotClaimed() throws Exception {
        topo.executorA().run(() -> {
            try (Port port = Bypass.open("efvi:" + topo.ifaceA()); RawSocket peer = topo.executorB().call(() -> RawSocket.open(topo.ifaceB()))) {
                assertFalse(port.capabilities().contains(Capability.RX_CHECKSUM_VERDICT),
                    "ef_vi never says a sum was right: " + port.capabilities());
                final int udp = nextPort++;
                port.addFlow(0, new FlowRule(0, udp));
                final Frames.Udp spec = toDut(udp);
                final long discardsBefore = csumDiscards();
                peer.send(spec.copy().ipId(1).payload(tag("good")).build());
                peer.send(Frames.Malformation.BAD_UDP_CHECKSUM.apply(spec.copy().ipId(2).payload(tag("badudp"))));
                peer.send(Frames.Malformation.BAD_IP_CHECKSUM.apply(spec.copy().ipId(3).payload(tag("badip"))));
                final byte[] noSum = spec.copy().ipId(4).payload(tag("nosum")).build();
                noSum[40] = 0;   // UDP checksum 0: none (RFC 768), nothing for a NIC to check
                noSum[41] = 0;
                peer.send(noSum);
                final Map<String, Integer> verdicts = new LinkedHashMap<>();
                final RxQueue rx = port.rxQueue(0);
                waitFor(() -> verdicts.size() >= 4, () -> rx.poll((buffer, offset, length, meta) -> {
                    final byte[] p = new byte[6];
                    buffer.getBytes(offset + 42, p);
                    verdicts.put(new String(p, StandardCharsets.US_ASCII), meta.checksumVerdict());
                }, 16));
                assertEquals(FrameMeta.CHECKSUM_UNKNOWN, (int) verdicts.getOrDefault("good..", -1), "intact: no verdict " + verdicts);
                assertEquals(FrameMeta.L4_CHECKSUM_BAD, (int) verdicts.getOrDefault("badudp", -1), "wrong UDP sum " + verdicts);
                assertEquals(FrameMeta.IP_CHECKSUM_BAD, (int) verdicts.getOrDefault("badip.", -1), "wrong IPv4 sum " + verdicts);
                assertEquals(FrameMeta.CHECKSUM_UNKNOWN, (int) verdicts.getOrDefault("nosum.", -1), "no UDP sum " + verdicts);
                assertEquals(discardsBefore + 2, csumDiscards(), "the two wrong sums came as RX_DISCARD / CSUM_BAD");
                assertEquals(4, port.counters().get(Counter.RX_PACKETS), "flagged frames are delivered to the Port: " + port.counters());
                assertEquals(0, port.counters().get(Counter.DROP_RX_OTHER), port.counters().toString());
            }
        });
    }

    /**
     * An intact datagram, a wrong UDP sum and a wrong IPv4 sum, then an intact datagram the NIC
     * model wrongly flags, then another intact one. Under {@code nic} the flagged one is dropped
     * as a bad UDP sum on the verdict alone; under {@code partial} and {@code verify} the
     * software sum decides and delivers it. The genuinely wrong sums are dropped and counted by
     * reason under every policy.
     */
    @ParameterizedTest
    @EnumSource(ChecksumPolicy.class)
    void theVerdictDecidesOnlyUnderNic(final ChecksumPolicy policy) throws Exception {
        topo.executorA().run(() -> {
            final String uri = "efvi:" + topo.ifaceA() + "?" + ChecksumPolicy.PARAM_NAME + "=" + policy.uriValue();
            try (UdpEndpoint ep = Bypass.openUdp(uri); RawSocket peer = topo.executorB().call(() -> RawSocket.open(topo.ifaceB()))) {
                final int port = nextPort++;
                ep.bind(port);
                final Frames.Udp spec = toDut(port);
                final List<String> got = new ArrayList<>();
                final Runnable poll = () -> ep.poll((buffer, offset, length, meta) -> {
                    final byte[] p = new byte[6];
                    buffer.getBytes(offset, p);
                    got.add(new String(p, StandardCharsets.US_ASCII));
                }, 16);
                final long discardsBefore = csumDiscards();
                peer.send(spec.copy().ipId(1).payload(tag("first")).build());
                peer.send(Frames.Malformation.BAD_UDP_CHECKSUM.apply(spec.copy().ipId(2).payload(tag("badudp"))));
                peer.send(Frames.Malformation.BAD_IP_CHECKSUM.apply(spec.copy().ipId(3).payload(tag("badip"))));
                waitFor(() -> {
                    ep.counters().refresh();
                    return !got.isEmpty() && ep.counters().get(Counter.DROP_BAD_UDP_CHECKSUM) == 1
                        && ep.counters().get(Counter.DROP_BAD_IP_CHECKSUM) == 1;
                }, poll);
                flagNext(1);
                try {
                    peer.send(spec.copy().ipId(4).payload(tag("flagd")).build());
                    peer.send(spec.copy().ipId(5).payload(tag("last")).build());
                    waitFor(() -> got.contains("last.."), poll);
                } finally {
                    flagNext(0);
                }
                ep.counters().refresh();
                final boolean nic = policy == ChecksumPolicy.NIC;
                assertEquals(nic ? List.of("first.", "last..") : List.of("first.", "flagd.", "last.."), got, policy + ": " + ep.counters());
                assertEquals(nic ? 2 : 1, ep.counters().get(Counter.DROP_BAD_UDP_CHECKSUM), policy + ": " + ep.counters());
                assertEquals(1, ep.counters().get(Counter.DROP_BAD_IP_CHECKSUM), policy + ": " + ep.counters());
                assertEquals(0, ep.counters().get(Counter.RX_PARTIAL_CHECKSUM), policy + ": " + ep.counters());
                assertEquals(discardsBefore + 3, csumDiscards(), "two wrong sums and the forced one came as RX_DISCARD / CSUM_BAD");
                assertTrue(ep.counters().get(Counter.DROP_RX_OTHER) == 0, "no discard counted as other: " + ep.counters());
            }
        });
    }
}
