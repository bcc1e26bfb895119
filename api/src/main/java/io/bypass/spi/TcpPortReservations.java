package io.bypass.spi;

import io.bypass.BypassException;
import io.bypass.FlowRule;
import io.bypass.net.Ipv4;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The local TCP ports a port's steered TCP flows use, reserved in the kernel as Onload does, for a
 * backend beside which the kernel keeps the interface ({@code afxdp:}, {@code efvi:}): a kernel TCP
 * socket (non-blocking, {@code SO_REUSEADDR} off, never listening) bound to the local address and
 * port and held while any rule uses it, so the kernel gives that port to no other socket
 * ({@code bind} fails with EADDRINUSE, {@code connect} does not pick it). Port 0 asks the kernel for
 * an ephemeral port, as {@code bind} to port 0 does. Closed on release and on {@link #close()}; the
 * kernel closes them with the process.
 *
 * <p>A socket belongs to the network namespace of the thread that creates it, and a port may be
 * used from threads outside the namespace it was opened in (a namespace executor opened it). So
 * the backend hands in its {@link PortNamespace}, made on the thread that opened the port, and a
 * reservation made from a thread elsewhere is made on a short-lived thread that enters that
 * namespace first. Not thread-safe: guarded by the port's lock.
 */
public final class TcpPortReservations implements AutoCloseable {
    private static final Path THREAD_NETNS = Path.of("/proc/thread-self/ns/net");

    private final String backend;
    private final String iface;
    private final String namespace;
    private final PortNamespace portNamespace;
    /** Reservations by (address << 16 | port). */
    private final Map<Long, Held> held = new HashMap<>();

    /**
     * The network namespace a port was opened in, kept by the backend (entering one is
     * {@code setns(2)}, a native call, which {@code api} does not make).
     */
    public interface PortNamespace extends AutoCloseable {
        /**
         * Moves the calling thread (a short-lived one) into the port's namespace.
         *
         * @throws BypassException naming the call, its errno and the remedy if it cannot
         */
        void enter();

        /** Releases what the namespace handle holds (its fd). */
        @Override
        void close();
    }

    /** One kernel socket and how many rules use it. */
    private static final class Held {
        final SocketChannel channel;
        int rules = 1;

        Held(final SocketChannel channel) {
            this.channel = channel;
        }
    }

    /**
     * Remembers the calling thread's network namespace: the one the port was opened in.
     *
     * @param backend       the backend's name, for messages
     * @param iface         the interface, for messages
     * @param portNamespace the backend's handle on the same namespace, closed by {@link #close()} (and here if this fails)
     */
    public TcpPortReservations(final String backend, final String iface, final PortNamespace portNamespace) {
        this.backend = backend;
        this.iface = iface;
        this.portNamespace = portNamespace;
        try {
            namespace = Files.readSymbolicLink(THREAD_NETNS).toString();
        } catch (final IOException e) {
            final BypassException b = new BypassException(backend + ": cannot read " + THREAD_NETNS + ": " + e + "; /proc must be mounted", e);
            Closer.closeAfterFailure(b, portNamespace);
            throw b;
        }
    }

    private static long key(final int address, final int port) {
        return ((address & 0xFFFF_FFFFL) << 16) | port;
    }

    /**
     * Reserves {@code address:port}, or shares the reservation this port already holds there.
     *
     * @param address the local address, big-endian
     * @param port    the local port, or 0 for one the kernel chooses
     * @param forWhat the flow, for messages (its {@code toString}, called only for one: a connection is
     *                set up on the polling thread, where building a string it does not need costs)
     * @return the port reserved
     */
    public int reserve(final int address, final int port, final Object forWhat) {
        if (port != 0) {
            final Held h = held.get(key(address, port));
            if (h != null) {
                h.rules++;
                return port;
            }
        }
        final SocketChannel channel = inPortNamespace(() -> bind(address, port), forWhat);
        final int bound;
        try {
            bound = ((InetSocketAddress) channel.getLocalAddress()).getPort();
        } catch (final IOException e) {
            closeQuietly(channel, e);
            throw new BypassException(backend + ": cannot read the port the kernel reserved for " + forWhat + ": " + e, e);
        }
        held.put(key(address, bound), new Held(channel));
        return bound;
    }

    /**
     * Lets go of one rule's use of {@code address:port}; the last one closes the kernel socket.
     *
     * @param address the local address
     * @param port    the local port, as {@link #reserve} returned it
     */
    public void release(final int address, final int port) {
        final long k = key(address, port);
        final Held h = held.get(k);
        if (h == null || --h.rules > 0) {
            return;
        }
        held.remove(k);
        try {
            h.channel.close();
        } catch (final IOException e) {
            throw new BypassException(backend + ": closing the kernel socket reserving TCP " + Ipv4.toString(address) + ":" + port
                + " failed: " + e, e);
        }
    }

    /**
     * The end of a TCP rule's removal: releases its local port after the backend undid its steering,
     * then reports both steps' failures in one {@link BypassException} ({@code "afxdp: removing RULE on
     * IFACE: ..."}). The release runs even after the steering failed. The report is built only on failure:
     * a connection ends on the polling thread, where a {@link Closer} step's lambda or the message's
     * concatenation would spin classes the first time.
     *
     * @param rule           the rule as installed, with its local address and port
     * @param unsteerStep    what undoing the steering is called in the report: {@code "unsteering it"}
     * @param unsteerFailure how undoing the steering failed, or null if it did not
     * @throws BypassException naming each failed step
     */
    public void releaseAfterUnsteering(final FlowRule rule, final String unsteerStep, final RuntimeException unsteerFailure) {
        RuntimeException releaseFailure = null;
        try {
            release(rule.destinationAddress(), rule.destinationPort());
        } catch (final RuntimeException e) {
            releaseFailure = e;
        }
        if (unsteerFailure == null && releaseFailure == null) {
            return;
        }
        final Closer closer = new Closer(backend + ": removing " + rule + " on " + iface);
        if (unsteerFailure != null) {
            closer.failed(unsteerStep, unsteerFailure);
        }
        if (releaseFailure != null) {
            closer.failed("releasing its port reservation", releaseFailure);
        }
        closer.throwIfFailed();
    }

    /**
     * @param address a local address
     * @param port    a local port
     * @return whether this port holds a reservation there
     */
    public boolean holds(final int address, final int port) {
        return held.containsKey(key(address, port));
    }

    private SocketChannel bind(final int address, final int port) throws IOException {
        final SocketChannel channel = SocketChannel.open(StandardProtocolFamily.INET);
        try {
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, false);
            channel.bind(new InetSocketAddress(InetAddress.getByAddress(Ipv4.toBytes(address)), port));
            return channel;
        } catch (final IOException | RuntimeException e) {
            closeQuietly(channel, e);
            throw e;
        }
    }

    private interface Binding {
        SocketChannel bind() throws IOException;
    }

    /** Runs the bind here if this thread is in the port's namespace, else on a thread that enters it. */
    private SocketChannel inPortNamespace(final Binding binding, final Object forWhat) {
        try {
            if (namespace.equals(Files.readSymbolicLink(THREAD_NETNS).toString())) {
                return binding.bind();
            }
        } catch (final IOException e) {
            throw bindFailure(forWhat, e);
        }
        final AtomicReference<SocketChannel> result = new AtomicReference<>();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread t = new Thread(() -> {
            try {
                portNamespace.enter();
                result.set(binding.bind());
            } catch (final Throwable e) {
                failure.set(e);
            }
        }, "bypass-" + backend + "-reserve");
        t.start();
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (final InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        final Throwable f = failure.get();
        if (f instanceof BypassException b) {
            throw b;
        }
        if (f != null) {
            throw bindFailure(forWhat, f);
        }
        return result.get();
    }

    private BypassException bindFailure(final Object forWhat, final Throwable e) {
        final String text = String.valueOf(e.getMessage());
        final String remedy = text.contains("in use") ? "; another socket of this host has that port: choose another, or 0 for one"
            + " the kernel chooses (ss -tanp shows who holds it)" : text.contains("assign") ? "; the address is not one of "
            + iface + "'s" : "";
        return new BypassException(backend + ": cannot reserve the local port of " + forWhat + " in the kernel (bind of a TCP socket): "
            + e + remedy, e);
    }

    private static void closeQuietly(final SocketChannel channel, final Exception primary) {
        try {
            channel.close();
        } catch (final IOException e) {
            primary.addSuppressed(e);
        }
    }

    /** Closes every reserving socket and the namespace handle, each even after one fails. */
    @Override
    public void close() {
        final Closer closer = new Closer(backend + ": releasing the reserved TCP ports of " + iface);
        for (final Map.Entry<Long, Held> e : held.entrySet()) {
            final long k = e.getKey();
            closer.close("closing the socket reserving TCP " + Ipv4.toString((int) (k >>> 16)) + ":" + (k & 0xFFFF), e.getValue().channel);
        }
        held.clear();
        closer.close("closing the network namespace fd", portNamespace);
        closer.throwIfFailed();
    }
}
