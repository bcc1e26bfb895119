package io.bypass.bench.jmh;

import io.bypass.FrameClaim;
import io.bypass.FrameHandler;
import io.bypass.PortUri;
import io.bypass.net.Ipv4;
import io.bypass.udp.DatagramClaim;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.DatagramMeta;
import io.bypass.udp.L2UdpEndpoint;
import io.bypass.udp.UdpDestination;
import io.bypass.udp.UdpEndpoint;
import org.agrona.DirectBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.TimeUnit;

/**
 * The protocol layer's own cost, with no NIC and no kernel: {@link L2UdpEndpoint} on one
 * {@link LoopbackPort} sends to another, which polls. One operation is one datagram built
 * (tryClaim, 32-byte payload, commit), framed (Ethernet/IPv4/UDP, checksums) and received
 * (classified, checksum verified, handed to the handler); batches of 32 per flush/poll.
 * The raw-frame variant measures the Port contract alone.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ProtocolLayerBenchmark {
    private static final int BATCH = 32;

    private LoopbackPort[] ports;
    private UdpEndpoint a;
    private UdpEndpoint b;
    private UdpDestination toB;
    private final DatagramClaim datagramClaim = new DatagramClaim();
    private final FrameClaim frameClaim = new FrameClaim();
    private long seq;
    private long sum;
    private final DatagramHandler datagrams = this::onDatagram;
    private final FrameHandler frames = this::onFrame;

    /** Created by JMH. */
    public ProtocolLayerBenchmark() {
    }

    private void onDatagram(final DirectBuffer buffer, final int offset, final int length, final DatagramMeta meta) {
        sum += buffer.getLong(offset);
    }

    private void onFrame(final DirectBuffer buffer, final int offset, final int length, final io.bypass.FrameMeta meta) {
        sum += buffer.getLong(offset + 42);
    }

    /** Wires the two endpoints. */
    @Setup
    public void setup() {
        final int ipA = Ipv4.parse("10.99.0.1");
        final int ipB = Ipv4.parse("10.99.0.2");
        ports = LoopbackPort.pair(ipA, ipB, 256);
        a = new L2UdpEndpoint(ports[0], PortUri.parse("loop:a"), false);
        b = new L2UdpEndpoint(ports[1], PortUri.parse("loop:b"), false);
        a.bind(9000);
        b.bind(9001);
        toB = UdpDestination.of(ipB, 9001);
        if (a.tryClaim(toB, 32, datagramClaim) != UdpEndpoint.OK) {
            throw new IllegalStateException("loopback endpoint cannot claim");
        }
        datagramClaim.commit();
        a.flush();
        if (b.poll(datagrams, 1) != 1) {
            throw new IllegalStateException("loopback endpoint did not deliver");
        }
    }

    /** Closes endpoints and ports. */
    @TearDown
    public void tearDown() {
        a.close();
        b.close();
        ports[0].close();
        ports[1].close();
    }

    /**
     * 32 datagrams sent through UdpEndpoint A and received by UdpEndpoint B.
     *
     * @return a digest of what was received
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long udpSendReceive() {
        for (int i = 0; i < BATCH; i++) {
            if (a.tryClaim(toB, 32, datagramClaim) == UdpEndpoint.OK) {
                datagramClaim.buffer().putLong(0, ++seq);
                datagramClaim.commit();
            }
        }
        a.flush();
        b.poll(datagrams, BATCH);
        return sum;
    }

    /**
     * 32 raw frames claimed and committed on port A and polled on port B (the Port contract alone).
     *
     * @return a digest of what was received
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long portClaimCommitPoll() {
        final io.bypass.TxQueue tx = ports[0].txQueue(0);
        for (int i = 0; i < BATCH; i++) {
            if (tx.tryClaim(74, frameClaim)) {
                frameClaim.buffer().putLong(42, ++seq);
                frameClaim.commit();
            }
        }
        tx.flush();
        ports[1].rxQueue(0).poll(frames, BATCH);
        return sum;
    }
}
