package io.bypass.samples.mem;

import io.bypass.Capability;
import io.bypass.Counters;
import io.bypass.PortUri;
import io.bypass.net.Ipv4;
import io.bypass.samples.codec.MarketMessage;
import io.bypass.samples.codec.MoldUdp64Encoder;
import io.bypass.samples.codec.PingMessage;
import io.bypass.samples.codec.SockperfHeader;
import io.bypass.spi.ClaimOwner;
import io.bypass.udp.DatagramClaim;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.DutyCycle;
import io.bypass.udp.DatagramMeta;
import io.bypass.udp.UdpDestination;
import io.bypass.udp.UdpEndpoint;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.Set;

/**
 * An in-memory endpoint. {@code mem:feed} delivers a MoldUDP64 feed (each packet on A
 * then B, every 100th a trigger), {@code mem:ping} delivers ping-pong orders and sockperf
 * requests in turn ({@code mem:ping-resolving} too, with claims refused now and then as while a
 * neighbour resolves), {@code mem:sink} delivers nothing. Every send succeeds. It records the
 * polling thread's allocated bytes after {@link #WARM} and after {@link #END} events
 * (datagrams delivered, or sent for {@code sink}), then stops the subcommand by
 * delivering end of session (feed) or nothing more.
 */
public final class MemUdpEndpoint implements UdpEndpoint {
    /** Events before the first allocation reading: warm-up, JIT. */
    public static final long WARM = 100_000;
    /** Events at the second reading. */
    public static final long END = 400_000;
    /** Allocated bytes at {@link #WARM}, -1 until reached. */
    public static volatile long allocatedAtWarm = -1;
    /** Allocated bytes at {@link #END}, -1 until reached. */
    public static volatile long allocatedAtEnd = -1;
    /** Datagrams sent through any mem endpoint since {@link #reset()}. */
    public static volatile long sent;
    /** {@code mem:ping-resolving}: claims refused as if the neighbour were resolving, since {@link #reset()}. */
    public static volatile long claimRefusals;
    /** Replies sent with a sequence not above the one before, since {@link #reset()}. */
    public static volatile long outOfOrder;
    /** Like {@code mem:ping}, but 20 claims in every 1000 requests find the neighbour resolving. */
    static final String RESOLVING = "ping-resolving";

    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private final PortUri uri;
    private final String mode;
    private final Counters counters = new Counters();
    private final UnsafeBuffer buf = new UnsafeBuffer(ByteBuffer.allocateDirect(2048));
    private final UnsafeBuffer claimed = new UnsafeBuffer(ByteBuffer.allocateDirect(2048));
    private final MoldUdp64Encoder enc = new MoldUdp64Encoder();
    private final DatagramMeta meta = new DatagramMeta();
    private final byte[] stock = "MEM     ".getBytes();
    private final byte[] session = MoldUdp64Encoder.session("MEM");
    private final int groupA = Ipv4.parse("239.1.1.1");
    private final int groupB = Ipv4.parse("239.1.1.2");
    private final int peer = Ipv4.parse("10.9.9.9");
    private long events;
    private long sequence = 1;
    private boolean onB;
    private boolean closed;
    private DirectBuffer warmPayload;
    private int warmOffset;
    private int warmLength;
    private long warmDelivered;
    private long lastSentSequence = -1;
    private int sendRefusals;

    MemUdpEndpoint(final PortUri uri) {
        this.uri = uri;
        this.mode = uri.target();
    }

    /** Clears the readings before a test. */
    public static void reset() {
        allocatedAtWarm = -1;
        allocatedAtEnd = -1;
        sent = 0;
        claimRefusals = 0;
        outOfOrder = 0;
    }

    private void event() {
        events++;
        if (events == WARM) {
            allocatedAtWarm = THREADS.getCurrentThreadAllocatedBytes();
        } else if (events == END) {
            allocatedAtEnd = THREADS.getCurrentThreadAllocatedBytes();
        }
    }

