package io.bypass.nio;

import io.bypass.spi.JvmFlags;
import io.bypass.spi.RxStallBudget;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Sizes a receiving socket's {@code SO_RCVBUF} from the {@link RxStallBudget}: the kernel
 * queues what arrives while the polling thread stalls, and drops the rest when the buffer
 * is full. {@code SO_RCVBUF} is capped by {@code net.core.rmem_max} (often 208 KiB, a few
 * milliseconds at a feed's rate); where the cap is lower than the budget asks, the socket
 * gets {@code SO_RCVBUFFORCE} (which needs {@code CAP_NET_ADMIN}, set through FFM since
 * NIO has no option for it), and where that is refused too, the endpoint says so once,
 * naming the sysctl, instead of losing datagrams with no word.
 */
final class ReceiveBuffer {
    /**
     * Kernel memory one queued datagram takes (its skb's truesize), sized for a full-MTU
     * datagram (2 KiB of data buffer and its overhead) so the budget holds whatever the
     * datagram size; small ones take less (about 840 bytes for a 150-byte datagram on veth,
     * measured here), so the socket holds more of them.
     */
    static final int BYTES_PER_DATAGRAM = 2304;
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVBUFFORCE = 33;
    private static final int EPERM = 1;

    private ReceiveBuffer() {
    }

    /**
     * @param budget the stall budget
     * @return the value to ask of {@code SO_RCVBUF} so the socket queues the budget's
     *         datagrams (the kernel doubles what it is asked for, half for its bookkeeping,
     *         and charges each datagram's whole skb against the doubled figure)
     */
    static int requestFor(final RxStallBudget budget) {
        return (int) Math.min(Integer.MAX_VALUE / 4, budget.frames() * BYTES_PER_DATAGRAM / 2);
    }

    /**
     * Makes a bound socket's receive buffer at least {@code bytes}, forcing past
     * {@code net.core.rmem_max} where privileged.
     *
     * @param channel the bound socket, whose {@code SO_RCVBUF} was already asked for
     * @param inode   its socket inode (from {@code /proc/net/udp}), 0 if unknown
     * @param request the {@code SO_RCVBUF} asked for
     * @return null if the socket got it, else why not (for a warning)
     */
    static String ensure(final DatagramChannel channel, final long inode, final int request) {
        // Java reports SO_RCVBUF as it was asked for (half of what the kernel keeps).
        if (current(channel) >= request) {
            return null;
        }
        final String forced = inode == 0 ? "its socket was not found in /proc/net/udp" : force(inode, request);
        final int after = current(channel);
        if (after >= request) {
            return null;
        }
        return "SO_RCVBUF is " + after + " bytes, not the " + request + " asked for (net.core.rmem_max is " + rmemMax()
            + "; SO_RCVBUFFORCE: " + forced + ")";
    }

    private static int current(final DatagramChannel channel) {
        try {
            return channel.getOption(StandardSocketOptions.SO_RCVBUF);
        } catch (final IOException e) {
            return 0;
        }
    }

    /** @return {@code net.core.rmem_max}, or -1 if unreadable */
    static long rmemMax() {
        try {
            // readString would trust procfs's zero file size and return a partial read.
            return Long.parseLong(Files.readAllLines(Path.of("/proc/sys/net/core/rmem_max")).get(0).trim());
        } catch (final IOException | RuntimeException e) {
            return -1;
        }
    }

    private static String force(final long inode, final int bytes) {
        final int fd = fdOf(inode);
        if (fd < 0) {
            return "no file descriptor of socket inode " + inode + " in /proc/self/fd";
        }
        if (!ReceiveBuffer.class.getModule().isNativeAccessEnabled()) {
            // Checked, not tried: the JDK would print its own warning and go on.
            return "native access not enabled; add the JVM flag " + JvmFlags.nativeAccessFlag(ReceiveBuffer.class.getModule());
        }
        final MethodHandle setsockopt;
        try {
            setsockopt = Native.SETSOCKOPT;
        } catch (final LinkageError | IllegalCallerException e) {
            return "native access refused (" + e.getMessage() + "); add the JVM flag "
                + JvmFlags.nativeAccessFlag(ReceiveBuffer.class.getModule());
        }
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment value = arena.allocateFrom(ValueLayout.JAVA_INT, bytes);
            final MemorySegment state = arena.allocate(Native.STATE_LAYOUT);
            final int rc = (int) setsockopt.invokeExact(state, fd, SOL_SOCKET, SO_RCVBUFFORCE, value, 4);
            if (rc == 0) {
                return "set";
            }
            final int errno = (int) Native.ERRNO.get(state, 0L);
            return errno == EPERM ? "refused without CAP_NET_ADMIN" : "failed with errno " + errno;
        } catch (final IllegalCallerException e) {
            return "native access refused (" + e.getMessage() + "); add the JVM flag "
                + JvmFlags.nativeAccessFlag(ReceiveBuffer.class.getModule());
        } catch (final Throwable t) {
            return "failed: " + t;
        }
    }

    private static int fdOf(final long inode) {
        final String want = "socket:[" + inode + "]";
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (final Path p : (Iterable<Path>) fds::iterator) {
                try {
                    if (Files.readSymbolicLink(p).toString().equals(want)) {
                        return Integer.parseInt(p.getFileName().toString());
                    }
                } catch (final IOException | RuntimeException e) {
                    // closed meanwhile
                }
            }
        } catch (final IOException e) {
            return -1;
        }
        return -1;
    }

    /** The libc binding, resolved on first use so a JVM without native access fails only here. */
    private static final class Native {
        static final java.lang.foreign.StructLayout STATE_LAYOUT = Linker.Option.captureStateLayout();
        static final VarHandle ERRNO = STATE_LAYOUT.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
        static final MethodHandle SETSOCKOPT = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("setsockopt").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            Linker.Option.captureCallState("errno"));
    }
}
