package io.bypass.bench.jmh;

import io.bypass.PortUri;
import io.bypass.net.Ipv4;
import io.bypass.tcp.L2TcpEndpoint;
import io.bypass.tcp.TcpClaim;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpHandler;
import io.bypass.tcp.TcpListener;
import io.bypass.tcp.TcpState;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * Bypass's own TCP ({@link L2TcpEndpoint}, the engine of every L2 backend) in steady state, with no NIC
 * and no kernel: two endpoints on a {@link LoopbackPort} pair, one connection between them, driven from
 * one thread. Run with {@code -prof gc}: {@code gc.alloc.rate.norm} must be 0 B/op (issue 14).
 * <ul>
 *   <li>{@link #pingPong}: the client claims, writes and flushes a 64-byte message, the server's poll
 *       delivers it in place and the server sends it back, the client's poll takes the echo: the send,
 *       receive and ACK paths of both ends once each.</li>
 *   <li>{@link #bulk}: the client sends 16 KiB in 1 KiB claims and flushes; the server's poll receives the
 *       segments and acknowledges them; the client's poll takes the ACKs and frees its send ring.
 *       One operation is one KiB.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TcpEngineBenchmark {
    private static final int MESSAGE = 64;
    private static final int BULK_CLAIMS = 16;
    private static final int BULK_CLAIM = 1024;

    private LoopbackPort[] ports;
    private L2TcpEndpoint client;
    private L2TcpEndpoint server;
    private TcpConnection toServer;
    private TcpConnection toClient;
    private final TcpClaim claim = new TcpClaim();
    private final UnsafeBuffer scratch = new UnsafeBuffer(ByteBuffer.allocateDirect(64 * 1024));
    private int scratchLength;
    private long received;
    private long seq;
    private final TcpHandler copyIn = this::copyIn;
    private final TcpHandler count = this::count;

    /** Created by JMH. */
    public TcpEngineBenchmark() {
    }

    private void copyIn(final DirectBuffer buffer, final int offset, final int length) {
        final int n = Math.min(length, scratch.capacity() - scratchLength);
        buffer.getBytes(offset, scratch, scratchLength, n);
        scratchLength += n;
    }

    private void count(final DirectBuffer buffer, final int offset, final int length) {
        received += length;
    }

    /** Connects the two endpoints (handshake in setup, not measured). */
    @Setup
    public void setup() {
        final int ipClient = Ipv4.parse("10.98.0.1");
        final int ipServer = Ipv4.parse("10.98.0.2");
        ports = LoopbackPort.pair(ipClient, ipServer, 1024);
        client = new L2TcpEndpoint(ports[0], PortUri.parse("loop:a?rcvbuf=262144&sndbuf=262144"), false);
        server = new L2TcpEndpoint(ports[1], PortUri.parse("loop:b?rcvbuf=262144&sndbuf=262144"), false);
        final TcpListener listener = server.listen(9000);
        toServer = client.connect(ipServer, 9000);
        for (int i = 0; i < 1000 && (toClient == null || toServer.state() != TcpState.ESTABLISHED); i++) {
            client.poll(16);
            server.poll(16);
            if (toClient == null) {
                toClient = listener.accept();
            }
        }
        if (toClient == null || toServer.state() != TcpState.ESTABLISHED) {
            throw new IllegalStateException("loopback TCP did not connect: " + toServer.state() + " " + toServer.closeReason());
        }
        listener.close();
        pingPong();
        if (seq != 1) {
            throw new IllegalStateException("loopback TCP did not echo");
        }
    }

    /** Closes both ends and the ports. */
    @TearDown
    public void tearDown() {
        client.close();
        server.close();
        ports[0].close();
        ports[1].close();
    }

    /**
     * One 64-byte message to the server and its echo back.
     *
     * @return the echoed sequence number
     */
    @Benchmark
    public long pingPong() {
        if (toServer.tryClaim(MESSAGE, claim) != TcpConnection.OK) {
            throw new IllegalStateException("claim refused: " + toServer.state());
        }
        claim.buffer().putLong(claim.offset(), ++seq);
        claim.commit();
        toServer.flush();
        scratchLength = 0;
        for (int spins = 0; scratchLength < MESSAGE; spins++) {
            toClient.poll(copyIn, 16);
            if (spins > 1000) {
                throw new IllegalStateException("no message at the server: " + toClient.state());
            }
        }
        if (toClient.send(scratch, 0, scratchLength) != TcpConnection.OK) {
            throw new IllegalStateException("echo refused: " + toClient.state());
        }
        toClient.flush();
        scratchLength = 0;
        for (int spins = 0; scratchLength < MESSAGE; spins++) {
            toServer.poll(copyIn, 16);
            if (spins > 1000) {
                throw new IllegalStateException("no echo at the client: " + toServer.state());
            }
        }
        return scratch.getLong(0);
    }

    /**
     * 16 KiB from the client, received and acknowledged by the server, the ACKs taken by the client.
     *
     * @return bytes received so far (a digest)
     */
    @Benchmark
    @OperationsPerInvocation(BULK_CLAIMS)
    public long bulk() {
        for (int i = 0; i < BULK_CLAIMS; i++) {
            if (toServer.tryClaim(BULK_CLAIM, claim) == TcpConnection.OK) {
                claim.buffer().putLong(claim.offset(), ++seq);
                claim.commit();
            }
        }
        toServer.flush();
        toClient.poll(count, 64);
        toServer.poll(count, 64);
        return received;
    }
}
