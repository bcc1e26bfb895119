package io.bypass.testing;

import io.bypass.BypassException;
import io.bypass.Capability;
import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.FlowRule;
import io.bypass.FrameClaim;
import io.bypass.FrameHandler;
import io.bypass.FrameMeta;
import io.bypass.Port;
import io.bypass.PortUri;
import io.bypass.RxQueue;
import io.bypass.TxQueue;
import io.bypass.net.Ipv4;
import io.bypass.net.Mac;
import io.bypass.spi.ClaimOwner;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntToLongFunction;

/**
 * A pure-Java L2 {@link Port} for tests: two ports joined back to back like a veth pair,
 * so the protocol layer ({@link io.bypass.udp.L2UdpEndpoint}) runs end to end with no
 * kernel, NIC or privilege.
 *
 * <p>Each direction is a ring of N fixed-size frames in one direct buffer. A TX claim
 * points straight at the next free frame, {@link TxQueue#flush()} publishes committed
 * frames to the peer, and the peer's {@link RxQueue#poll} hands it views of the same
 * memory (zero copy) and frees the frames when the poll returns. A full ring refuses
 * claims and counts {@link Counter#TX_BACK_PRESSURED}; claims longer than the frame
 * size are refused with {@link IllegalArgumentException}; poll honours its limit. The
 * port counts {@code TX_PACKETS}/{@code TX_BYTES} at flush, and {@code RX_PACKETS}/
 * {@code RX_BYTES} per frame polled only with {@link Config#countRx(boolean)}, so tests
 * cover L2 backends of both kinds. Single producer and single consumer per direction; the two sides may run on
 * different threads.
 *
 * <pre>{@code
 * MemoryPort.Pair pair = MemoryPort.pair(
 *     new MemoryPort.Config().mac("02:00:00:00:00:0a").ipv4("10.0.0.1", 24),
 *     new MemoryPort.Config().mac("02:00:00:00:00:0b").ipv4("10.0.0.2", 24));
 * UdpEndpoint a = new L2UdpEndpoint(pair.a(), pair.a().uri(), true);
 * }</pre>
 *
 * <p>For assertions it records the flows added, the groups joined at the "NIC" and the
 * neighbour queries, and {@link #inject(byte[])} puts any bytes on its RX ring as if
 * the peer had sent them.
 */
public final class MemoryPort implements Port {
    private static final int CLAIMED = -1;
    private static final int ABORTED = -2;

    /**
     * Settings of one side of a pair.
     */
    public static final class Config {
        private String uri = "memory:";
        private long mac = 0x02_00_00_00_00_01L;
        private int ipv4;
        private int prefixLength = 24;
        private int gateway;
        private int mtu = 1500;
        private int ringSize = 256;
        private int frameSize = 2048;
        private Set<Capability> capabilities = EnumSet.of(
            Capability.L2_FRAMES, Capability.ZERO_COPY_RX, Capability.ZERO_COPY_TX, Capability.MULTICAST);
        private IntToLongFunction neighbourResolver = ip -> -1;
        private boolean countRx;

        /** Creates the default settings: MTU 1500, 256 frames of 2048 bytes, no address. */
        public Config() {
        }

        /**
         * @param uri the port's URI text (parameters are read by the UDP layer)
         * @return this
         */
        public Config uri(final String uri) {
            this.uri = uri;
            return this;
        }

        /**
         * @param mac such as {@code 02:00:00:00:00:0a}
         * @return this
         */
        public Config mac(final String mac) {
            this.mac = Mac.parse(mac);
            return this;
        }

        /**
         * @param address      dotted quad
         * @param prefixLength subnet prefix
         * @return this
         */
        public Config ipv4(final String address, final int prefixLength) {
            this.ipv4 = Ipv4.parse(address);
            this.prefixLength = prefixLength;
            return this;
        }

        /**
         * @param address default gateway, dotted quad
         * @return this
         */
        public Config gateway(final String address) {
            this.gateway = Ipv4.parse(address);
            return this;
        }

        /**
         * @param mtu IP MTU
         * @return this
         */
        public Config mtu(final int mtu) {
            this.mtu = mtu;
            return this;
        }

