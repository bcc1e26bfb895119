package io.bypass.dpdk.internal;

import io.bypass.Bypass;
import io.bypass.FrameClaim;
import io.bypass.FrameHandler;
import io.bypass.Port;
import io.bypass.RxQueue;
import io.bypass.TxQueue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;

/**
 * The Java side of native/dpdk-bench/dpdk_null_bench.c: the same RX and TX loops through the
 * public Port API on DPDK's net_null PMD (no kernel, no NIC: only the application side is
 * measured), the price of one shim downcall per burst, and the bytes the measuring thread
 * allocated. Run by native/dpdk-bench/run.sh; not a unit test.
 */
public final class DpdkNullBench {
    private static final int BURST = 64;
    private static long bytes;

    private DpdkNullBench() {
    }

    /**
     * @param args seconds per phase, CPU to pin the lcore to
     */
    public static void main(final String[] args) {
        final double seconds = Double.parseDouble(args[0]);
        final String cpu = args[1];
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Port port = Bypass.open("dpdk:net_null0,size=60?hugepages=false&lcores=0@" + cpu)) {
            final RxQueue rx = port.rxQueue(0);
            final TxQueue tx = port.txQueue(0);
            final FrameHandler handler = (buffer, offset, length, meta) -> bytes += length;
            final FrameClaim claim = new FrameClaim();
            // Warm-up: let the JIT compile both loops before anything is measured.
            runRx(rx, handler, 2.0);
            runTx(tx, claim, 2.0);
            final long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
            final double rxMpps = runRx(rx, handler, seconds);
            final double txMpps = runTx(tx, claim, seconds);
            final long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
            System.out.printf("java rx %.2f Mpps%n", rxMpps);
            System.out.printf("java tx %.2f Mpps%n", txMpps);
            System.out.printf("java allocated %d bytes in the measured RX and TX loops%n", allocated);
            emptyBurst((DpdkPortImpl) port);
        }
    }

    private static double runRx(final RxQueue rx, final FrameHandler handler, final double seconds) {
        long frames = 0;
        final long start = System.nanoTime();
        final long end = start + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            frames += rxChunk(rx, handler);
        }
        return frames / ((System.nanoTime() - start) / 1e9) / 1e6;
    }

    // The loops live in methods called many times, so the JIT compiles them whole rather than on-stack-replaced.
    private static long rxChunk(final RxQueue rx, final FrameHandler handler) {
        long frames = 0;
        for (int k = 0; k < 1024; k++) {
            frames += rx.poll(handler, BURST);
        }
        return frames;
    }

    private static double runTx(final TxQueue tx, final FrameClaim claim, final double seconds) {
        long frames = 0;
        final long start = System.nanoTime();
        final long end = start + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            frames += txChunk(tx, claim, frames);
        }
        return frames / ((System.nanoTime() - start) / 1e9) / 1e6;
    }

    private static long txChunk(final TxQueue tx, final FrameClaim claim, final long base) {
        long frames = 0;
        for (int k = 0; k < 1024; k++) {
            for (int i = 0; i < BURST && tx.tryClaim(60, claim); i++) {
                // Written as an encoder would, in 8-byte stores, as the C side does.
                final org.agrona.MutableDirectBuffer b = claim.buffer();
                for (int w = 0; w < 7; w++) {
                    b.putLong(8 * w, base + frames + w);
                }
                b.putInt(56, i);
                claim.commit();
            }
            frames += tx.flush();
        }
        return frames;
    }

    /** One shim tx burst of nothing, the fixed price of a burst through FFM; compare with C's. */
    private static void emptyBurst(final DpdkPortImpl port) {
        {
            final MemorySegment none = Arena.ofAuto().allocate(ValueLayout.ADDRESS, 1); // as the queues' arrays
            final short portId = (short) port.portId();
            for (int k = 0; k < 5_000_000; k++) {
                Rte.txBurst(portId, (short) 0, none, 0);
            }
            final long calls = 20_000_000;
            final long start = System.nanoTime();
            for (long k = 0; k < calls; k++) {
                Rte.txBurst(portId, (short) 0, none, 0);
            }
            System.out.printf("java empty-burst %.2f ns%n", (System.nanoTime() - start) / (double) calls);
        }
    }
}
