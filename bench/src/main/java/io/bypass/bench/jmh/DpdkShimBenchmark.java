package io.bypass.bench.jmh;

import io.bypass.Bypass;
import io.bypass.FrameClaim;
import io.bypass.FrameHandler;
import io.bypass.FrameMeta;
import io.bypass.Port;
import io.bypass.dpdk.DpdkPort;
import io.bypass.spi.BackendProvider;
import org.agrona.DirectBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;

/**
 * The DPDK shim's cost per burst, on a {@code net_null} vdev (no NIC, no kernel; EAL with
 * {@code --no-huge}). {@code shimTxBurstEmpty}: one downcall into the shim's
 * {@code rte_eth_tx_burst} wrapper with no packets, which is the fixed price of a burst.
 * {@code shimRxBurst32}: one rx burst of 32 mbufs plus the bulk free, both through the shim.
 * {@code portPoll32} and {@code portClaim32Flush}: the same through the public Port API
 * (one burst per poll or flush), per burst of 32 frames.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class DpdkShimBenchmark {
    private static final String SHIM = "/META-INF/native/linux-x86_64/libbypass_dpdk.so";

    private Port port;
    private Arena arena;
    private Path shimCopy;
    private MethodHandle txBurst;
    private MethodHandle rxBurst;
    private MethodHandle freeBulk;
    private MemorySegment mbufs;
    private MemorySegment dataAddrs;
    private MemorySegment dataLens;
    private short portId;
    private final FrameClaim claim = new FrameClaim();
    private long sum;
    private final FrameHandler handler = this::onFrame;

    /** Created by JMH. */
    public DpdkShimBenchmark() {
    }

    private void onFrame(final DirectBuffer buffer, final int offset, final int length, final FrameMeta meta) {
        sum += length;
    }

    /**
     * Starts the EAL and a net_null port through the API, and binds the shim directly.
     *
     * @throws Exception if DPDK is unavailable
     */
    @Setup
    public void setup() throws Exception {
        final BackendProvider p = Bypass.backend("dpdk");
        if (p == null || !p.isAvailable()) {
            throw new IllegalStateException("dpdk unavailable: " + (p == null ? "not on the class path" : p.unavailabilityCause().getMessage()));
        }
        port = Bypass.open("dpdk:net_null0,size=64?hugepages=false");
        portId = (short) ((DpdkPort) port).portId();
        arena = Arena.ofShared();
        // A copy of the jar's shim: it links to the same librte_* the backend loaded, so it drives the same port.
        shimCopy = Files.createTempFile("libbypass_dpdk_bench", ".so");
        try (InputStream in = DpdkPort.class.getResourceAsStream(SHIM)) {
            if (in == null) {
                throw new IllegalStateException(SHIM + " not on the class path");
            }
            Files.copy(in, shimCopy, StandardCopyOption.REPLACE_EXISTING);
        }
        final SymbolLookup lookup = SymbolLookup.libraryLookup(shimCopy, arena);
        final Linker linker = Linker.nativeLinker();
        txBurst = linker.downcallHandle(lookup.find("bypass_dpdk_tx_burst").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_SHORT, ValueLayout.JAVA_SHORT, ValueLayout.JAVA_SHORT, ValueLayout.ADDRESS,
                ValueLayout.JAVA_SHORT), Linker.Option.critical(false));
        rxBurst = linker.downcallHandle(lookup.find("bypass_dpdk_rx_burst").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_SHORT, ValueLayout.JAVA_SHORT, ValueLayout.JAVA_SHORT, ValueLayout.ADDRESS,
                ValueLayout.JAVA_SHORT, ValueLayout.ADDRESS, ValueLayout.ADDRESS), Linker.Option.critical(false));
        freeBulk = linker.downcallHandle(lookup.find("bypass_dpdk_free_bulk").orElseThrow(),
            FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_INT), Linker.Option.critical(false));
        mbufs = arena.allocate(ValueLayout.ADDRESS, 64);
        dataAddrs = arena.allocate(ValueLayout.JAVA_LONG, 64);
        dataLens = arena.allocate(ValueLayout.JAVA_INT, 64);
    }

    /** Closes the port and unloads the shim copy. */
    @TearDown
    public void tearDown() throws Exception {
        port.close();
        arena.close();
        Files.deleteIfExists(shimCopy);
    }

    /**
     * @return packets taken (0)
     * @throws Throwable never
     */
    @Benchmark
    public short shimTxBurstEmpty() throws Throwable {
        return (short) txBurst.invokeExact(portId, (short) 0, mbufs, (short) 0);
    }

    /**
     * @return mbufs received and freed
     * @throws Throwable never
     */
    @Benchmark
    public short shimRxBurst32() throws Throwable {
        final short n = (short) rxBurst.invokeExact(portId, (short) 0, mbufs, (short) 32, dataAddrs, dataLens);
        freeBulk.invokeExact(mbufs, (int) n);
        return n;
    }

    /** @return frames polled through Port (one rx burst) */
    @Benchmark
    public int portPoll32() {
        return port.rxQueue(0).poll(handler, 32);
    }

    /** @return frames sent through Port: 32 claims, one tx burst */
    @Benchmark
    public int portClaim32Flush() {
        final io.bypass.TxQueue tx = port.txQueue(0);
        for (int i = 0; i < 32; i++) {
            if (!tx.tryClaim(64, claim)) {
                break;
            }
            claim.buffer().putLong(0, i);
            claim.commit();
        }
        return tx.flush();
    }
}
