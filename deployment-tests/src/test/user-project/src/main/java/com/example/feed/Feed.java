package com.example.feed;

import io.bypass.Bypass;
import io.bypass.net.Ipv4;
import io.bypass.udp.DatagramClaim;
import io.bypass.udp.UdpDestination;
import io.bypass.udp.UdpEndpoint;

import java.util.BitSet;
import java.util.concurrent.TimeUnit;

/**
 * A small multicast receiver and sender, written as a user would against the API alone.
 *
 * <pre>
 * Feed receive URI GROUP PORT COUNT   # joins, prints READY, then RECEIVED n DISTINCT d; exit 0 if all COUNT came
 * Feed send URI GROUP PORT COUNT      # sends COUNT datagrams numbered 0..COUNT-1
 * </pre>
 */
public final class Feed {
    private Feed() {
    }

    /**
     * @param args mode, URI, group, port, count
     * @throws Exception if the endpoint cannot be opened
     */
    public static void main(final String[] args) throws Exception {
        final int group = Ipv4.parse(args[2]);
        final int port = Integer.parseInt(args[3]);
        final int count = Integer.parseInt(args[4]);
        try (UdpEndpoint md = Bypass.openUdp(args[1])) {
            // Which path the code is on, and where the backend came from.
            System.out.println("OPEN " + md.backend() + " app " + where(Feed.class) + " backend "
                + where(Bypass.backend(md.backend()).getClass()));
            if ("receive".equals(args[0])) {
                System.exit(receive(md, group, port, count) == count ? 0 : 1);
            }
            send(md, group, port, count);
        }
    }

    private static String where(final Class<?> c) {
        return c.getModule().isNamed() ? "module " + c.getModule().getName() : "class path";
    }

    private static int receive(final UdpEndpoint md, final int group, final int port, final int count) {
        md.join(group, port);
        System.out.println("READY");
        final BitSet seen = new BitSet(count);
        final int[] received = new int[1];
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (seen.cardinality() < count && System.nanoTime() < deadline) {
            if (md.poll((buffer, offset, length, meta) -> {
                received[0]++;
                final long sequence = buffer.getLong(offset);
                if (length == 8 && sequence >= 0 && sequence < count) {
                    seen.set((int) sequence);
                }
            }, 64) == 0) {
                Thread.yield();
            }
        }
        System.out.println("RECEIVED " + received[0] + " DISTINCT " + seen.cardinality());
        return seen.cardinality();
    }

    private static void send(final UdpEndpoint md, final int group, final int port, final int count) throws InterruptedException {
        final UdpDestination destination = UdpDestination.of(group, port);
        final DatagramClaim claim = new DatagramClaim();
        for (int i = 0; i < count; i++) {
            while (md.tryClaim(destination, 8, claim) != UdpEndpoint.OK) {
                md.flush();
                Thread.yield();
            }
            claim.buffer().putLong(claim.offset(), i);
            claim.commit();
            if (i % 50 == 49) {
                md.flush();
                Thread.sleep(1); // a paced feed, not a flood
            }
        }
        md.flush();
        System.out.println("SENT " + count);
    }
}
