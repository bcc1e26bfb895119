package io.bypass.efvi.internal;

import io.bypass.BypassException;
import io.bypass.Counters;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Set;

/**
 * Counts, by reason, the malformed frames for our flows that the NIC gives the kernel rather
 * than the VI: an ef_vi {@code ip4_local} filter matches on the destination address and UDP
 * port, so a frame whose IPv4 header is cut short or unsound, whose UDP port is missing, or
 * that is a fragment (Onload's user guide, UG1586 "IP Fragmentation": fragmented IP traffic is
 * received via the kernel stack) never reaches the VI and the protocol layer cannot count it.
 *
 * <p>One AF_PACKET socket per reason on the interface, each with a classic BPF filter from
 * {@link MalformedTapProgram} that accepts only that reason's frames for our destinations
 * and cuts them to one byte. Nothing is ever read from the sockets: the count is the kernel's
 * {@code PACKET_STATISTICS} (frames the filter accepted, queued or dropped for a full
 * buffer), read and reset by {@link #refresh(Counters)} off the hot path. The sockets are
 * passive taps: the kernel still gets every frame, and discards or reassembles it as it would
 * have. The filter runs in the kernel on frames the NIC did not steer, never on the VI's path.
 *
 * <p>libc is bound here with hand-written descriptors for five calls, as ffm-dpdk's
 * PmdSocketStats does: the jextract bindings of this module cover the shim's header only.
 */
