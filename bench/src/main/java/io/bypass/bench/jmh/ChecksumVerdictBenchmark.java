package io.bypass.bench.jmh;

import io.bypass.Counters;
import io.bypass.FrameMeta;
import io.bypass.net.ChecksumPolicy;
import io.bypass.net.Ethernet;
import io.bypass.net.FrameClassifier;
import io.bypass.net.Ipv4;
import io.bypass.net.Ipv4Header;
import io.bypass.net.Udp;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.concurrent.TimeUnit;

/**
 * What the NIC's checksum verdict saves the receive path: one datagram classified by the
 * protocol layer ({@link FrameClassifier}: Ethernet, IPv4, UDP, subscription lookup, and
 * the IPv4 and UDP checksums) with no verdict ({@code verdict=none}, both sums computed in
 * software, as on AF_XDP) against the NIC's "good" ({@code verdict=nic}, both skipped, as on
 * DPDK with a PMD that checks), for a small and a full-size payload. The difference between
 * the two is the saving per datagram.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ChecksumVerdictBenchmark {
    /** {@code none}: no verdict, software sums; {@code nic}: the NIC said both sums are good. */
    @Param({"none", "nic"})
    public String verdict;

    /** UDP payload bytes. */
    @Param({"64", "1400"})
    public int payload;

    private final UnsafeBuffer frame = new UnsafeBuffer(new byte[2048]);
    private FrameClassifier classifier;
    private int length;
    private int verdictBits;

    /** Created by JMH. */
    public ChecksumVerdictBenchmark() {
    }

    /** Builds one valid datagram to a bound port. */
    @Setup
    public void setup() {
        final long ourMac = 0x02_00_00_00_00_01L;
        final int us = Ipv4.parse("10.99.0.1");
        final int peer = Ipv4.parse("10.99.0.2");
        final int port = 9000;
        classifier = new FrameClassifier(new Counters()).localMac(ourMac).localAddress(us)
            .checksumPolicy(ChecksumPolicy.NIC);
        classifier.subscriptions().bind(port);
        final int udpLength = Udp.HEADER_LENGTH + payload;
        new Ethernet().wrap(frame, 0, Ethernet.HEADER_LENGTH).header(ourMac, 0x02_00_00_00_00_02L, Ethernet.ETHERTYPE_IPV4);
        final Ipv4Header ip = new Ipv4Header();
        ip.wrap(frame, Ethernet.HEADER_LENGTH, Ipv4Header.MIN_HEADER_LENGTH + udpLength)
            .header(Ipv4Header.MIN_HEADER_LENGTH, 0, Ipv4Header.MIN_HEADER_LENGTH + udpLength, 1, Ipv4Header.FLAG_DF, 64,
                Ipv4Header.PROTOCOL_UDP, peer, us).computeChecksum();
        final Udp udp = new Udp();
        for (int i = 0; i < payload; i++) {
            frame.putByte(Ethernet.HEADER_LENGTH + Ipv4Header.MIN_HEADER_LENGTH + Udp.HEADER_LENGTH + i, (byte) i);
        }
        udp.wrap(frame, Ethernet.HEADER_LENGTH + Ipv4Header.MIN_HEADER_LENGTH, udpLength)
            .header(40000, port, udpLength).computeChecksum(peer, us);
        length = Ethernet.HEADER_LENGTH + Ipv4Header.MIN_HEADER_LENGTH + udpLength;
        verdictBits = "nic".equals(verdict) ? FrameMeta.IP_CHECKSUM_GOOD | FrameMeta.L4_CHECKSUM_GOOD : FrameMeta.CHECKSUM_UNKNOWN;
        if (classifier.classify(frame, 0, length, verdictBits) != FrameClassifier.UDP
            || classifier.classify(frame, 0, length, FrameMeta.CHECKSUM_UNKNOWN) != FrameClassifier.UDP) {
            throw new IllegalStateException("benchmark frame not accepted: " + classifier.lastDrop());
        }
    }

    /**
     * One datagram classified.
     *
     * @return its payload length, so nothing is dead code
     */
    @Benchmark
    public int classify() {
        classifier.classify(frame, 0, length, verdictBits);
        return classifier.payloadLength();
    }
}