        /**
         * @param ringSize  frames in this side's TX ring (a power of two)
         * @param frameSize bytes per frame: the TX queue's max frame length
         * @return this
         */
        public Config ring(final int ringSize, final int frameSize) {
            if (Integer.bitCount(ringSize) != 1) {
                throw new IllegalArgumentException("ring size must be a power of two, got " + ringSize);
            }
            this.ringSize = ringSize;
            this.frameSize = frameSize;
            return this;
        }

        /**
         * @param capabilities what the port claims to do
         * @return this
         */
        public Config capabilities(final Set<Capability> capabilities) {
            this.capabilities = EnumSet.copyOf(capabilities);
            return this;
        }

        /**
         * @param countRx true to count {@code RX_PACKETS}/{@code RX_BYTES} per frame polled,
         *                as some L2 backends do
         * @return this
         */
        public Config countRx(final boolean countRx) {
            this.countRx = countRx;
            return this;
        }

        /**
         * @param resolver answers {@link Port#resolveNeighbour(int)}: MAC or -1
         * @return this
         */
        public Config neighbourResolver(final IntToLongFunction resolver) {
            this.neighbourResolver = resolver;
            return this;
        }
    }

    /**
     * Two connected ports.
     *
     * @param a one side
     * @param b the other
     */
    public record Pair(MemoryPort a, MemoryPort b) {
    }

    /**
     * Creates two connected ports.
     *
     * @param a settings of side a
     * @param b settings of side b
     * @return the pair
     */
    public static Pair pair(final Config a, final Config b) {
        final Link aToB = new Link(a.ringSize, a.frameSize);
        final Link bToA = new Link(b.ringSize, b.frameSize);
        final MemoryPort portA = new MemoryPort(a, aToB, bToA);
        final MemoryPort portB = new MemoryPort(b, bToA, aToB);
        return new Pair(portA, portB);
    }

    /** One direction: a ring of fixed-size frames, single producer, single consumer. */
    private static final class Link {
        private final ByteBuffer memory;
        private final UnsafeBuffer frames;
        private final int[] lengths;
        private final int capacity;
        private final int mask;
        private final int frameSize;
        private long tail;
        private volatile long published;
        private volatile long head;

        Link(final int capacity, final int frameSize) {
            this.capacity = capacity;
            this.mask = capacity - 1;
            this.frameSize = frameSize;
            this.memory = ByteBuffer.allocateDirect(capacity * frameSize);
            this.frames = new UnsafeBuffer(memory);
            this.lengths = new int[capacity];
        }

        long claim() {
            if (tail - head >= capacity) {
                return -1;
            }
            final long seq = tail++;
            lengths[(int) seq & mask] = CLAIMED;
            return seq;
        }

        long address(final long seq) {
            return frames.addressOffset() + (long) ((int) seq & mask) * frameSize;
        }
    }

    private final Config config;
    private final PortUri uri;
    private final Counters counters = new Counters();
    private final Link txLink;
    private final Link rxLink;
    private final MemoryTxQueue txQueue;
    private final MemoryRxQueue rxQueue;
    private final List<FlowRule> flows = new ArrayList<>();
    private RuntimeException nextAddFlowFailure;
    /** The local port a TCP rule with port 0 gets next, as a kernel's bind(0) would choose one. */
    private int nextTcpPort = 50000;
    private final Map<Integer, Integer> groups = new TreeMap<>();
    private final List<Integer> neighbourQueries = new ArrayList<>();
    private volatile boolean closed;

    private MemoryPort(final Config config, final Link txLink, final Link rxLink) {
        this.config = config;
        this.uri = PortUri.parse(config.uri);
        this.txLink = txLink;
        this.rxLink = rxLink;
        this.txQueue = new MemoryTxQueue();
        this.rxQueue = new MemoryRxQueue();
    }

    private void ensureOpen() {
        if (closed) {
            throw new BypassException("port closed: " + uri);
        }
    }

