package io.bypass.bench.jmh;

import io.bypass.Capability;
import io.bypass.Counters;
import io.bypass.FlowRule;
import io.bypass.FrameClaim;
import io.bypass.FrameHandler;
import io.bypass.FrameMeta;
import io.bypass.Port;
import io.bypass.PortUri;
import io.bypass.RxQueue;
import io.bypass.TxQueue;
import io.bypass.spi.ClaimOwner;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.Set;

/**
 * An in-memory {@link Port} pair for single-threaded benchmarks of the protocol layer:
 * what one port's TX queue commits, the other's RX queue polls, zero copy, from a ring
 * of frames in native memory (as a UMEM is). It reports {@link Capability#KERNEL_NEIGHBOURS}
 * and resolves the peer's address itself, so no ARP runs in a measured loop.
 */
public final class LoopbackPort implements Port {
    private static final int FRAME_SIZE = 2048;
    private int nextTcpPort = 49152;

    private final PortUri uri;
    private final long mac;
    private final int address;
    private final Ring in;
    private final Ring out;
    private final Counters counters = new Counters();
    private final FrameMeta meta = new FrameMeta();
    private LoopbackPort peer;
    private boolean closed;
    private final RxQueue rx = new RxQueue() {
        @Override
        public int poll(final FrameHandler handler, final int limit) {
            return in.poll(handler, limit, meta);
        }

        @Override
        public int id() {
            return 0;
        }
    };

    private LoopbackPort(final String name, final long mac, final int address, final Ring in, final Ring out) {
        this.uri = PortUri.parse("loop:" + name);
        this.mac = mac;
        this.address = address;
        this.in = in;
        this.out = out;
    }

    /**
     * @param addressA IPv4 of port A
     * @param addressB IPv4 of port B
     * @param ringSize frames per direction (power of two)
     * @return {A, B}
     */
    public static LoopbackPort[] pair(final int addressA, final int addressB, final int ringSize) {
        final Ring ab = new Ring(ringSize);
        final Ring ba = new Ring(ringSize);
        final LoopbackPort a = new LoopbackPort("a", 0x020000000001L, addressA, ba, ab);
        final LoopbackPort b = new LoopbackPort("b", 0x020000000002L, addressB, ab, ba);
        a.peer = b;
        b.peer = a;
        return new LoopbackPort[] {a, b};
    }

    /** One direction: frames in native memory, lengths, head and tail (one thread). */
    private static final class Ring implements TxQueue, ClaimOwner {
        private final Arena arena = Arena.ofShared();
        private final MemorySegment memory;
        private final UnsafeBuffer view;
        private final int[] lengths;
        private final int mask;
        private long head;
        private long tail;
        private long claimed = -1;

        Ring(final int size) {
            memory = arena.allocate((long) size * FRAME_SIZE, 4096);
            view = new UnsafeBuffer(memory.address(), (int) memory.byteSize());
            lengths = new int[size];
            mask = size - 1;
        }

        @Override
        public boolean tryClaim(final int length, final FrameClaim claim) {
            if (length > FRAME_SIZE || tail - head > mask || claimed >= 0) {
                return false;
            }
            claimed = tail;
            claim.wrap(this, tail, memory.address() + (tail & mask) * FRAME_SIZE, length);
            return true;
        }

        @Override
        public void commit(final long token, final int length) {
            lengths[(int) (token & mask)] = length;
            tail = token + 1;
            claimed = -1;
        }

        @Override
        public void abort(final long token) {
            claimed = -1;
        }

        @Override
        public int flush() {
            return 0;
        }

        @Override
        public int maxFrameLength() {
            return FRAME_SIZE;
        }

        @Override
        public int id() {
            return 0;
        }

        int poll(final FrameHandler handler, final int limit, final FrameMeta meta) {
            int n = 0;
            while (n < limit && head < tail) {
                final int slot = (int) (head & mask);
                handler.onFrame(view, slot * FRAME_SIZE, lengths[slot], meta);
                head++;
                n++;
            }
            return n;
        }
    }

    @Override
    public String backend() {
        return "loop";
    }

    @Override
    public PortUri uri() {
        return uri;
    }

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.of(Capability.ZERO_COPY_RX, Capability.ZERO_COPY_TX, Capability.KERNEL_NEIGHBOURS);
    }

    @Override
    public int rxQueueCount() {
        return 1;
    }

    @Override
    public int txQueueCount() {
        return 1;
    }

    @Override
    public RxQueue rxQueue(final int id) {
        return rx;
    }

    @Override
    public TxQueue txQueue(final int id) {
        return out;
    }

    @Override
    public Counters counters() {
        return counters;
    }

    @Override
    public long macAddress() {
        return mac;
    }

    @Override
    public int ipv4Address() {
        return address;
    }

    @Override
    public int ipv4PrefixLength() {
        return 24;
    }

    @Override
    public int ipv4Gateway() {
        return 0;
    }

    @Override
    public int mtu() {
        return 1500;
    }

    @Override
    public FlowRule addFlow(final int rxQueueId, final FlowRule rule) {
        // every frame reaches the one queue; as a port that reserves TCP ports in the kernel (it reports
        // KERNEL_NEIGHBOURS), a TCP rule's address 0 is ours and its local port 0 one chosen for it
        if (rule.isTcp() && (rule.localAddress() == 0 || rule.localPort() == 0)) {
            return rule.withLocal(rule.localAddress() == 0 ? ipv4Address() : rule.localAddress(),
                rule.localPort() == 0 ? nextTcpPort++ : rule.localPort());
        }
        return rule;
    }

    @Override
    public void removeFlow(final int rxQueueId, final FlowRule rule) {
        // nothing to undo
    }

    @Override
    public void joinMulticast(final int group) {
        // every frame is delivered
    }

    @Override
    public void leaveMulticast(final int group) {
        // every frame is delivered
    }

    @Override
    public long resolveNeighbour(final int ipv4) {
        return ipv4 == peer.address ? peer.mac : -1;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            out.arena.close();
        }
    }
}
