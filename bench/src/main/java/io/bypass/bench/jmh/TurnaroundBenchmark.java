package io.bypass.bench.jmh;

import io.bypass.FrameClaim;
import io.bypass.FrameHandler;
import io.bypass.FrameMeta;
import io.bypass.PortUri;
import io.bypass.RxQueue;
import io.bypass.TxQueue;
import io.bypass.net.Checksums;
import io.bypass.net.Ipv4;
import io.bypass.net.Udp;
import io.bypass.udp.DatagramClaim;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.DatagramMeta;
import io.bypass.udp.L2UdpEndpoint;
import io.bypass.udp.UdpDestination;
import io.bypass.udp.UdpEndpoint;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.TimeUnit;

/**
 * The protocol layer's share of one ping-pong turnaround, with batches of one as a latency
 * server sees them: a request frame arrives on port B, the server answers it, the reply is
 * taken off port A. {@link #udpServer} answers through {@link L2UdpEndpoint} (poll, classify,
 * verify, claim the reply, copy, commit, flush), as {@code bypass pingpong server} does;
 * {@link #rawBounce} answers with raw frames, swapping addresses in place, as the C reflector
 * does. Their difference is what the UDP layer adds to each turnaround on a real NIC, where
 * the port's own cost is the same for both. Run with {@code -prof gc}: both must allocate
 * nothing.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TurnaroundBenchmark {
    private static final int PAYLOAD = 64;
    private static final int CLIENT_PORT = 9000;
    private static final int SERVER_PORT = 9001;
    private static final int ETHERNET_IPV4_UDP_CHECKSUM_OFFSET = Udp.ETHERNET_IPV4_UDP_HEADERS - Udp.HEADER_LENGTH + Udp.CHECKSUM_OFFSET;

    /**
     * The request's UDP checksum: {@code complete}, as a host on the wire sends it, or
     * {@code partial}, the pseudo-header sum alone, as a kernel peer sends it over veth.
     */
    @Param({"complete", "partial"})
    public String requestChecksum;

    /**
     * KiB of memory walked before each turnaround, 0 for none: 256 (eight times an L1 data
     * cache, half an EPYC L2) evicts much of what the turnaround's data was in, as the kernel's
     * send path does between a real server's requests. {@link #evictOnly} times the walk alone,
     * to subtract.
     */
    @Param({"0", "256"})
    public int evictKiB;

    /**
     * Whether each turnaround follows a datagram sent and received through the kernel's UDP over
     * loopback: as a real server's kick runs the kernel's send path between two requests, it
     * evicts the turnaround's code from the instruction cache and its branches from the
     * predictors, which walking data ({@link #evictKiB}) does not. {@link #kernelOnly} times it alone.
     */
    @Param({"false", "true"})
    public boolean kernelRoundTrip;

    private DatagramChannel kernelA;
    private DatagramChannel kernelB;
    private final ByteBuffer kernelBuffer = ByteBuffer.allocateDirect(PAYLOAD);
    private byte[] evict;
    private int evictSum;
    private LoopbackPort[] ports;
    private TxQueue clientTx;
    private RxQueue clientRx;
    private TxQueue serverTx;
    private RxQueue serverRx;
    private UdpEndpoint server;
    private UdpDestination client;
    private final UnsafeBuffer request = new UnsafeBuffer(new byte[2048]);
    private int requestLength;
    private final FrameClaim clientClaim = new FrameClaim();
    private final FrameClaim serverFrameClaim = new FrameClaim();
    private final DatagramClaim serverClaim = new DatagramClaim();
    private long replies;
    private final FrameHandler capture = this::capture;
    private final FrameHandler clientReceive = this::onReply;
    private final DatagramHandler udpAnswer = this::answerDatagram;
    private final FrameHandler rawAnswer = this::answerFrame;

    /** Created by JMH. */
    public TurnaroundBenchmark() {
    }

    /** Builds the request frame once with a client endpoint, and the server endpoint. */
    @Setup
    public void setup() {
        evict = new byte[evictKiB * 1024];
        if (kernelRoundTrip) {
            openKernelPair();
        }
        final int ipA = Ipv4.parse("10.99.0.1");
        final int ipB = Ipv4.parse("10.99.0.2");
        ports = LoopbackPort.pair(ipA, ipB, 256);
        clientTx = ports[0].txQueue(0);
        clientRx = ports[0].rxQueue(0);
        serverTx = ports[1].txQueue(0);
        serverRx = ports[1].rxQueue(0);
        final L2UdpEndpoint requester = new L2UdpEndpoint(ports[0], PortUri.parse("loop:a"), false);
        requester.bind(CLIENT_PORT);
        final DatagramClaim claim = new DatagramClaim();
        if (requester.tryClaim(UdpDestination.of(ipB, SERVER_PORT), PAYLOAD, claim) != UdpEndpoint.OK) {
            throw new IllegalStateException("loopback endpoint cannot claim");
        }
        claim.buffer().setMemory(0, PAYLOAD, (byte) 'q');
        claim.commit();
        requester.flush();
        if (serverRx.poll(capture, 1) != 1) {
            throw new IllegalStateException("the request frame did not arrive");
        }
        requester.close();
        if ("partial".equals(requestChecksum)) {
            // what a kernel sender leaves for a NIC to finish (CHECKSUM_PARTIAL), delivered as is by veth
            final int udpLength = Udp.HEADER_LENGTH + PAYLOAD;
            request.putShort(ETHERNET_IPV4_UDP_CHECKSUM_OFFSET,
                (short) Checksums.fold(Checksums.udpPseudoHeaderSum(ipA, ipB, udpLength)), ByteOrder.BIG_ENDIAN);
        }
        server = new L2UdpEndpoint(ports[1], PortUri.parse("loop:b"), false);
        server.bind(SERVER_PORT);
        client = UdpDestination.of(ipA, CLIENT_PORT);
        if (udpServer() != 1 || rawBounce() != 2) {
            throw new IllegalStateException("a turnaround did not complete");
        }
    }

    /** Closes the endpoint and ports. */
    @TearDown
    public void tearDown() {
        server.close();
        if (kernelA != null) {
            try {
                kernelA.close();
                kernelB.close();
            } catch (final IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        ports[0].close();
        ports[1].close();
    }

    private void capture(final DirectBuffer buffer, final int offset, final int length, final FrameMeta meta) {
        request.putBytes(0, buffer, offset, length);
        requestLength = length;
    }

    private void onReply(final DirectBuffer buffer, final int offset, final int length, final FrameMeta meta) {
        replies++;
    }

    private void evictCaches() {
        final byte[] e = evict;
        int sum = evictSum;
        for (int i = 0; i < e.length; i += 64) {
            e[i]++;
            sum += e[i];
        }
        evictSum = sum;
    }

    private void openKernelPair() {
        try {
            final InetAddress loopback = InetAddress.getLoopbackAddress();
            kernelA = DatagramChannel.open(StandardProtocolFamily.INET).bind(new InetSocketAddress(loopback, 0));
            kernelB = DatagramChannel.open(StandardProtocolFamily.INET).bind(new InetSocketAddress(loopback, 0));
            kernelA.connect(kernelB.getLocalAddress());
            kernelB.connect(kernelA.getLocalAddress());
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void roundTripThroughKernel() {
        if (kernelA == null) {
            return;
        }
        try {
            kernelBuffer.clear();
            kernelA.write(kernelBuffer);
            kernelBuffer.clear();
            kernelB.read(kernelBuffer);
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The kernel round trip alone, to subtract from the others under {@code kernelRoundTrip=true}.
     *
     * @return a value JMH consumes
     */
    @Benchmark
    public int kernelOnly() {
        roundTripThroughKernel();
        return kernelBuffer.position();
    }

    /**
     * The cache eviction alone, the part of the other benchmarks' time that is not a turnaround.
     *
     * @return a value JMH consumes
     */
    @Benchmark
    public int evictOnly() {
        evictCaches();
        return evictSum;
    }

    private void sendRequest() {
        evictCaches();
        roundTripThroughKernel();
        if (clientTx.tryClaim(requestLength, clientClaim)) {
            clientClaim.buffer().putBytes(clientClaim.offset(), request, 0, requestLength);
            clientClaim.commit();
        }
        clientTx.flush();
    }

    private void answerDatagram(final DirectBuffer buffer, final int offset, final int length, final DatagramMeta meta) {
        if (server.tryClaim(client, length, serverClaim) == UdpEndpoint.OK) {
            serverClaim.buffer().putBytes(0, buffer, offset, length);
            serverClaim.commit();
        }
    }

    private void answerFrame(final DirectBuffer buffer, final int offset, final int length, final FrameMeta meta) {
        if (serverTx.tryClaim(length, serverFrameClaim)) {
            final MutableDirectBuffer out = serverFrameClaim.buffer();
            final int o = serverFrameClaim.offset();
            out.putBytes(o, buffer, offset, length);
            // MACs, IPv4 addresses and UDP ports swapped, as a reflector does
            out.putInt(o, buffer.getInt(offset + 6));
            out.putShort(o + 4, buffer.getShort(offset + 10));
            out.putInt(o + 6, buffer.getInt(offset));
            out.putShort(o + 10, buffer.getShort(offset + 4));
            out.putInt(o + 26, buffer.getInt(offset + 30));
            out.putInt(o + 30, buffer.getInt(offset + 26));
            out.putShort(o + 34, buffer.getShort(offset + 36));
            out.putShort(o + 36, buffer.getShort(offset + 34));
            serverFrameClaim.commit();
        }
    }

    /**
     * One request answered by the UDP endpoint.
     *
     * @return replies received so far
     */
    @Benchmark
    public long udpServer() {
        sendRequest();
        server.poll(udpAnswer, 1);
        server.flush();
        clientRx.poll(clientReceive, 1);
        return replies;
    }

    /**
     * One request answered with raw frames, addresses swapped in place.
     *
     * @return replies received so far
     */
    @Benchmark
    public long rawBounce() {
        sendRequest();
        serverRx.poll(rawAnswer, 1);
        serverTx.flush();
        clientRx.poll(clientReceive, 1);
        return replies;
    }
}
