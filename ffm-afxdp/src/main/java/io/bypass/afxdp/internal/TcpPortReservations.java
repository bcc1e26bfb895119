package io.bypass.afxdp.internal;

import io.bypass.BypassException;
import io.bypass.net.Ipv4;
import io.bypass.spi.Closer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
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
 * The local TCP ports a port's steered TCP flows use, reserved in the kernel as Onload does: a
 * kernel TCP socket (non-blocking, {@code SO_REUSEADDR} off, never listening) bound to the local
 * address and port and held while any rule uses it, so the kernel gives that port to no other
 * socket ({@code bind} fails with EADDRINUSE, {@code connect} does not pick it). Port 0 asks the
 * kernel for an ephemeral port, as {@code bind} to port 0 does. Closed on release and on
 * {@link #close()}; the kernel closes them with the process.
 *
 * <p>A socket belongs to the network namespace of the thread that creates it, and a port may be
 * used from threads outside the namespace it was opened in (a namespace executor opened it). So
 * the namespace of the thread that opened the port is kept as an fd, and a reservation made from
 * a thread elsewhere is made on a short-lived thread that enters that namespace
 * ({@code setns(2)}, which needs CAP_SYS_ADMIN) first. Guarded by the port's lock.
 */
final class TcpPortReservations implements AutoCloseable {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int CLONE_NEWNET = 0x40000000;
    private static final Path THREAD_NETNS = Path.of("/proc/thread-self/ns/net");

    private final String iface;
    private final String namespace;
    private int namespaceFd;
    /** Reservations by (address << 16 | port). */
    private final Map<Long, Held> held = new HashMap<>();

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
     * @param iface the interface, for messages
     */
    TcpPortReservations(final String iface) {
        this.iface = iface;
        try {
            namespace = Files.readSymbolicLink(THREAD_NETNS).toString();
        } catch (final IOException e) {
            throw new BypassException("afxdp: cannot read " + THREAD_NETNS + ": " + e + "; /proc must be mounted", e);
        }
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment errno = Errno.allocate(a);
            namespaceFd = (int) Calls.OPEN.invokeExact(errno, a.allocateFrom(THREAD_NETNS.toString()), O_RDONLY | O_CLOEXEC);
            if (namespaceFd < 0) {
                throw Errno.failure("open(" + THREAD_NETNS + ")", Errno.get(errno), "/proc must be mounted");
            }
        } catch (final RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The libc calls, bound on first use. */
    private static final class Calls {
        static final MethodHandle OPEN = bind("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        static final MethodHandle SETNS = bind("setns",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

        private Calls() {
        }

        private static MethodHandle bind(final String name, final FunctionDescriptor fd) {
            return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd, ERRNO);
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
     * @param forWhat the flow, for messages
     * @return the port reserved
     */
    int reserve(final int address, final int port, final String forWhat) {
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
            throw new BypassException("afxdp: cannot read the port the kernel reserved for " + forWhat + ": " + e, e);
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
    void release(final int address, final int port) {
        final long k = key(address, port);
        final Held h = held.get(k);
        if (h == null || --h.rules > 0) {
            return;
        }
        held.remove(k);
        try {
            h.channel.close();
        } catch (final IOException e) {
            throw new BypassException("afxdp: closing the kernel socket reserving TCP " + Ipv4.toString(address) + ":" + port
                + " failed: " + e, e);
        }
    }

    /**
     * @param address a local address
     * @param port    a local port
     * @return whether this port holds a reservation there
     */
    boolean holds(final int address, final int port) {
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
    private SocketChannel inPortNamespace(final Binding binding, final String forWhat) {
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
            try (Arena a = Arena.ofConfined()) {
                final MemorySegment errno = Errno.allocate(a);
                final int rc = (int) Calls.SETNS.invokeExact(errno, namespaceFd, CLONE_NEWNET);
                if (rc != 0) {
                    throw Errno.failure("setns(the network namespace of " + iface + ")", Errno.get(errno),
                        "add the flow from a thread in the port's network namespace, or give the process CAP_SYS_ADMIN");
                }
                result.set(binding.bind());
            } catch (final Throwable e) {
                failure.set(e);
            }
        }, "bypass-afxdp-reserve");
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

    private BypassException bindFailure(final String forWhat, final Throwable e) {
        final String text = String.valueOf(e.getMessage());
        final String remedy = text.contains("in use") ? "; another socket of this host has that port: choose another, or 0 for one"
            + " the kernel chooses (ss -tanp shows who holds it)" : text.contains("assign") ? "; the address is not one of "
            + iface + "'s" : "";
        return new BypassException("afxdp: cannot reserve the local port of " + forWhat + " in the kernel (bind of a TCP socket): "
            + e + remedy, e);
    }

    private static void closeQuietly(final SocketChannel channel, final Exception primary) {
        try {
            channel.close();
        } catch (final IOException e) {
            primary.addSuppressed(e);
        }
    }

    /** Closes every reserving socket and the namespace fd, each even after one fails. */
    @Override
    public void close() {
        final Closer closer = new Closer("afxdp: releasing the reserved TCP ports of " + iface);
        for (final Map.Entry<Long, Held> e : held.entrySet()) {
            final long k = e.getKey();
            closer.close("closing the socket reserving TCP " + Ipv4.toString((int) (k >>> 16)) + ":" + (k & 0xFFFF), e.getValue().channel);
        }
        held.clear();
        if (namespaceFd >= 0) {
            final int fd = namespaceFd;
            namespaceFd = -1;
            closer.run("closing the network namespace fd", () -> {
                try (Arena a = Arena.ofConfined()) {
                    Libc.close(Errno.allocate(a), fd);
                }
            });
        }
        closer.throwIfFailed();
    }
}