    private final class MemoryTxQueue implements TxQueue, ClaimOwner {
        @Override
        public boolean tryClaim(final int length, final FrameClaim claim) {
            ensureOpen();
            if (length < 0 || length > txLink.frameSize) {
                throw new IllegalArgumentException("frame length " + length + " outside 0.." + txLink.frameSize);
            }
            final long seq = txLink.claim();
            if (seq < 0) {
                counters.increment(Counter.TX_BACK_PRESSURED);
                return false;
            }
            claim.wrap(this, seq, txLink.address(seq), length);
            return true;
        }

        @Override
        public void commit(final long token, final int length) {
            txLink.lengths[(int) token & txLink.mask] = length;
        }

        @Override
        public void abort(final long token) {
            txLink.lengths[(int) token & txLink.mask] = ABORTED;
        }

        @Override
        public int flush() {
            ensureOpen();
            long p = txLink.published;
            final long tail = txLink.tail;
            int sent = 0;
            long bytes = 0;
            // publish in order, stopping at the first frame still being written
            while (p < tail) {
                final int length = txLink.lengths[(int) p & txLink.mask];
                if (length == CLAIMED) {
                    break;
                }
                if (length >= 0) {
                    sent++;
                    bytes += length;
                }
                p++;
            }
            txLink.published = p;
            if (sent > 0) {
                counters.add(Counter.TX_PACKETS, sent);
                counters.add(Counter.TX_BYTES, bytes);
            }
            return sent;
        }

        @Override
        public int maxFrameLength() {
            return txLink.frameSize;
        }

        @Override
        public int id() {
            return 0;
        }
    }

    private final class MemoryRxQueue implements RxQueue {
        private final FrameMeta meta = new FrameMeta();

        @Override
        public int poll(final FrameHandler handler, final int limit) {
            ensureOpen();
            if (limit < 1) {
                throw new IllegalArgumentException("limit must be at least 1, got " + limit);
            }
            long h = rxLink.head;
            final long p = rxLink.published;
            int n = 0;
            long bytes = 0;
            try {
                while (h < p && n < limit) {
                    final int slot = (int) h & rxLink.mask;
                    final int length = rxLink.lengths[slot];
                    h++;
                    if (length >= 0) {
                        n++;
                        bytes += length;
                        handler.onFrame(rxLink.frames, slot * rxLink.frameSize, length, meta.set(0, FrameMeta.NO_TIMESTAMP, false));
                    }
                }
            } finally {
                rxLink.head = h; // frames go back to the ring once poll returns
                if (config.countRx && n > 0) {
                    counters.add(Counter.RX_PACKETS, n);
                    counters.add(Counter.RX_BYTES, bytes);
                }
            }
            return n;
        }

        @Override
        public int id() {
            return 0;
        }
    }

    /**
     * Puts raw bytes on this port's RX ring as if the peer had sent them (not counted as
     * the peer's TX). Not to be mixed with the peer sending from another thread.
     *
     * @param frame the frame's bytes, at most the peer's frame size
     * @return false if the ring is full
     */
    public boolean inject(final byte[] frame) {
        return inject(frame, 0, frame.length);
    }

    /**
     * @param frame  bytes
     * @param offset first byte
     * @param length bytes to inject
     * @return false if the ring is full
     */
    public boolean inject(final byte[] frame, final int offset, final int length) {
        if (length > rxLink.frameSize) {
            throw new IllegalArgumentException("frame of " + length + " bytes exceeds frame size " + rxLink.frameSize);
        }
        final long seq = rxLink.claim();
        if (seq < 0) {
            return false;
        }
        rxLink.frames.putBytes(((int) seq & rxLink.mask) * rxLink.frameSize, frame, offset, length);
        rxLink.lengths[(int) seq & rxLink.mask] = length;
        long p = rxLink.published;
        while (p < rxLink.tail && rxLink.lengths[(int) p & rxLink.mask] != CLAIMED) {
            p++;
        }
        rxLink.published = p;
        return true;
    }

    /**
     * Polls every frame waiting on RX queue 0 and copies it out: what the peer sent, for a
     * test to decode with its own reference code.
     *
     * @return the frames, in order
     */
    public List<byte[]> drain() {
        final List<byte[]> frames = new ArrayList<>();
        rxQueue(0).poll((buffer, offset, length, meta) -> {
            final byte[] f = new byte[length];
            buffer.getBytes(offset, f);
            frames.add(f);
        }, Integer.MAX_VALUE);
        return frames;
    }