    @Override
    public int poll(final DatagramHandler handler, final int limit) {
        if (warmPayload != null) {
            // a duty-cycle warm-up: the placeholder sender's datagrams, as a real backend's
            meta.set(Ipv4.parse("192.0.2.1"), 9, groupA, 30001, 0);
            for (int i = 0; i < limit; i++) {
                handler.onDatagram(warmPayload, warmOffset, warmLength, meta);
            }
            warmDelivered += limit;
            return limit;
        }
        if ("sink".equals(mode)) {
            return 0;
        }
        int n = 0;
        while (n < limit) {
            if ("feed".equals(mode)) {
                if (events >= END + 10) {
                    enc.wrap(buf, 0, session).sequence(sequence).endOfSession();
                    meta.set(peer, 40000, groupA, 30001, 0);
                    handler.onDatagram(buf, 0, enc.length(), meta);
                    meta.set(peer, 40000, groupB, 30002, 0);
                    handler.onDatagram(buf, 0, enc.length(), meta);
                    return n + 2;
                }
                enc.wrap(buf, 0, session).sequence(sequence);
                final int at = enc.addMessage(MarketMessage.LENGTH);
                MarketMessage.encode(buf, at, sequence % 100 == 0 ? MarketMessage.FLAG_TRIGGER : 0, 1, sequence, (byte) 'B', 1, stock, 1);
                meta.set(peer, 40000, onB ? groupB : groupA, onB ? 30002 : 30001, 0);
                handler.onDatagram(buf, 0, enc.length(), meta);
                if (onB) {
                    sequence++;
                }
                onB = !onB;
            } else {
                if (events > END + 10) {
                    return n;
                }
                final int length;
                if ((events & 1) == 0) {
                    PingMessage.encode(buf, 0, PingMessage.ORDER, events, 1, 0);
                    length = PingMessage.LENGTH;
                } else {
                    SockperfHeader.encode(buf, 0, events, SockperfHeader.FLAG_CLIENT | SockperfHeader.FLAG_PONG_REQUEST, 64);
                    length = 64;
                }
                meta.set(peer, 40000, peer, 11111, 0);
                handler.onDatagram(buf, 0, length, meta);
            }
            event();
            n++;
        }
        return n;
    }

    @Override
    public int send(final UdpDestination destination, final DirectBuffer buffer, final int offset, final int length) {
        if (warmPayload != null) {
            return OK;
        }
        if (sendRefusals > 0) {
            sendRefusals--;
            return NEIGHBOUR_PENDING;
        }
        if (!"sink".equals(mode) && !"feed".equals(mode)) {
            // every reply carries its request's sequence: they must leave in arrival order
            final long seq = length == PingMessage.LENGTH ? PingMessage.sequence(buffer, offset) : SockperfHeader.sequence(buffer, offset);
            if (seq <= lastSentSequence) {
                outOfOrder++;
            }
            lastSentSequence = seq;
        }
        sent++;
        if ("sink".equals(mode)) {
            event();
        }
        return OK;
    }

    @Override
    public int tryClaim(final UdpDestination destination, final int length, final DatagramClaim claim) {
        if (length > claimed.capacity()) {
            return TOO_LONG;
        }
        if (RESOLVING.equals(mode) && warmPayload == null && events % 1000 >= 500 && events % 1000 < 520) {
            // the neighbour "resolves" for 20 requests in every 1000; the send after refuses once too, so Udp.send polls
            claimRefusals++;
            sendRefusals = 1;
            return NEIGHBOUR_PENDING;
        }
        claim.wrap(claimOwner, 0, claimed.addressOffset(), length);
        return OK;
    }

    // A committed claim counts as a send; an aborted one as nothing.
    private final ClaimOwner claimOwner = new ClaimOwner() {
        @Override
        public void commit(final long token, final int length) {
            send(null, claimed, 0, length);
        }

        @Override
        public void abort(final long token) {
        }
    };

    @Override
    public int warmUp(final DatagramHandler handler, final DirectBuffer payload, final int offset, final int length,
                      final int datagrams) {
        // As a real backend's warm-up: from TEST-NET-1 port 9, to the A line.
        meta.set(Ipv4.parse("192.0.2.1"), 9, groupA, 30001, 0);
        for (int i = 0; i < datagrams; i++) {
            handler.onDatagram(payload, offset, length, meta);
        }
        return datagrams;
    }

    @Override
    public int warmUpDutyCycle(final DutyCycle dutyCycle, final DirectBuffer payload, final int offset, final int length,
                      final int datagrams) {
        warmPayload = payload;
        warmOffset = offset;
        warmLength = length;
        warmDelivered = 0;
        try {
            int turns = 0;
            while (warmDelivered < datagrams) {
                dutyCycle.doWork();
                if (++turns > datagrams + WARM_UP_IDLE_TURNS) {
                    throw new IllegalStateException("the duty cycle does not poll");
                }
            }
            return (int) warmDelivered;
        } finally {
            warmPayload = null;
        }
    }

    @Override
    public int flush() {
        return 0;
    }

    @Override
    public String backend() {
        return "mem";
    }

    @Override
    public PortUri uri() {
        return uri;
    }

    @Override
    public Set<Capability> capabilities() {
        return Set.of();
    }

    @Override
    public void bind(final int port) {
    }

    @Override
    public void join(final int group, final int port) {
    }

    @Override
    public void leave(final int group, final int port) {
    }

    @Override
    public int maxPayloadLength() {
        return 1472;
    }

    @Override
    public int localAddress() {
        return peer;
    }

    @Override
    public int localPort() {
        return 40000;
    }

    @Override
    public Counters counters() {
        return counters;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
    }
}
