package io.bypass.spi;

import io.bypass.BypassException;
import io.bypass.Capability;
import io.bypass.Counters;
import io.bypass.Port;
import io.bypass.PortUri;
import io.bypass.RxQueue;
import io.bypass.TxQueue;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * For backend authors: the bookkeeping every L2 {@link Port} has, so a backend writes only
 * what its hardware or kernel interface needs (open, close, flows, multicast, neighbours).
 * Holds the backend name, the URI, the capabilities, the queues, the counters, the
 * interface's addressing and the closed flag, and validates queue ids with one message format.
 *
 * <p>The subclass fills it in while it opens, then hands the port out:
 * <pre>{@code
 * final class MyPort extends AbstractPort<MyRxQueue, MyTxQueue> {
 *     MyPort(PortUri uri) {
 *         super("mine", uri);
 *     }
 *
 *     void open() {
 *         identity(mac, ipv4, prefixLength, gateway, mtu);
 *         queues(new MyRxQueue[] {new MyRxQueue(this)}, new MyTxQueue[] {new MyTxQueue(this)});
 *         capabilities(EnumSet.of(Capability.L2_FRAMES));
 *     }
 *
 *     public synchronized void close() {
 *         if (isClosed()) {
 *             return;
 *         }
 *         markClosed();
 *         final Closer closer = new Closer("mine: closing " + uri());  // free everything, then report every failure
 *         closer.close("closing the socket", socket);
 *         closer.throwIfFailed();
 *     }
 * }
 * }</pre>
 * Queues guard their hot-path methods with {@link #checkOpen()}, a final method: one
 * volatile read, no virtual call.
 *
 * @param <R> the backend's RX queue type
 * @param <T> the backend's TX queue type
 */
public abstract class AbstractPort<R extends RxQueue, T extends TxQueue> implements Port {
    private static final RxQueue[] NO_RX = new RxQueue[0];
    private static final TxQueue[] NO_TX = new TxQueue[0];

    private final String backend;
    private final PortUri uri;
    private final Counters counters = new Counters();
    private volatile boolean closed;
    private Set<Capability> capabilities = Set.of();
    private RxQueue[] rxQueues = NO_RX;
    private TxQueue[] txQueues = NO_TX;
    private long macAddress;
    private int ipv4Address;
    private int ipv4PrefixLength;
    private int ipv4Gateway;
    private int mtu;

    /**
     * Starts with no queues, no capabilities and zero addresses.
     *
     * @param backend the backend's name, its URI scheme, such as {@code afxdp}; starts every exception message
     * @param uri     the URI the port is opened with
     */
    protected AbstractPort(final String backend, final PortUri uri) {
        this.backend = backend;
        this.uri = uri;
        // Agrona's buffers are the claims' and frames' views; their messages are string constants.
        HotPathStrings.intern(org.agrona.concurrent.UnsafeBuffer.class, org.agrona.AbstractMutableDirectBuffer.class,
            org.agrona.UnsafeApi.class);
    }

    /**
     * Sets the interface's addressing, once it is known during open.
     *
     * @param macAddress       MAC in the low 48 bits
     * @param ipv4Address      big-endian IPv4 address, or 0
     * @param ipv4PrefixLength prefix length of that address, or 0
     * @param ipv4Gateway      big-endian default gateway, or 0
     * @param mtu              MTU in bytes, L3
     */
    protected final void identity(final long macAddress, final int ipv4Address, final int ipv4PrefixLength,
                                  final int ipv4Gateway, final int mtu) {
        this.macAddress = macAddress;
        this.ipv4Address = ipv4Address;
        this.ipv4PrefixLength = ipv4PrefixLength;
        this.ipv4Gateway = ipv4Gateway;
        this.mtu = mtu;
    }

    /**
     * Sets the interface's addressing from what the kernel knows, for backends that leave
     * the interface to the kernel.
     *
     * @param kernel the interface's facts, read during open
     */
    protected final void identity(final KernelInterface kernel) {
        identity(kernel.macAddress(), kernel.ipv4Address(), kernel.ipv4PrefixLength(), kernel.ipv4Gateway(), kernel.mtu());
    }

    /**
     * Sets the queues, once created during open; {@link #rxQueue(int)} and
     * {@link #txQueue(int)} hand out these arrays' elements. The arrays are kept, not copied.
     *
     * @param rx the RX queues, index = queue id
     * @param tx the TX queues, index = queue id
     */
    protected final void queues(final R[] rx, final T[] tx) {
        this.rxQueues = rx;
        this.txQueues = tx;
    }

    /**
     * Sets what the port can do, once known during open.
     *
     * @param capabilities the capabilities; copied
     */
    protected final void capabilities(final Set<Capability> capabilities) {
        this.capabilities = Collections.unmodifiableSet(capabilities.isEmpty()
            ? EnumSet.noneOf(Capability.class) : EnumSet.copyOf(capabilities));
    }

    /**
     * Marks the port closed: from now on {@link #checkOpen()} throws and {@link #isClosed()}
     * is true. Call it from {@link #close()}, at the point the backend's close sequence allows.
     */
    protected final void markClosed() {
        closed = true;
    }

    /**
     * Throws if the port is closed; queues call it at the top of poll, tryClaim, commit, abort and flush.
     *
     * @throws BypassException naming the backend and the port, once {@link #markClosed()} ran
     */
    public final void checkOpen() {
        if (closed) {
            throw closedException();
        }
    }

    /**
     * @return the exception {@link #checkOpen()} throws, for paths that detect the close another way
     */
    protected final BypassException closedException() {
        return HotPathErrors.closed(backend, uri);
    }

    /**
     * Validates an RX queue id given to a port method (such as addFlow).
     *
     * @param id the RX queue id
     * @throws IllegalArgumentException if the port has no such RX queue
     */
    protected final void checkRxQueueId(final int id) {
        if (id < 0 || id >= rxQueues.length) {
            throw HotPathErrors.noSuchQueue(backend, uri, true, id, rxQueues.length);
        }
    }

    /**
     * A TX queue without the open and range checks of {@link #txQueue(int)}: for the
     * subclass's close, which runs after {@link #markClosed()}.
     *
     * @param id a TX queue id in 0..{@link #txQueueCount()}-1
     * @return the queue
     */
    @SuppressWarnings("unchecked")
    protected final T txQueueAt(final int id) {
        return (T) txQueues[id];
    }

    @Override
    public final String backend() {
        return backend;
    }

    @Override
    public final PortUri uri() {
        return uri;
    }

    @Override
    public final Set<Capability> capabilities() {
        return capabilities;
    }

    @Override
    public final int rxQueueCount() {
        return rxQueues.length;
    }

    @Override
    public final int txQueueCount() {
        return txQueues.length;
    }

    @Override
    @SuppressWarnings("unchecked")
    public final R rxQueue(final int id) {
        checkOpen();
        checkRxQueueId(id);
        return (R) rxQueues[id];
    }

    @Override
    @SuppressWarnings("unchecked")
    public final T txQueue(final int id) {
        checkOpen();
        if (id < 0 || id >= txQueues.length) {
            throw HotPathErrors.noSuchQueue(backend, uri, false, id, txQueues.length);
        }
        return (T) txQueues[id];
    }

    @Override
    public final Counters counters() {
        return counters;
    }

    @Override
    public final long macAddress() {
        return macAddress;
    }

    @Override
    public final int ipv4Address() {
        return ipv4Address;
    }

    @Override
    public final int ipv4PrefixLength() {
        return ipv4PrefixLength;
    }

    @Override
    public final int ipv4Gateway() {
        return ipv4Gateway;
    }

    @Override
    public final int mtu() {
        return mtu;
    }

    @Override
    public final boolean isClosed() {
        return closed;
    }
}