    /** @return frames published to this port and not yet polled */
    public int rxPending() {
        return (int) (rxLink.published - rxLink.head);
    }

    /** @return the flows added and not removed, in order */
    public List<FlowRule> flows() {
        synchronized (flows) {
            return List.copyOf(flows);
        }
    }

    /** @return groups joined at the "NIC" with their join counts */
    public Map<Integer, Integer> multicastGroups() {
        synchronized (groups) {
            return Collections.unmodifiableMap(new TreeMap<>(groups));
        }
    }

    /** @return addresses {@link #resolveNeighbour(int)} was asked for, in order */
    public List<Integer> neighbourQueries() {
        synchronized (neighbourQueries) {
            return List.copyOf(neighbourQueries);
        }
    }

    @Override
    public String backend() {
        return "memory";
    }

    @Override
    public PortUri uri() {
        return uri;
    }

    @Override
    public Set<Capability> capabilities() {
        return Collections.unmodifiableSet(config.capabilities);
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
        ensureOpen();
        if (id != 0) {
            throw new IllegalArgumentException("RX queue " + id + " outside 0..0");
        }
        return rxQueue;
    }

    @Override
    public TxQueue txQueue(final int id) {
        ensureOpen();
        if (id != 0) {
            throw new IllegalArgumentException("TX queue " + id + " outside 0..0");
        }
        return txQueue;
    }

    @Override
    public Counters counters() {
        return counters;
    }

    @Override
    public long macAddress() {
        return config.mac;
    }

    @Override
    public int ipv4Address() {
        return config.ipv4;
    }

    @Override
    public int ipv4PrefixLength() {
        return config.prefixLength;
    }

    @Override
    public int ipv4Gateway() {
        return config.gateway;
    }

    @Override
    public int mtu() {
        return config.mtu;
    }

    @Override
    public FlowRule addFlow(final int rxQueueId, final FlowRule rule) {
        ensureOpen();
        synchronized (flows) {
            final RuntimeException failure = nextAddFlowFailure;
            if (failure != null) {
                nextAddFlowFailure = null;
                throw failure;
            }
            // as a port that reserves TCP ports in the kernel: address 0 is ours, local port 0 one chosen for it
            final FlowRule added = rule.isTcp() && (rule.localAddress() == 0 || rule.localPort() == 0)
                ? rule.withLocal(rule.localAddress() == 0 ? config.ipv4 : rule.localAddress(),
                    rule.localPort() == 0 ? nextTcpPort++ : rule.localPort()) : rule;
            flows.add(added);
            return added;
        }
    }

    /**
     * The next {@link #addFlow} throws {@code failure} and adds nothing.
     *
     * @param failure what it throws
     */
    public void failNextAddFlow(final RuntimeException failure) {
        synchronized (flows) {
            nextAddFlowFailure = failure;
        }
    }

    @Override
    public void removeFlow(final int rxQueueId, final FlowRule rule) {
        ensureOpen();
        synchronized (flows) {
            if (!flows.remove(rule)) {
                throw new IllegalArgumentException("no such flow " + rule);
            }
        }
    }

    @Override
    public void joinMulticast(final int group) {
        ensureOpen();
        synchronized (groups) {
            groups.merge(group, 1, Integer::sum);
        }
    }

    @Override
    public void leaveMulticast(final int group) {
        ensureOpen();
        synchronized (groups) {
            final Integer n = groups.get(group);
            if (n == null) {
                throw new IllegalArgumentException("group " + Ipv4.toString(group) + " not joined");
            }
            if (n == 1) {
                groups.remove(group);
            } else {
                groups.put(group, n - 1);
            }
        }
    }

    @Override
    public long resolveNeighbour(final int ipv4) {
        ensureOpen();
        synchronized (neighbourQueries) {
            neighbourQueries.add(ipv4);
        }
        return config.neighbourResolver.applyAsLong(ipv4);
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "MemoryPort[" + uri + ", " + Mac.toString(config.mac) + ", " + Ipv4.toString(config.ipv4) + "]";
    }
}