final class MalformedTap implements AutoCloseable {
    private static final int AF_PACKET = 17;
    private static final int SOCK_RAW = 3;
    private static final int ETH_P_IP = 0x0800;
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVBUF = 8;
    private static final int SO_ATTACH_FILTER = 26;
    private static final int SOL_PACKET = 263;
    private static final int PACKET_STATISTICS = 6;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_VALUE = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SOCKET = bind("socket",
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle BIND = bind("bind",
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle SETSOCKOPT = bind("setsockopt", FunctionDescriptor.of(ValueLayout.JAVA_INT,
        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle GETSOCKOPT = bind("getsockopt", FunctionDescriptor.of(ValueLayout.JAVA_INT,
        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    // Without errno capture: the linker slices the capture segment on every call, an allocation C2 removes only when
    // it inlines the whole call; the counters' refresh reads the statistics with this one.
    private static final MethodHandle GETSOCKOPT_NO_ERRNO = LINKER.downcallHandle(LINKER.defaultLookup().find("getsockopt")
        .orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
        ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private final String iface;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment errno = arena.allocate(CAPTURE);
    private final MemorySegment stats = arena.allocate(8, 4);   // struct tpacket_stats { u32 packets, drops }
    private final MemorySegment statsLen = arena.allocate(ValueLayout.JAVA_INT);
    private final int[] fds = new int[MalformedTapProgram.REASONS.length];

    private MalformedTap(final String iface) {
        this.iface = iface;
        java.util.Arrays.fill(fds, -1);
    }

    private static MethodHandle bind(final String name, final FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd, ERRNO);
    }

    /**
     * Opens the sockets on an interface with filters that accept nothing yet.
     *
     * @param iface   the interface name, for messages
     * @param ifindex its index in the calling thread's namespace
     * @return the tap
     */
    static MalformedTap open(final String iface, final int ifindex) {
        final MalformedTap tap = new MalformedTap(iface);
        try {
            tap.openSockets(ifindex);
            return tap;
        } catch (final RuntimeException e) {
            tap.close();
            throw e;
        }
    }

    private void openSockets(final int ifindex) {
        for (int r = 0; r < fds.length; r++) {
            // Protocol 0: the socket receives nothing until bound, so no frame is counted
            // before its filter is in place.
            final int fd = (int) call(SOCKET, "socket(AF_PACKET, SOCK_RAW)", AF_PACKET, SOCK_RAW, 0);
            fds[r] = fd;
            try (Arena a = Arena.ofConfined()) {
                final MemorySegment one = a.allocate(ValueLayout.JAVA_INT);
                one.set(ValueLayout.JAVA_INT, 0, 1);
                // The smallest buffer: frames are counted, never read, so the queue only costs memory.
                call(SETSOCKOPT, "setsockopt(SO_RCVBUF)", fd, SOL_SOCKET, SO_RCVBUF, one, 4);
            }
            attach(fd, MalformedTapProgram.build(MalformedTapProgram.REASONS[r], Set.of(), Set.of()));
            try (Arena a = Arena.ofConfined()) {
                // struct sockaddr_ll { u16 family; be16 protocol; i32 ifindex; u16 hatype; u8 pkttype, halen; u8 addr[8]; }
                final MemorySegment sll = a.allocate(20, 4);
                sll.set(ValueLayout.JAVA_SHORT, 0, (short) AF_PACKET);
                sll.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 2, (short) ETH_P_IP);
                sll.set(ValueLayout.JAVA_INT, 4, ifindex);
                call(BIND, "bind(AF_PACKET, " + iface + ")", fd, sll, 20);
            }
            readAndReset(fd);
        }
    }

    /**
     * Installs filters for the current flows (SO_ATTACH_FILTER replaces the old one atomically).
     *
     * @param addresses every address of our flows, as numbers
     * @param flows     our flows, {@code (address << 16) | port}
     */
    synchronized void update(final Set<Integer> addresses, final Set<Long> flows) {
        for (int r = 0; r < fds.length; r++) {
            if (fds[r] >= 0) {
                attach(fds[r], MalformedTapProgram.build(MalformedTapProgram.REASONS[r], addresses, flows));
            }
        }
    }

    private void attach(final int fd, final int[][] program) {
        if (program.length > MalformedTapProgram.MAX_INSTRUCTIONS) {
            throw new BypassException("efvi: too many flows on " + iface + " for the kernel-side malformed-frame filter ("
                + program.length + " classic BPF instructions, the kernel takes " + MalformedTapProgram.MAX_INSTRUCTIONS + ")");
        }
        try (Arena a = Arena.ofConfined()) {
            // struct sock_filter { u16 code; u8 jt, jf; u32 k; }
            final MemorySegment insns = a.allocate(8L * program.length, 4);
            for (int i = 0; i < program.length; i++) {
                insns.set(ValueLayout.JAVA_SHORT, 8L * i, (short) program[i][0]);
                insns.set(ValueLayout.JAVA_BYTE, 8L * i + 2, (byte) program[i][1]);
                insns.set(ValueLayout.JAVA_BYTE, 8L * i + 3, (byte) program[i][2]);
                insns.set(ValueLayout.JAVA_INT, 8L * i + 4, program[i][3]);
            }
            // struct sock_fprog { u16 len; (pad) struct sock_filter *filter; }
            final MemorySegment prog = a.allocate(16, 8);
            prog.set(ValueLayout.JAVA_SHORT, 0, (short) program.length);
            prog.set(ValueLayout.ADDRESS, 8, insns);
            call(SETSOCKOPT, "setsockopt(SO_ATTACH_FILTER, " + program.length + " instructions)", fd, SOL_SOCKET,
                SO_ATTACH_FILTER, prog, 16);
        }
    }

    /**
     * Adds what the sockets counted since the last call into {@code counters}: one
     * getsockopt per reason, which also resets the kernel's count.
     *
     * @param counters the port's counters
     */
    synchronized void refresh(final Counters counters) {
        for (int r = 0; r < fds.length; r++) {
            if (fds[r] < 0) {
                return;
            }
            final long n = readAndReset(fds[r]);
            if (n > 0) {
                counters.add(MalformedTapProgram.REASONS[r], n);
            }
        }
    }

    /** PACKET_STATISTICS: tp_packets already includes tp_drops, and reading resets both. */
    private long readAndReset(final int fd) {
        statsLen.set(ValueLayout.JAVA_INT, 0, 8);
        // invokeExact without errno, not call(): this runs once a second on the counters' publisher thread, where
        // invokeWithArguments' boxing and arrays, or the errno capture's slice, would show in JMH's gc.alloc.rate.norm.
        final int rc;
        try {
            rc = (int) GETSOCKOPT_NO_ERRNO.invokeExact(fd, SOL_PACKET, PACKET_STATISTICS, stats, statsLen);
        } catch (final Throwable t) {
            throw new BypassException("efvi: getsockopt(PACKET_STATISTICS) on " + iface + ": " + t, t);
        }
        if (rc < 0) {
            throw new BypassException("efvi: getsockopt(PACKET_STATISTICS) on " + iface + " failed");
        }
        return Integer.toUnsignedLong(stats.get(ValueLayout.JAVA_INT, 0));
    }

    private long call(final MethodHandle h, final String what, final Object... args) {
        final Object[] full = new Object[args.length + 1];
        full[0] = errno;
        System.arraycopy(args, 0, full, 1, args.length);
        final int rc;
        try {
            rc = (int) h.invokeWithArguments(full);
        } catch (final Throwable t) {
            throw new BypassException("efvi: " + what + " on " + iface + ": " + t, t);
        }
        if (rc < 0) {
            final int err = (int) ERRNO_VALUE.get(errno, 0L);
            throw new BypassException("efvi: " + what + " on " + iface + " failed: " + Errno.describe(-err)
                + (err == 1 ? "; counting malformed frames the NIC leaves to the kernel needs CAP_NET_RAW" : ""));
        }
        return rc;
    }

    /** Closes the sockets (their filters go with them). Idempotent. */
    @Override
    public synchronized void close() {
        for (int r = 0; r < fds.length; r++) {
            if (fds[r] >= 0) {
                try {
                    CLOSE.invokeWithArguments(errno, fds[r]);
                } catch (final Throwable t) {
                    // nothing more to free
                }
                fds[r] = -1;
            }
        }
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
