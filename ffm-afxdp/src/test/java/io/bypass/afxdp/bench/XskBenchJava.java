package io.bypass.afxdp.bench;

import io.bypass.Bypass;
import io.bypass.FlowRule;
import io.bypass.FrameClaim;
import io.bypass.FrameHandler;
import io.bypass.Port;
import io.bypass.RxQueue;
import io.bypass.TxQueue;
import io.bypass.net.Ipv4;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.Arrays;

/**
 * The Java side of the AF_XDP baseline comparison: the same four scenarios as
 * {@code native/afxdp-bench/xsk_bench.c} (rx, tx, pong, ping), the same frame (60-byte
 * UDP), batch (64), ring sizes (2048) and XDP program, through the public {@link Port} API.
 * Same arguments and the same {@code RESULT} line, so {@code native/afxdp-bench/run.sh}
 * prints Java/C ratios from one run on one host.
 *
 * <pre>
 * java ... XskBenchJava rx|pong IFACE PORT [-d SECONDS] [-x drv|skb]
 * java ... XskBenchJava tx|ping IFACE PORT DSTMAC DSTIP [-d SECONDS] [-n ROUNDS] [-x drv|skb]
 * </pre>
 */
public final class XskBenchJava {
    private static final int FRAME_LEN = 60;
    private static final int BATCH = 64;

    private XskBenchJava() {
    }

