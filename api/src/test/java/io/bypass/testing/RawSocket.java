package io.bypass.testing;

import io.bypass.testkit.NetnsExecutor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * An {@code AF_PACKET}/{@code SOCK_RAW} socket bound to one interface, for injecting
 * arbitrary (including malformed) Ethernet frames and capturing what a backend sent.
 * Open it inside a namespace with {@link NetnsExecutor}; once open it may be used
 * from any thread (not concurrently).
 *
 * <pre>{@code
 * try (RawSocket raw = topology.executorB().call(() -> RawSocket.open(topology.ifaceB()))) {
 *     raw.send(Frames.udp(...).build());
 *     byte[] reply = raw.receive(1000);   // null on timeout
 * }
 * }</pre>
 */
public final class RawSocket implements AutoCloseable {
    private static final int MAX_FRAME = 65536;
    private static final int SOCKADDR_LL_SIZE = 20;

    private final Arena arena = Arena.ofShared();
    private final String iface;
    private final int ifindex;
    private final MemorySegment errno = Libc.errnoSlot(arena);
    private final MemorySegment buffer = arena.allocate(MAX_FRAME, 64);
    private final MemorySegment from = arena.allocate(SOCKADDR_LL_SIZE, 8);
    private final MemorySegment fromLen = arena.allocate(ValueLayout.JAVA_INT);
    private final MemorySegment pollFd = arena.allocate(8, 4);
    private int fd;

    private RawSocket(final String iface) throws Throwable {
        this.iface = iface;
        try {
            ifindex = Libc.ifNameToIndex(errno, arena.allocateFrom(iface));
            if (ifindex == 0) {
                throw Libc.failure("if_nametoindex(" + iface + ")", errno, "no such interface in this thread's namespace");
            }
            // Protocol 0 receives nothing until bind, so no frame from another interface slips in.
            fd = Libc.socket(errno, Libc.AF_PACKET, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw Libc.failure("socket(AF_PACKET, SOCK_RAW)", errno, "needs CAP_NET_RAW (run as root)");
            }
            final MemorySegment sll = arena.allocate(SOCKADDR_LL_SIZE, 8);
            sll.set(ValueLayout.JAVA_SHORT, 0, (short) Libc.AF_PACKET);
            sll.set(ValueLayout.JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN), 2, (short) Libc.ETH_P_ALL);
            sll.set(ValueLayout.JAVA_INT, 4, ifindex);
            if (Libc.bind(errno, fd, sll, SOCKADDR_LL_SIZE) != 0) {
                throw Libc.failure("bind(AF_PACKET, " + iface + ")", errno, null);
            }
        } catch (final Throwable t) {
            close();
            throw t;
        }
    }

    /**
     * Opens a raw socket on {@code iface} in the calling thread's network namespace.
     *
     * @param iface interface name
     * @return the socket
     * @throws IllegalStateException naming the failed call and errno
     */
    public static RawSocket open(final String iface) {
        try {
            return new RawSocket(iface);
        } catch (final RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** @return the interface this socket is bound to */
    public String iface() {
        return iface;
    }

    /** @return the interface index */
    public int ifindex() {
        return ifindex;
    }

    /**
     * Sends one frame exactly as given (Ethernet header included, no FCS).
     *
     * @param frame the frame bytes
     */
    public void send(final byte[] frame) {
        send(frame, 0, frame.length);
    }

    /**
     * Sends part of an array as one frame.
     *
     * @param frame  bytes
     * @param offset where the frame starts
     * @param length frame length
     */
    public synchronized void send(final byte[] frame, final int offset, final int length) {
        checkOpen();
        if (length > MAX_FRAME) {
            throw new IllegalArgumentException("frame of " + length + " bytes exceeds " + MAX_FRAME);
        }
        MemorySegment.copy(frame, offset, buffer, ValueLayout.JAVA_BYTE, 0, length);
        try {
            final long n = Libc.send(errno, fd, buffer, length, 0);
            if (n != length) {
                throw n < 0 ? Libc.failure("send(AF_PACKET, " + iface + ", " + length + " bytes)", errno, null)
                    : new IllegalStateException("send on " + iface + " wrote " + n + " of " + length + " bytes");
            }
        } catch (final RuntimeException e) {
            throw e;
        } catch (final Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Receives the next frame that arrived on the interface (frames this host sent out
     * of it are skipped).
     *
     * @param timeoutMillis how long to wait
     * @return the frame, or null if none came in time
     */
    public byte[] receive(final long timeoutMillis) {
        return receive(timeoutMillis, f -> true);
    }

    /**
     * Receives the next incoming frame that matches, discarding others.
     *
     * @param timeoutMillis how long to wait in all
     * @param filter        which frames count
     * @return the frame, or null if none matched in time
     */
    public synchronized byte[] receive(final long timeoutMillis, final Predicate<byte[]> filter) {
        checkOpen();
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        try {
            while (true) {
                final long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return null;
                }
                pollFd.set(ValueLayout.JAVA_INT, 0, fd);
                pollFd.set(ValueLayout.JAVA_SHORT, 4, (short) Libc.POLLIN);
                pollFd.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
                final int ready = Libc.poll(errno, pollFd, 1, (int) Math.min(left, 1000));
                if (ready < 0) {
                    if (Libc.errno(errno) == Libc.EINTR) {
                        continue;
                    }
                    throw Libc.failure("poll(AF_PACKET " + iface + ")", errno, null);
                }
                if (ready == 0) {
                    continue;
                }
                fromLen.set(ValueLayout.JAVA_INT, 0, SOCKADDR_LL_SIZE);
                final long n = Libc.recvfrom(errno, fd, buffer, MAX_FRAME, Libc.MSG_DONTWAIT, from, fromLen);
                if (n < 0) {
                    final int e = Libc.errno(errno);
                    if (e == Libc.EAGAIN || e == Libc.EINTR) {
                        continue;
                    }
                    throw Libc.failure("recvfrom(AF_PACKET " + iface + ")", errno, null);
                }
                final int pktType = from.get(ValueLayout.JAVA_BYTE, 10) & 0xFF;
                if (pktType == Libc.PACKET_OUTGOING) {
                    continue;
                }
                final byte[] frame = buffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
                if (filter.test(frame)) {
                    return frame;
                }
            }
        } catch (final RuntimeException e) {
            throw e;
        } catch (final Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private void checkOpen() {
        if (fd < 0) {
            throw new IllegalStateException("raw socket on " + iface + " is closed");
        }
    }

    /** Closes the socket and frees its memory. Idempotent. */
    @Override
    public synchronized void close() {
        if (fd > 0) {
            try {
                Libc.close(errno, fd);
            } catch (final Throwable ignored) {
                // close(2) on our own fd cannot fail in a way we can act on
            }
        }
        fd = -1;
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
