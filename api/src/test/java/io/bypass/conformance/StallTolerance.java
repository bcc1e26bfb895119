package io.bypass.conformance;

import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.net.Ipv4;
import io.bypass.spi.RxStallBudget;
import io.bypass.testkit.Netns;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.DatagramMeta;
import io.bypass.udp.UdpEndpoint;
import org.agrona.DirectBuffer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stall-tolerance tests of {@link UdpConformanceSuite}, kept apart so the suite stays
 * readable: the polling thread stops on purpose while a kernel socket in the peer namespace
 * sends a numbered burst to a joined group, then polls everything.
 *
 * <p>Two measurements. {@link #budgetIsAbsorbed}: a burst of the default budget's frames
 * ({@link RxStallBudget#frames()}, 10,000) arrives complete and in order. {@link #measureCapacity}:
 * a burst far larger than any default buffering; what the endpoint kept is its real stall
 * capacity, and every frame it did not keep must show in its drop counters.
 *
 * <p>The sender is the kernel: a {@link DatagramChannel} in a tight loop. On a veth pair the
 * frame is handed to the DUT's receive path in the sender's own softirq, so a burst that
 * outruns the DUT is dropped by the DUT, not queued somewhere else; frames the sender's side
 * dropped instead (the peer's transmit drops, the kernel's per-CPU backlog drops in
 * {@code /proc/net/softnet_stat}) are measured and reported apart, so the figure is the DUT's.
 * Such a burst measured the sender, not the DUT (with an XDP program on the DUT's veth, the peer's
 * transmit drops when the veth's 256-frame ring fills while the host defers the softirq that empties
 * it): it is repeated with a fresh endpoint, at most {@link #ATTEMPTS} bursts in all, each printed.
 */
final class StallTolerance {
    /** Datagram payload: a 4-byte sequence number and padding, the size of a small market-data packet. */
    static final int PAYLOAD = 64;
    /** The stall after the burst, before the first poll: longer than any burst here takes to send. */
    static final long STALL_AFTER_BURST_MILLIS = 200;
    /** Bursts tried before a test whose every burst lost frames on the sender's side fails. */
    static final int ATTEMPTS = 3;
    /** The overflow burst: well past every backend's default buffering. */
    static final int OVERFLOW_BURST = 40_000;
    private static final Pattern TX_DROPPED = Pattern.compile("\"tx\":\\{[^}]*\"dropped\":(\\d+)");
    private static final Pattern RX_DROPPED = Pattern.compile("\"rx\":\\{[^}]*\"dropped\":(\\d+)");
    /** The drops of receive buffering, read from the kernel or the NIC rather than counted by Bypass. */
    static final List<Counter> BUFFER_DROPS = List.of(Counter.DROP_RX_RING_FULL, Counter.DROP_FILL_RING_EMPTY,
        Counter.DROP_NO_BUFFER, Counter.DROP_RX_OTHER);

    private StallTolerance() {
    }

    /** What one stalled burst gave. */
    record Result(String backend, int sent, double sendKpps, int received, long countedDrops, long outsideDrops,
                  long senderDrops, long dutIfaceDrops, String orderError) {
        /** @return frames that reached the DUT's side but were neither delivered nor counted anywhere */
        long unaccounted() {
            return sent - senderDrops - received - countedDrops - outsideDrops;
        }

        @Override
        public String toString() {
            final RxStallBudget b = RxStallBudget.defaults();
            return String.format(Locale.ROOT, "STALL %s: burst %d at %.0f kpps, kept %d (= %.1f ms at %d pps), counted drops %d, "
                    + "NIC-counted drops %d, sender-side drops %d, DUT veth drops %d, unaccounted %d", backend, sent, sendKpps,
                received, b.stallMsFor(received), b.ratePps(), countedDrops, outsideDrops, senderDrops, dutIfaceDrops,
                unaccounted());
        }
    }

    /**
     * Opens the endpoint with the suite's default URI, stalls through a burst of {@code burst}
     * datagrams, then polls everything.
     *
     * @param suite the running suite (its site, endpoint and peer helpers)
     * @param burst datagrams to send while the polling thread stands still
     * @return what was kept, dropped and counted
     * @throws Exception a failure to open or send
     */
    static Result stalledBurst(final UdpConformanceSuite suite, final int burst) throws Exception {
        final ConformanceSite site = suite.site();
        final UdpEndpoint ep = suite.openDut();
        final int group = suite.freshGroup();
        final int port = suite.freshPort();
        ep.join(group, port);
        final DatagramChannel peer = suite.peerChannel(0);
        final InetSocketAddress to = new InetSocketAddress(InetAddress.getByAddress(Ipv4.toBytes(group)), port);
        final ByteBuffer out = ByteBuffer.allocateDirect(PAYLOAD).order(ByteOrder.BIG_ENDIAN);
        // Poll once: the path is up and the first frame is through before the stall starts.
        final Sequence seq = new Sequence();
        sendOne(peer, out, to, -1);
        final long primeDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(UdpConformanceSuite.ARRIVAL_TIMEOUT_MILLIS);
        while (seq.primed == 0 && System.nanoTime() - primeDeadline < 0) {
            ep.poll(seq, 64);
        }
        assertEquals(1, seq.primed, "the primer datagram did not arrive before the stall; counters: " + ep.counters());
        ep.counters().refresh();
        final long dropsBefore = bufferDrops(ep.counters());
        final long outsideBefore = suite.dropsOutsideCounters();
        final long senderBefore = senderDrops(site);
        final long dutIfaceBefore = ifaceDrops(site.dutNamespace(), site.dutIface(), RX_DROPPED);

        // The stall: this thread is the endpoint's polling thread, and it only sends now.
        final long t0 = System.nanoTime();
        for (int i = 0; i < burst; i++) {
            sendOne(peer, out, to, i);
        }
        final long sendNanos = System.nanoTime() - t0;
        Thread.sleep(STALL_AFTER_BURST_MILLIS);

        // Poll everything that waited, until nothing more comes for a while.
        long quietSince = System.nanoTime();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() - quietSince < TimeUnit.MILLISECONDS.toNanos(UdpConformanceSuite.ABSENCE_WINDOW_MILLIS)
            && System.nanoTime() - deadline < 0) {
            if (ep.poll(seq, 64) > 0) {
                quietSince = System.nanoTime();
            }
        }
        ep.counters().refresh();
        final long counted = bufferDrops(ep.counters()) - dropsBefore;
        final long outside = suite.dropsOutsideCounters() - outsideBefore;
        final long sender = senderDrops(site) - senderBefore;
        final long dutIface = ifaceDrops(site.dutNamespace(), site.dutIface(), RX_DROPPED) - dutIfaceBefore;
        final Result r = new Result(suite.backendName(), burst, burst / (sendNanos / 1e6), seq.received, counted, outside, sender,
            dutIface, seq.error);
        System.out.println(r + "; counters: " + ep.counters());
        ep.close(); // before a repeated burst opens the next one on the same queue
        return r;
    }

    /**
     * {@link #stalledBurst}, repeated while the sender's side dropped frames, at most {@link #ATTEMPTS} times.
     *
     * @param suite the running suite
     * @param burst datagrams to send while the polling thread stands still
     * @return the first burst the sender's side lost nothing of, or the last one
     * @throws Exception a failure to open or send
     */
    static Result senderCleanBurst(final UdpConformanceSuite suite, final int burst) throws Exception {
        Result r = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            r = stalledBurst(suite, burst);
            if (r.senderDrops() == 0) {
                return r;
            }
            System.out.println("STALL " + r.backend() + ": burst " + attempt + " of at most " + ATTEMPTS
                + " measured the sender, not the DUT (sender-side drops " + r.senderDrops() + ")");
        }
        return r;
    }

    /**
     * A burst of the default budget's frames while the polling thread stalls: all of them must
     * be delivered, in order, with no drop counted.
     *
     * @param suite  the running suite
     * @param frames frames the default buffering must hold (the budget's, or a backend's documented cap)
     * @throws Exception a failure
     */
    static void budgetIsAbsorbed(final UdpConformanceSuite suite, final int frames) throws Exception {
        final Result r = senderCleanBurst(suite, frames);
        assertEquals(0, r.senderDrops(), "the sender's side dropped frames, so this run measured the sender, not the DUT: " + r);
        assertNull(r.orderError(), r.orderError());
        assertEquals(frames, r.received(), "a stall of " + frames + " frames must lose nothing: " + r);
        assertEquals(0, r.countedDrops() + r.outsideDrops(), "no drop may be counted: " + r);
    }

    /**
     * A burst well past the default buffering: the endpoint keeps at least {@code floor}
     * frames, in order, and counts every one it did not keep.
     *
     * @param suite the running suite
     * @param floor frames the default buffering must hold at least
     * @param burst datagrams to send, past the buffering
     * @return the result, for a subclass that checks more
     * @throws Exception a failure
     */
    static Result measureCapacity(final UdpConformanceSuite suite, final int floor, final int burst) throws Exception {
        final Result r = senderCleanBurst(suite, burst);
        assertEquals(0, r.senderDrops(), "the sender's side dropped frames, so this run measured the sender, not the DUT: " + r);
        assertNull(r.orderError(), r.orderError());
        assertTrue(r.received() >= floor, "the default buffering must hold at least " + floor + " frames: " + r);
        assertTrue(r.received() < burst, "the burst did not overflow the buffering, so nothing was measured: " + r);
        assertEquals(0, r.unaccounted(), "every frame not delivered must be counted as a drop: " + r);
        assertTrue(r.countedDrops() > 0 || r.outsideDrops() > 0, "the overflow was counted nowhere: " + r);
        return r;
    }

    private static void sendOne(final DatagramChannel ch, final ByteBuffer out, final InetSocketAddress to, final int seq)
        throws IOException {
        out.clear();
        out.putInt(0, seq);
        out.limit(PAYLOAD);
        // Non-blocking: 0 means the socket's send buffer is full for a moment; try again.
        while (ch.send(out, to) == 0) {
            Thread.onSpinWait();
        }
    }

    private static long bufferDrops(final Counters c) {
        long sum = 0;
        for (final Counter k : BUFFER_DROPS) {
            sum += c.get(k);
        }
        return sum;
    }

    /** Frames lost before the DUT's receive path: the peer's transmit drops and every CPU's backlog drops. */
    private static long senderDrops(final ConformanceSite site) throws IOException {
        long backlog = 0;
        for (final String line : Files.readAllLines(Path.of("/proc/net/softnet_stat"))) {
            final String[] f = line.trim().split("\\s+");
            backlog += Long.parseLong(f[1], 16);
        }
        return backlog + ifaceDrops(site.peerNamespace(), site.peerIface(), TX_DROPPED);
    }

    private static long ifaceDrops(final Netns ns, final String iface, final Pattern which) {
        final Matcher m = which.matcher(ns.ip("-j", "-s", "link", "show", "dev", iface));
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /** Counts 4-byte sequence numbers; they must rise strictly (gaps are drops, a step back is a reorder). */
    private static final class Sequence implements DatagramHandler {
        int primed;
        int received;
        int last = -1;
        String error;

        @Override
        public void onDatagram(final DirectBuffer buffer, final int offset, final int length, final DatagramMeta meta) {
            final int s = buffer.getInt(offset, ByteOrder.BIG_ENDIAN);
            if (s == -1) {
                primed++;
                return;
            }
            if (error == null && (length != PAYLOAD || s <= last)) {
                error = "sequence " + s + " (" + length + " bytes) after " + last;
            }
            last = s;
            received++;
        }
    }
}