    /**
     * @param args see the class description
     */
    public static void main(final String[] args) throws Exception {
        int seconds = 5;
        long rounds = 100_000;
        String xdp = "drv";
        final java.util.List<String> pos = new java.util.ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "-d" -> seconds = Integer.parseInt(args[++i]);
                case "-n" -> rounds = Long.parseLong(args[++i]);
                case "-x" -> xdp = args[++i];
                default -> pos.add(args[i]);
            }
        }
        final String mode = pos.get(0);
        final String iface = pos.get(1);
        final int udpPort = Integer.parseInt(pos.get(2));
        try (Port port = Bypass.open("afxdp:" + iface + "?mode=copy&xdp=" + xdp + "&rxBatch=" + BATCH + "&txBatch=" + BATCH)) {
            port.addFlow(0, new FlowRule(port.ipv4Address(), udpPort));
            final byte[] frame = new byte[FRAME_LEN];
            if (mode.equals("tx") || mode.equals("ping")) {
                buildFrame(frame, port.macAddress(), parseMac(pos.get(3)), port.ipv4Address(), Ipv4.parse(pos.get(4)), udpPort);
            }
            switch (mode) {
                case "rx", "pong" -> receive(port, mode.equals("pong"), seconds);
                case "tx" -> transmit(port, frame, seconds);
                case "ping" -> ping(port, frame, rounds);
                default -> throw new IllegalArgumentException("mode " + mode);
            }
        }
    }

    private static void receive(final Port port, final boolean pong, final int seconds) {
        final RxQueue rx = port.rxQueue(0);
        final TxQueue tx = port.txQueue(0);
        final FrameClaim claim = new FrameClaim();
        final FrameHandler echo = (DirectBuffer b, int o, int l, io.bypass.FrameMeta m) -> {
            if (tx.tryClaim(l, claim)) {
                final MutableDirectBuffer out = claim.buffer();
                out.putBytes(0, b, o, l);
                // Swap MACs, IPv4 addresses and UDP ports, as the C pong does.
                out.putBytes(0, b, o + 6, 6);
                out.putBytes(6, b, o, 6);
                out.putInt(26, b.getInt(o + 30));
                out.putInt(30, b.getInt(o + 26));
                out.putShort(34, b.getShort(o + 36));
                out.putShort(36, b.getShort(o + 34));
                claim.commit();
            }
        };
        final FrameHandler count = (b, o, l, m) -> { };
        final FrameHandler h = pong ? echo : count;
        long n = 0;
        final long waitUntil = System.nanoTime() + (seconds + 1) * 1_000_000_000L;
        while (n == 0 && System.nanoTime() < waitUntil) {
            n = rx.poll(h, BATCH);
            if (pong) {
                tx.flush();
            }
        }
        final long t0 = System.nanoTime();
        final long end = t0 + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            n += rx.poll(h, BATCH);
            if (pong) {
                tx.flush();
            }
        }
        System.out.printf("RESULT mode=%s pps=%.0f packets=%d%n", pong ? "pong" : "rx", n * 1e9 / (System.nanoTime() - t0), n);
    }

    private static void transmit(final Port port, final byte[] frame, final int seconds) {
        final TxQueue tx = port.txQueue(0);
        final FrameClaim claim = new FrameClaim();
        long n = 0;
        final long t0 = System.nanoTime();
        final long end = t0 + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            for (int i = 0; i < BATCH && tx.tryClaim(FRAME_LEN, claim); i++) {
                claim.buffer().putBytes(0, frame);
                claim.commit();
            }
            n += tx.flush();
        }
        System.out.printf("RESULT mode=tx pps=%.0f packets=%d%n", n * 1e9 / (System.nanoTime() - t0), n);
    }

    private static void ping(final Port port, final byte[] frame, final long rounds) {
        final RxQueue rx = port.rxQueue(0);
        final TxQueue tx = port.txQueue(0);
        final FrameClaim claim = new FrameClaim();
        final long[] seen = new long[1];
        final FrameHandler note = (b, o, l, m) -> {
            if (l >= FRAME_LEN) {
                seen[0] = b.getLong(o + 42);
            }
        };
        final long[] rtt = new long[(int) rounds];
        long lost = 0;
        for (long seq = 1; seq <= rounds + 1000; seq++) {
            long start;
            do {
                start = System.nanoTime();
                while (!tx.tryClaim(FRAME_LEN, claim)) {
                    tx.flush();
                }
                claim.buffer().putBytes(0, frame);
                claim.buffer().putLong(42, seq);
                claim.commit();
                tx.flush();
                final long deadline = start + 50_000_000L;
                while (seen[0] != seq && System.nanoTime() < deadline) {
                    rx.poll(note, BATCH);
                }
                if (seen[0] != seq && ++lost > 1000) {
                    throw new IllegalStateException("more than 1000 echoes lost");
                }
            } while (seen[0] != seq);
            if (seq > 1000) {
                rtt[(int) (seq - 1001)] = System.nanoTime() - start;
            }
        }
        Arrays.sort(rtt);
        long sum = 0;
        for (final long r : rtt) {
            sum += r;
        }
        final int n = rtt.length;
        System.out.printf("RESULT mode=ping n=%d lost=%d p50_ns=%d p99_ns=%d p999_ns=%d mean_ns=%.0f%n", n, lost,
            rtt[n / 2], rtt[(int) (n * 99L / 100)], rtt[(int) (n * 999L / 1000)], (double) sum / n);
    }

    private static long parseMac(final String s) {
        long mac = 0;
        for (final String p : s.split(":")) {
            mac = (mac << 8) | Integer.parseInt(p, 16);
        }
        return mac;
    }

    // Ethernet + IPv4 + UDP with an 18-byte payload, IPv4 checksum filled, UDP checksum 0 (as the C baseline).
    private static void buildFrame(final byte[] f, final long src, final long dst, final int sip, final int dip, final int port) {
        for (int k = 0; k < 6; k++) {
            f[k] = (byte) (dst >>> (40 - 8 * k));
            f[6 + k] = (byte) (src >>> (40 - 8 * k));
        }
        f[12] = 0x08;
        f[14] = 0x45;
        put16(f, 16, FRAME_LEN - 14);
        f[22] = 64;
        f[23] = 17;
        put32(f, 26, sip);
        put32(f, 30, dip);
        int sum = 0;
        for (int i = 14; i < 34; i += 2) {
            sum += ((f[i] & 0xFF) << 8) | (f[i + 1] & 0xFF);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        put16(f, 24, ~sum & 0xFFFF);
        put16(f, 34, port);
        put16(f, 36, port);
        put16(f, 38, FRAME_LEN - 34);
    }

    private static void put16(final byte[] f, final int o, final int v) {
        f[o] = (byte) (v >>> 8);
        f[o + 1] = (byte) v;
    }

    private static void put32(final byte[] f, final int o, final int v) {
        put16(f, o, v >>> 16);
        put16(f, o + 2, v);
    }
}
