package io.bypass.conformance;

import io.bypass.Bypass;
import io.bypass.BypassException;
import io.bypass.Capability;
import io.bypass.Counter;
import io.bypass.FlowRule;
import io.bypass.FrameClaim;
import io.bypass.FrameHandler;
import io.bypass.FrameMeta;
import io.bypass.Port;
import io.bypass.RxQueue;
import io.bypass.TxQueue;
import io.bypass.net.Ipv4;
import io.bypass.testing.Allocations;
import io.bypass.testing.Frames;
import io.bypass.testing.RawSocket;
import io.bypass.testkit.Netns;
import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The conformance suite for L2 {@link Port}s (afxdp, dpdk, efvi): raw frames through
 * {@link RxQueue} and {@link TxQueue} on a veth pair between two namespaces the suite
 * creates. The port is opened in namespace A on its veth end; frames are injected and
 * captured with a {@link RawSocket} on the other end, in namespace B.
 *
 * <pre>{@code
 * class AfXdpPortConformanceTest extends PortConformanceSuite {
 *     @Override
 *     protected String uriFor(String iface) {
 *         return "afxdp:" + iface + "?xdp=drv";
 *     }
 * }
 * }</pre>
 *
 * <p>Checks: injected frames arrive byte for byte and in order; claimed, committed and
 * flushed frames leave byte for byte and in order; abort sends nothing; a claim longer
 * than {@link TxQueue#maxFrameLength()} throws {@link IllegalArgumentException}; poll
 * honours its limit; close frees everything and use after close throws
 * {@link BypassException}; the steady-state RX+TX loop allocates nothing.
 * NIO has no ports and does not run this suite (its own test checks
 * {@code Bypass.open("nio:...")} raises {@link io.bypass.UnsupportedByBackendException}).
 *
 * <p>Dependencies of the backend module (test scope): {@code io.bypass:bypass-api} with
 * {@code <type>test-jar</type>}, and {@code org.junit.jupiter:junit-jupiter} (the suite
 * uses jupiter-api and jupiter-params; the test-jar does not bring JUnit itself).
 *
 * <p>Hooks: {@link #requireHost()}, {@link #steer(Port, int, int)},
 * {@link #assertIdentity(Port)}, {@link #assertNothingLeft(String)},
 * {@link #allocationToleranceBytes()}, {@link #steadyStateIterations()}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
public abstract class PortConformanceSuite extends SiteSuite {
    /** Longest wait for frames that must arrive. */
    protected static final long ARRIVAL_TIMEOUT_MILLIS = 5_000;
    /** How long to watch to be sure a frame does NOT arrive. */
    protected static final long ABSENCE_WINDOW_MILLIS = 300;
    /** An IEEE "local experimental" EtherType: frames of it are ignored by the peer's kernel. */
    protected static final int EXPERIMENTAL_ETHERTYPE = 0x88B5;

    /** For subclasses. */
    protected PortConformanceSuite() {
        super(Ipv4.parse("239.76.0.0"));
    }

    // ---------------------------------------------------------------- for subclasses

    /**
     * The URI that opens the backend under test on an interface.
     *
     * @param iface the veth end inside the DUT namespace
     * @return such as {@code "afxdp:" + iface + "?xdp=drv"}
     */
    protected abstract String uriFor(String iface);

    /**
     * Makes UDP traffic to {@code address:udpPort} reach RX queue 0. Default:
     * {@link Port#addFlow} (a no-op on ports without {@link Capability#FLOW_STEERING}).
     *
     * @param port    the port under test
     * @param address destination IPv4
     * @param udpPort destination UDP port
     */
    protected void steer(final Port port, final int address, final int udpPort) {
        port.addFlow(0, new FlowRule(address, udpPort));
    }

    /**
     * Checks what the port says about itself. Default: {@link Capability#L2_FRAMES}, the
     * veth's MAC, its IPv4 address where the kernel owns it ({@link Capability#KERNEL_NEIGHBOURS}),
     * at least one queue each way, and room for a full 1500-byte-MTU frame.
     *
     * @param port the open port
     */
    protected void assertIdentity(final Port port) {
        assertTrue(port.capabilities().contains(Capability.L2_FRAMES), "capabilities " + port.capabilities());
        assertEquals(Netns.macToString(site().dutMac()), Netns.macToString(port.macAddress()), "MAC of " + site().dutIface());
        if (port.capabilities().contains(Capability.KERNEL_NEIGHBOURS)) {
            assertEquals(site().dutAddress(), port.ipv4Address(), "IPv4 address the kernel gave " + site().dutIface());
        }
        assertTrue(port.rxQueueCount() >= 1 && port.txQueueCount() >= 1);
        assertTrue(port.txQueue(0).maxFrameLength() >= 1514, "maxFrameLength " + port.txQueue(0).maxFrameLength());
        assertEquals(backendName(), port.backend());
    }

    /**
     * Called on the DUT namespace's thread after a port on {@code iface} was closed:
     * check nothing is left attached (XDP program, sockets, memory). Default: nothing.
     *
     * @param iface the interface
     * @throws Exception an assertion failure
     */
    protected void assertNothingLeft(final String iface) throws Exception {
    }

    /**
     * @return bytes the steady-state loop may allocate; 0 unless a JDK internal forces it (say why)
     */
    protected long allocationToleranceBytes() {
        return 0;
    }

    /**
     * @return iterations of the measured loop (at least 20,000)
     */
    protected int steadyStateIterations() {
        return 20_000;
    }

    // ---------------------------------------------------------------- fixture

    /**
     * Opens the port under test in the DUT namespace; closed after the test.
     *
     * @return the port
     * @throws Exception if it cannot be opened
     */
    protected final Port openDut() throws Exception {
        final Port p = site().dut().call(() -> Bypass.open(uriFor(site().dutIface())));
        closeAfterTest(p);
        return p;
    }

    /** A valid UDP frame from the peer to the DUT. */
    private Frames.Udp toDut(final int dstPort) {
        return Frames.udp().macs(site().peerMac(), site().dutMac()).addresses(site().peerAddress(), site().dutAddress())
            .ports(41_000, dstPort);
    }

    /** A valid UDP frame from the DUT to the peer. */
    private Frames.Udp toPeer(final int dstPort) {
        return Frames.udp().macs(site().dutMac(), site().peerMac()).addresses(site().dutAddress(), site().peerAddress())
            .ports(41_001, dstPort);
    }

    // ---------------------------------------------------------------- tests

    @Test
    void identity() throws Exception {
        onDut(() -> assertIdentity(openDut()));
    }

    @Test
    void injectedFramesArriveByteForByteInOrder() throws Exception {
        onDut(() -> {
            final Port port = openDut();
            final int udpPort = freshPort();
            steer(port, site().dutAddress(), udpPort);
            final RawSocket raw = peerRaw();
            final List<byte[]> sent = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                final byte[] f = toDut(udpPort).ipId(i).payload(UdpConformanceSuite.payload("rx", i, 18 + i * 50)).build();
                sent.add(f);
                raw.send(f);
            }
            final FrameCollector got = new FrameCollector(udpPort);
            pollUntil(port.rxQueue(0), got, 20);
            for (int i = 0; i < 20; i++) {
                assertArrayEquals(sent.get(i), got.frames.get(i), "frame " + i);
            }
            port.counters().refresh();
            assertTrue(port.counters().get(Counter.RX_PACKETS) >= 20, "RX_PACKETS " + port.counters().get(Counter.RX_PACKETS));
        });
    }

    @Test
    void committedFramesLeaveByteForByteInOrder() throws Exception {
        onDut(() -> {
            final Port port = openDut();
            final TxQueue tx = port.txQueue(0);
            final RawSocket raw = peerRaw();
            final int dst = freshPort();
            final FrameClaim claim = new FrameClaim();
            final List<byte[]> sent = new ArrayList<>();
            int flushed = 0;
            for (int i = 0; i < 10; i++) {
                final byte[] f = toPeer(dst).ipId(i).payload(UdpConformanceSuite.payload("tx", i, 18 + i * 100)).build();
                sent.add(f);
                claimOk(tx, f.length + 20, claim);
                claim.buffer().putBytes(claim.offset(), f);
                claim.commit(f.length);
                assertFalse(claim.isClaimed());
            }
            final long deadline = deadline(ARRIVAL_TIMEOUT_MILLIS);
            while (flushed < 10 && System.nanoTime() - deadline < 0) {
                flushed += tx.flush();
            }
            assertEquals(10, flushed, "flush() returns the frames it handed to the NIC");
            for (int i = 0; i < 10; i++) {
                final byte[] f = raw.receive(ARRIVAL_TIMEOUT_MILLIS, fr -> isUdpTo(fr, dst));
                assertNotNull(f, "frame " + i + " not seen on the peer");
                assertArrayEquals(sent.get(i), f, "frame " + i);
            }
            assertNull(raw.receive(ABSENCE_WINDOW_MILLIS, fr -> isUdpTo(fr, dst)), "each frame once");
            port.counters().refresh();
            assertTrue(port.counters().get(Counter.TX_PACKETS) >= 10);
        });
    }

    @Test
    void abortSendsNothingAndTheNextClaimWorks() throws Exception {
        onDut(() -> {
            final Port port = openDut();
            final TxQueue tx = port.txQueue(0);
            final RawSocket raw = peerRaw();
            final int aborted = freshPort();
            final int kept = freshPort();
            final FrameClaim claim = new FrameClaim();
            final byte[] a = toPeer(aborted).payload(new byte[30]).build();
            claimOk(tx, a.length, claim);
            claim.buffer().putBytes(claim.offset(), a);
            claim.abort();
            assertFalse(claim.isClaimed());
            assertThrows(IllegalStateException.class, claim::commit, "commit after abort");
            final byte[] k = toPeer(kept).payload(new byte[30]).build();
            claimOk(tx, k.length, claim);
            claim.buffer().putBytes(claim.offset(), k);
            claim.commit();
            flushAll(tx, 1);
            assertNotNull(raw.receive(ARRIVAL_TIMEOUT_MILLIS, fr -> isUdpTo(fr, kept)), "the committed frame");
            assertNull(raw.receive(ABSENCE_WINDOW_MILLIS, fr -> isUdpTo(fr, aborted)), "the aborted frame must not leave");
        });
    }

    @Test
    void claimLongerThanMaxFrameLengthThrowsIllegalArgument() throws Exception {
        onDut(() -> {
            final Port port = openDut();
            final TxQueue tx = port.txQueue(0);
            final FrameClaim claim = new FrameClaim();
            final int max = tx.maxFrameLength();
            assertThrows(IllegalArgumentException.class, () -> tx.tryClaim(max + 1, claim));
            assertFalse(claim.isClaimed());
            claimOk(tx, max, claim);
            assertEquals(max, claim.length());
            assertEquals(max, claim.buffer().capacity() - claim.offset() >= max ? max : -1, "buffer holds the claim");
            claim.abort();
        });
    }

    @Test
    void batchOfClaimsLeavesInOrderAfterOneFlush() throws Exception {
        onDut(() -> {
            final Port port = openDut();
            final TxQueue tx = port.txQueue(0);
            final RawSocket raw = peerRaw();
            final int dst = freshPort();
            final FrameClaim claim = new FrameClaim();
            int committed = 0;
            int flushed = 0;
            while (committed < 64) {
                final byte[] f = toPeer(dst).ipId(committed).payload(UdpConformanceSuite.payload("b", committed, 40)).build();
                if (tx.tryClaim(f.length, claim)) {
                    claim.buffer().putBytes(claim.offset(), f);
                    claim.commit();
                    committed++;
                } else {
                    flushed += tx.flush(); // ring full: the documented remedy
                }
            }
            flushed += flushAll(tx, 64 - flushed);
            assertEquals(64, flushed);
            for (int i = 0; i < 64; i++) {
                final byte[] f = raw.receive(ARRIVAL_TIMEOUT_MILLIS, fr -> isUdpTo(fr, dst));
                assertNotNull(f, "frame " + i + " of 64");
                assertEquals(i, Frames.getShort(f, Frames.IP_OFFSET + 4), "order");
            }
        });
    }

    @Test
    void pollHonoursItsLimit() throws Exception {
        onDut(() -> {
            final Port port = openDut();
            final int udpPort = freshPort();
            steer(port, site().dutAddress(), udpPort);
            final RawSocket raw = peerRaw();
            for (int i = 0; i < 50; i++) {
                raw.send(toDut(udpPort).ipId(i).payload(new byte[20]).build());
            }
            Thread.sleep(200);
            final RxQueue rx = port.rxQueue(0);
            final FrameCollector got = new FrameCollector(udpPort);
            final long deadline = deadline(ARRIVAL_TIMEOUT_MILLIS);
            int largest = 0;
            while (got.frames.size() < 50 && System.nanoTime() - deadline < 0) {
                final int before = got.calls;
                final int n = rx.poll(got, 8);
                assertTrue(n <= 8, "poll(handler, 8) returned " + n);
                assertEquals(n, got.calls - before, "return value equals handler calls");
                largest = Math.max(largest, n);
            }
            assertEquals(50, got.frames.size());
            assertEquals(8, largest, "with 50 waiting a poll must fill its limit");
            for (int i = 0; i < 50; i++) {
                assertEquals(i, Frames.getShort(got.frames.get(i), Frames.IP_OFFSET + 4), "order");
            }
        });
    }

    @Test
    void closeFreesEverythingSoTheInterfaceCanBeReopened() throws Exception {
        onDut(() -> {
            final Port first = openDut();
            first.close();
            assertTrue(first.isClosed());
            assertDoesNotThrow(first::close, "close is idempotent");
            assertNothingLeft(site().dutIface());
            final Port second = openDut();
            final int udpPort = freshPort();
            steer(second, site().dutAddress(), udpPort);
            final RawSocket raw = peerRaw();
            raw.send(toDut(udpPort).payload(new byte[10]).build());
            pollUntil(second.rxQueue(0), new FrameCollector(udpPort), 1);
            second.close();
            assertNothingLeft(site().dutIface());
        });
    }

    @Test
    void useAfterCloseThrowsAndNeverCrashes() throws Exception {
        onDut(() -> {
            final Port port = openDut();
            final RxQueue rx = port.rxQueue(0);
            final TxQueue tx = port.txQueue(0);
            final FrameClaim held = new FrameClaim();
            claimOk(tx, 64, held);
            port.close();
            assertTrue(port.isClosed());
            final FrameCollector got = new FrameCollector(0);
            assertThrows(BypassException.class, () -> rx.poll(got, 8), "poll");
            assertThrows(BypassException.class, () -> tx.tryClaim(64, new FrameClaim()), "tryClaim");
            assertThrows(BypassException.class, tx::flush, "flush");
            // The claim's memory may be freed: committing it must be refused (BypassException,
            // or IllegalStateException as for any claim no longer valid), never written or sent.
            final RuntimeException refused = assertThrows(RuntimeException.class, held::commit, "commit of a claim taken before close");
            assertTrue(refused instanceof BypassException || refused instanceof IllegalStateException,
                "commit after close threw " + refused);
            assertEquals(0, got.calls);
            assertDoesNotThrow(port::close);
        });
    }

    /**
     * RX and TX together: a peer thread injects frames; the DUT polls, and claims,
     * commits and flushes experimental-EtherType frames (which the peer's kernel ignores).
     * After warm-up, one of up to three measured windows must allocate nothing.
     */
    @Test
    void steadyStateAllocatesNothing() throws Exception {
        onDut(() -> {
            final Port port = openDut();
            final int udpPort = freshPort();
            steer(port, site().dutAddress(), udpPort);
            final RawSocket raw = peerRaw();
            final byte[] inbound = toDut(udpPort).payload(new byte[32]).build();
            final Injector injector = new Injector(raw, inbound);
            final Thread t = Thread.ofPlatform().daemon().name("conformance-injector").start(injector);
            try {
                final Loop loop = new Loop(port.rxQueue(0), port.txQueue(0), site().dutMac(), site().peerMac());
                // Warm up until C2 has compiled the path: at least 20k iterations, then three
                // clean chunks in a row (at most 60k), as the UDP suite does. What allocated after
                // a short warm-up was C2 interning the string constants of a class on the
                // polling thread when it first compiled one of its methods (seen with JFR
                // allocation events and -XX:-UseTLAB); Bypass now keeps those out of its hot
                // classes and interns the rest at open (HotPathErrors, HotPathStrings), and
                // HotPathClassesTest checks the first. A deoptimisation in a window is still
                // a one-off, hence up to three windows below.
                long warm = 0;
                int cleanInARow = 0;
                for (int chunk = 0; chunk < 30; chunk++) {
                    final long b = Allocations.measure(() -> loop.run(2_000));
                    warm += 2_000;
                    assertNull(loop.failure, loop.failure);
                    cleanInARow = b == 0 ? cleanInARow + 1 : 0;
                    if (chunk >= 9 && cleanInARow >= 3) {
                        break;
                    }
                }
                final int n = Math.max(20_000, steadyStateIterations());
                final List<Long> windows = new ArrayList<>();
                long best = Long.MAX_VALUE;
                for (int attempt = 0; attempt < 3 && best > allocationToleranceBytes(); attempt++) {
                    final long rxBefore = loop.received;
                    final long bytes = Allocations.measure(() -> loop.run(n));
                    assertNull(loop.failure, loop.failure);
                    assertTrue(loop.received > rxBefore, "frames were received during the window");
                    windows.add(bytes);
                    best = Math.min(best, bytes);
                }
                assertEquals(warm + (long) n * windows.size(), loop.sent, "every iteration sent a frame");
                assertTrue(best <= allocationToleranceBytes(), "steady state allocated " + windows + " bytes in windows of "
                    + n + " iterations (tolerance " + allocationToleranceBytes() + ")");
            } finally {
                injector.running = false;
                t.join(5_000);
            }
            assertNull(injector.failure.get(), () -> "injector failed: " + injector.failure.get());
        });
    }

    // ---------------------------------------------------------------- helpers

    private static long deadline(final long millis) {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    }

    private static boolean isUdpTo(final byte[] frame, final int port) {
        return Frames.isIpv4Udp(frame) && Frames.getShort(frame, Frames.UDP_OFFSET + 2) == port;
    }

    private static void claimOk(final TxQueue tx, final int length, final FrameClaim claim) {
        final long deadline = deadline(ARRIVAL_TIMEOUT_MILLIS);
        while (!tx.tryClaim(length, claim)) {
            assertTrue(System.nanoTime() - deadline < 0, "no TX frame free after " + ARRIVAL_TIMEOUT_MILLIS + " ms");
            tx.flush();
        }
        assertTrue(claim.isClaimed());
        assertEquals(length, claim.length());
    }

    private static int flushAll(final TxQueue tx, final int expected) {
        final long deadline = deadline(ARRIVAL_TIMEOUT_MILLIS);
        int flushed = 0;
        while (flushed < expected && System.nanoTime() - deadline < 0) {
            flushed += tx.flush();
        }
        return flushed;
    }

    private static void pollUntil(final RxQueue rx, final FrameCollector got, final int count) {
        final long deadline = deadline(ARRIVAL_TIMEOUT_MILLIS);
        while (got.frames.size() < count && System.nanoTime() - deadline < 0) {
            rx.poll(got, 64);
        }
        if (got.frames.size() < count) {
            fail("expected " + count + " frames within " + ARRIVAL_TIMEOUT_MILLIS + " ms, got " + got.frames.size()
                + " (and " + (got.calls - got.frames.size()) + " others)");
        }
    }

    /** Copies frames to one UDP port (others are counted only). */
    private static final class FrameCollector implements FrameHandler {
        final int port;
        final List<byte[]> frames = new ArrayList<>();
        int calls;

        FrameCollector(final int port) {
            this.port = port;
        }

        @Override
        public void onFrame(final DirectBuffer buffer, final int offset, final int length, final FrameMeta meta) {
            calls++;
            final byte[] f = new byte[length];
            buffer.getBytes(offset, f);
            if (isUdpTo(f, port)) {
                frames.add(f);
            }
        }
    }

    /** Sends one frame every ~20 microseconds until stopped. */
    private static final class Injector implements Runnable {
        final RawSocket raw;
        final byte[] frame;
        volatile boolean running = true;
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Injector(final RawSocket raw, final byte[] frame) {
            this.raw = raw;
            this.frame = frame;
        }

        @Override
        public void run() {
            try {
                while (running) {
                    raw.send(frame);
                    LockSupport.parkNanos(20_000);
                }
            } catch (final Throwable t) {
                failure.set(t);
            }
        }
    }

    /** The measured loop; allocates everything up front. */
    private static final class Loop implements FrameHandler {
        private static final int LENGTH = 60;
        private final RxQueue rx;
        private final TxQueue tx;
        private final long srcMac;
        private final long dstMac;
        private final FrameClaim claim = new FrameClaim();
        long received;
        long sent;
        String failure;

        Loop(final RxQueue rx, final TxQueue tx, final long srcMac, final long dstMac) {
            this.rx = rx;
            this.tx = tx;
            this.srcMac = srcMac;
            this.dstMac = dstMac;
        }

        @Override
        public void onFrame(final DirectBuffer buffer, final int offset, final int length, final FrameMeta meta) {
            received++;
        }

        void run(final int iterations) {
            for (int i = 0; i < iterations && failure == null; i++) {
                rx.poll(this, 32);
                final long deadline = System.nanoTime() + 2_000_000_000L;
                while (!tx.tryClaim(LENGTH, claim)) {
                    tx.flush();
                    if (System.nanoTime() - deadline > 0) {
                        failure = "no TX frame free for 2 s";
                        return;
                    }
                }
                final org.agrona.MutableDirectBuffer b = claim.buffer();
                final int o = claim.offset();
                for (int k = 0; k < 6; k++) {
                    b.putByte(o + k, (byte) (dstMac >>> (40 - 8 * k)));
                    b.putByte(o + 6 + k, (byte) (srcMac >>> (40 - 8 * k)));
                }
                b.putShort(o + 12, (short) EXPERIMENTAL_ETHERTYPE, java.nio.ByteOrder.BIG_ENDIAN);
                b.putLong(o + 14, sent, java.nio.ByteOrder.BIG_ENDIAN);
                claim.commit();
                sent++;
                if ((i & 15) == 15) {
                    tx.flush();
                }
            }
            tx.flush();
        }
    }
}
