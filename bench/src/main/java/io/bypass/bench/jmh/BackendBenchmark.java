package io.bypass.bench.jmh;

import io.bypass.Bypass;
import io.bypass.bench.internal.NativeBuild;
import io.bypass.bench.internal.VethTopology;
import io.bypass.spi.BackendProvider;
import io.bypass.testkit.Cmd;
import io.bypass.testkit.NetNamespace;
import io.bypass.udp.DatagramClaim;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.DatagramMeta;
import io.bypass.udp.UdpDestination;
import io.bypass.udp.UdpEndpoint;
import org.agrona.DirectBuffer;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Per-packet cost of each backend's receive poll and transmit claim/commit through
 * {@link UdpEndpoint}, on a veth pair between two namespaces that each trial creates and
 * removes. RX: a C kernel-socket generator in namespace B sends 32-byte datagrams; one
 * operation is one {@code poll(handler, 64)}, and the {@code frames} counter gives frames
 * per second. TX: one operation is one {@code tryClaim} + commit (flush every 32) to a
 * never-read socket in B; {@code sent} counts the claims that succeeded. Run with
 * {@code -prof gc}: {@code gc.alloc.rate.norm} is bytes per operation.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class BackendBenchmark {
    private static final int PORT_A = 9000;
    private static final int PORT_B = 9001;

    /** Created by JMH. */
    public BackendBenchmark() {
    }

    /** The veth pair, the endpoint under test in A and a peer process in B. */
    @State(Scope.Benchmark)
    public abstract static class Rig {
        /** Backend under test. */
        @Param({"nio", "afxdp", "dpdk", "efvi"})
        public String backend;

        VethTopology topology;
        UdpEndpoint endpoint;
        private Process peer;
        private Path nativeDir;

        abstract List<String> peerArgs(Path udpBinary);

        /**
         * @throws Exception if the backend is unavailable or the topology cannot be made
         */
        @Setup(Level.Trial)
        public void setup() throws Exception {
            try {
                open();
            } catch (final Exception | Error e) {
                tearDown(); // JMH does not tear down a state whose setup threw: do not leak namespaces
                throw e;
            }
        }

        private void open() throws Exception {
            final BackendProvider p = Bypass.backend(backend);
            if (p == null || !p.isAvailable()) {
                throw new IllegalStateException("backend " + backend + " unavailable: "
                    + (p == null ? "not on the class path" : p.unavailabilityCause().getMessage()));
            }
            topology = VethTopology.create();
            final String uri = switch (backend) {
                case "afxdp" -> "afxdp:" + topology.ifaceA() + "?xdp=drv&mode=copy";
                case "dpdk" -> "dpdk:net_af_xdp0,iface=" + topology.ifaceA() + "?hugepages=false&ip=" + topology.addressA() + "/24";
                default -> backend + ":" + topology.ifaceA();
            };
            // Bind in the namespace too: the NIO backend opens its socket at bind.
            endpoint = NetNamespace.call(topology.nsA(), () -> {
                final UdpEndpoint ep = Bypass.openUdp(uri);
                try {
                    ep.bind(PORT_A);
                    return ep;
                } catch (final RuntimeException e) {
                    ep.close();
                    throw e;
                }
            });
            nativeDir = Files.createTempDirectory("bypass-bench-native");
            final NativeBuild natives = NativeBuild.build(nativeDir);
            final Path udp = natives.binary("udp");
            if (udp == null) {
                throw new IllegalStateException("C generator did not build: " + natives.failures().get("udp"));
            }
            final List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", topology.nsB(), udp.toString()));
            cmd.addAll(peerArgs(udp));
            peer = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            Thread.sleep(300);
            if (!peer.isAlive()) {
                throw new IllegalStateException("peer process exited with " + peer.exitValue() + ": " + cmd);
            }
        }

        /** Stops the peer, closes the endpoint, removes the namespaces. */
        @TearDown(Level.Trial)
        public void tearDown() {
            if (peer != null) {
                peer.destroy();
                try {
                    peer.waitFor(5, TimeUnit.SECONDS);
                } catch (final InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                peer.destroyForcibly();
            }
            if (endpoint != null) {
                endpoint.close();
            }
            if (topology != null) {
                topology.close();
            }
            if (nativeDir != null) {
                Cmd.runUnchecked("rm", "-rf", nativeDir.toString());
            }
        }
    }

    /** Receive side: a generator in B sends to the endpoint in A. */
    @State(Scope.Benchmark)
    public static class RxRig extends Rig {
        /** Created by JMH. */
        public RxRig() {
        }

        @Override
        List<String> peerArgs(final Path udpBinary) {
            return List.of("mode=tx", "dst_ip=" + topology.addressA(), "dport=" + PORT_A, "payload=32", "warmup_ms=0",
                "duration_ms=3600000", "cpu=1");
        }
    }

    /** Transmit side: a bound, never-read socket in B. */
    @State(Scope.Benchmark)
    public static class TxRig extends Rig {
        UdpDestination destination;

        /** Created by JMH. */
        public TxRig() {
        }

        @Override
        List<String> peerArgs(final Path udpBinary) {
            destination = UdpDestination.of(topology.addressB(), PORT_B);
            return List.of("mode=sink", "bind_ip=" + topology.addressB(), "port=" + PORT_B, "duration_ms=3600000");
        }
    }

    /** Frames received per second (normalised like the primary score). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class RxCounters {
        /** Frames received. */
        public long frames;

        /** Created by JMH. */
        public RxCounters() {
        }

        /** Resets per iteration. */
        @Setup(Level.Iteration)
        public void clear() {
            frames = 0;
        }
    }

    /** Datagrams sent and claims refused per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class TxCounters {
        /** Claims that succeeded. */
        public long sent;
        /** Claims refused (ring full, neighbour pending). */
        public long refused;

        /** Created by JMH. */
        public TxCounters() {
        }

        /** Resets per iteration. */
        @Setup(Level.Iteration)
        public void clear() {
            sent = 0;
            refused = 0;
        }
    }

    /** Per-thread hot-path objects, allocated once. */
    @State(Scope.Thread)
    public static class Hot {
        final DatagramClaim claim = new DatagramClaim();
        long sum;
        long seq;
        int pending;
        final DatagramHandler handler = this::onDatagram;

        /** Created by JMH. */
        public Hot() {
        }

        private void onDatagram(final DirectBuffer buffer, final int offset, final int length, final DatagramMeta meta) {
            sum += buffer.getLong(offset);
        }
    }

    /**
     * One poll of up to 64 datagrams.
     *
     * @param rig      endpoint and generator
     * @param hot      handler
     * @param counters frames counter
     * @return datagrams received
     */
    @Benchmark
    public int udpRxPoll(final RxRig rig, final Hot hot, final RxCounters counters) {
        final int n = rig.endpoint.poll(hot.handler, 64);
        counters.frames += n;
        return n;
    }

    /**
     * One claim of a 32-byte datagram and its commit; a flush every 32 claims or when refused.
     *
     * @param rig      endpoint and sink
     * @param hot      claim
     * @param counters sent/refused counters
     * @return the claim's status
     */
    @Benchmark
    public int udpTxClaimCommit(final TxRig rig, final Hot hot, final TxCounters counters) {
        final int rc = rig.endpoint.tryClaim(rig.destination, 32, hot.claim);
        if (rc == UdpEndpoint.OK) {
            hot.claim.buffer().putLong(0, ++hot.seq);
            hot.claim.commit();
            counters.sent++;
            if (++hot.pending == 32) {
                hot.pending = 0;
                rig.endpoint.flush();
            }
        } else {
            counters.refused++;
            hot.pending = 0;
            rig.endpoint.flush();
            rig.endpoint.poll(hot.handler, 64); // an L2 backend resolving the neighbour needs the ARP reply
        }
        return rc;
    }
}
