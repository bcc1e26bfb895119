package io.bypass.bench.net;

import io.bypass.bench.internal.NativeBuild;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the harness runs for each backend and scenario: the Java workers (a JVM running
 * {@link JavaWorker} on the backend's URI for each side) and the C baselines on the same
 * library, with the command line each is started with. A baseline that did not build is left
 * out with a note for the report.
 */
final class Implementations {
    private final NetHarness.Config config;
    private final NativeBuild natives;
    private final List<String> notes;

    /**
     * @param config  the harness's settings (class path, JVM, variants)
     * @param natives the C baselines that were built
     * @param notes   where a missing baseline is noted for the report
     */
    Implementations(final NetHarness.Config config, final NativeBuild natives, final List<String> notes) {
        this.config = config;
        this.natives = natives;
        this.notes = notes;
    }

    List<NetHarness.Impl> impls(final String backend) {
        final List<NetHarness.Impl> list = new ArrayList<>();
        switch (backend) {
            case "nio" -> {
                list.add(java(backend, "udp", s -> "nio:" + s.iface()));
                cBaseline(list, "udp", "C kernel UDP (recvmmsg/sendmmsg)", "rx", "tx", "ping", "echo");
            }
            case "afxdp" -> {
                list.add(java(backend, "l2", s -> "afxdp:" + s.iface() + "?xdp=drv&mode=copy"));
                if (config.udpVariants()) {
                    list.add(java(backend, "udp", s -> "afxdp:" + s.iface() + "?xdp=drv&mode=copy"));
                }
                cBaseline(list, "xsk", "C libxdp xsk", "rx", "tx", "ping", "echo");
            }
            case "dpdk" -> {
                list.add(java(backend, "l2", s -> "dpdk:net_af_xdp0,iface=" + s.iface() + "?hugepages=false&ip=" + s.ip() + "/24"));
                cBaseline(list, "dpdk", "C DPDK (same vdev)", "rx", "tx", "ping", "echo");
            }
            default -> list.add(java(backend, "l2", s -> backend + ":" + s.iface()));
        }
        return list;
    }

    /** The zeroloss receivers: Java through UdpEndpoint on every backend, and the C baseline on the same library. */
    List<NetHarness.Impl> zeroLossImpls(final String backend) {
        final List<NetHarness.Impl> list = new ArrayList<>();
        switch (backend) {
            case "nio" -> {
                // the same socket receive buffer as the C baseline asks for (SO_RCVBUF 4 MiB, bench_udp.c)
                list.add(java(backend, "udp", s -> "nio:" + s.iface() + "?rcvbuf=4194304"));
                cBaseline(list, "udp", "C kernel UDP (recvmmsg)", "feed");
            }
            case "afxdp" -> {
                list.add(java(backend, "udp", s -> "afxdp:" + s.iface() + "?xdp=drv&mode=copy"));
                cBaseline(list, "xsk", "C libxdp xsk", "feed");
            }
            case "dpdk" -> {
                list.add(java(backend, "udp", s -> "dpdk:net_af_xdp0,iface=" + s.iface() + "?hugepages=false&ip=" + s.ip() + "/24"));
                cBaseline(list, "dpdk", "C DPDK (same vdev)", "feed");
            }
            default -> list.add(java(backend, "udp", s -> backend + ":" + s.iface()));
        }
        return list;
    }

    /** The ping-pong server's URI for the sockperf scenario: the backends on AF_XDP, which the C reflector is on too. */
    static String sockperfUri(final String backend, final NetHarness.Side b) {
        return switch (backend) {
            case "afxdp" -> "afxdp:" + b.iface() + "?xdp=drv&mode=copy";
            case "dpdk" -> "dpdk:net_af_xdp0,iface=" + b.iface() + "?hugepages=false&ip=" + b.ip() + "/24";
            default -> null;
        };
    }

    /** @return the URI Bypass's TCP opens on {@code side}'s interface for {@code backend} (the UDP rows' URIs, same vdev/XDP mode) */
    static String tcpUri(final String backend, final NetHarness.Side side) {
        return switch (backend) {
            case "nio" -> "nio:" + side.iface();
            case "afxdp" -> "afxdp:" + side.iface() + "?xdp=drv&mode=copy";
            case "dpdk" -> "dpdk:net_af_xdp0,iface=" + side.iface() + "?hugepages=false&ip=" + side.ip() + "/24";
            default -> backend + ":" + side.iface();
        };
    }

    /**
     * @param backend backend name
     * @param self    where it runs
     * @param args    {@link TcpWorker}'s arguments
     * @return the command of a {@link TcpWorker} on {@code backend}
     */
    List<String> tcpWorker(final String backend, final NetHarness.Side self, final Map<String, String> args) {
        final List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", self.ns()));
        cmd.addAll(javaLauncher());
        cmd.addAll(List.of(TcpWorker.class.getName(), "uri=" + tcpUri(backend, self)));
        args.forEach((k, v) -> cmd.add(k + "=" + v));
        return cmd;
    }

    /**
     * @param backend backend name
     * @param self    where it runs
     * @param args    {@link JavaWorker}'s arguments
     * @return the command of a {@link JavaWorker} through UdpEndpoint on {@code backend} (the pingpong scenario's UDP path)
     */
    List<String> udpWorker(final String backend, final NetHarness.Side self, final Map<String, String> args) {
        final List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", self.ns()));
        cmd.addAll(javaLauncher());
        cmd.addAll(List.of(JavaWorker.class.getName(), "uri=" + tcpUri(backend, self), "api=udp"));
        args.forEach((k, v) -> cmd.add(k + "=" + v));
        return cmd;
    }

    /**
     * The JVM and class path the Java workers run with, up to the main class: a fixed heap and the serial
     * collector, and monitor deflation checked once a minute rather than every 250 ms, as {@code bin/bypass}
     * runs it (its wake-ups land on the CPU the peer's client runs on).
     */
    List<String> javaLauncher() {
        final List<String> cmd = new ArrayList<>(List.of(config.javaCommand(), "--enable-native-access=ALL-UNNAMED",
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-Xms256m", "-Xmx256m", "-XX:+UseSerialGC", "-Xss1m",
            "-XX:+UnlockDiagnosticVMOptions", "-XX:AsyncDeflationInterval=0"));
        cmd.addAll(config.jvmProps());
        cmd.addAll(List.of("-cp", config.classpath()));
        return cmd;
    }

    private interface UriFor {
        String uri(NetHarness.Side side);
    }

    private NetHarness.Impl java(final String backend, final String api, final UriFor uri) {
        return new NetHarness.Impl() {
            @Override
            public String label() {
                return "Java " + backend + ("udp".equals(api) ? " UdpEndpoint" : " Port");
            }

            @Override
            public String api() {
                return api;
            }

            @Override
            public String impl() {
                return "java";
            }

            @Override
            public boolean supports(final String mode) {
                return true;
            }

            @Override
            public List<String> command(final NetHarness.Side self, final NetHarness.Side peer, final String mode, final Map<String, String> args) {
                final List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", self.ns()));
                cmd.addAll(javaLauncher());
                cmd.addAll(List.of(JavaWorker.class.getName(), "uri=" + uri.uri(self), "api=" + api));
                args.forEach((k, v) -> cmd.add(k + "=" + v));
                return cmd;
            }
        };
    }

    private void cBaseline(final List<NetHarness.Impl> list, final String name, final String label, final String... modes) {
        final Path bin = natives.binary(name);
        if (bin == null) {
            final String note = label + " not built, its ratios are missing: " + natives.failures().get(name);
            if (!notes.contains(note)) {
                notes.add(note);
            }
            return;
        }
        final List<String> supported = List.of(modes);
        list.add(new NetHarness.Impl() {
            @Override
            public String label() {
                return label;
            }

            @Override
            public String api() {
                return "c";
            }

            @Override
            public String impl() {
                return "c";
            }

            @Override
            public boolean supports(final String mode) {
                return supported.contains(mode);
            }

            @Override
            public List<String> command(final NetHarness.Side self, final NetHarness.Side peer, final String mode, final Map<String, String> args) {
                final List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", self.ns(), bin.toString()));
                if ("xsk".equals(name)) {
                    cmd.add("xdp=drv");
                } else if ("dpdk".equals(name)) {
                    cmd.add("vdev=net_af_xdp0,iface=" + self.iface());
                }
                args.forEach((k, v) -> cmd.add(k + "=" + v));
                return cmd;
            }
        });
    }
}
