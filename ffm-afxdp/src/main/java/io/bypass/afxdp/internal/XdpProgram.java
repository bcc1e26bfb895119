package io.bypass.afxdp.internal;

import io.bypass.BypassException;
import io.bypass.Counter;
import io.bypass.FlowRule;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Our flow-steering XDP program ({@code native/afxdp/bypass_xdp.c}), loaded from the jar
 * with libbpf and attached with a bpf_link, so the kernel detaches it when the link fd
 * is closed, including when the process dies.
 *
 * <p>Besides steering, the program counts malformed frames of our flows that it does not
 * redirect (see "Malformed frames" in {@code bypass_xdp.c}) in a per-CPU array, read by
 * {@link #readMalformed(long[])} off the hot path and added into the same {@link Counter}
 * reasons the Java {@code FrameClassifier} uses for the frames it is given.
 *
 * <p>VLANs: the object holds two programs; a port for untagged frames attaches
 * {@code bypass_xdp}, a port for one VLAN (URI key {@code vlan}) {@code bypass_xdp_vlan}, with
 * its VLAN id written into the program's {@code .bss} before it is attached. Frames of other
 * VLANs are left to the kernel; those addressed to our flows are counted as
 * {@link Counter#DROP_WRONG_VLAN} (see "VLANs" in {@code bypass_xdp.c}).
 *
 * <p>TCP connections and listeners are steered through {@link #updateTcpFlow} (see "TCP" in
 * {@code bypass_xdp.c} and {@link XdpTcpFlows}).
 */
final class XdpProgram implements AutoCloseable {
    static final String RESOURCE = "/META-INF/native/bypass_xdp.o";
    // bypass_port_entry.kind, as in bypass_xdp.c
    private static final int PORT_NONE = 0;
    private static final int PORT_ANY = 1;
    private static final int PORT_ONE = 2;
    private static final int PORT_MANY = 3;
    private static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    // bypass_dest_key.kind, as in bypass_xdp.c
    private static final int DEST_ADDR = 1;
    private static final int DEST_GROUP_MAC = 2;
    /** The counter of each index of bypass_malformed (BYPASS_R_* in bypass_xdp.c), in order. */
    static final Counter[] MALFORMED_REASONS = {
        Counter.DROP_TRUNCATED, Counter.DROP_BAD_IP_HEADER, Counter.DROP_BAD_IP_LENGTH, Counter.DROP_IP_FRAGMENT,
        Counter.DROP_WRONG_VLAN, Counter.DROP_BAD_TCP_HEADER, Counter.DROP_NO_QUEUE_SOCKET,
    };
    /** The program for a port on untagged frames. */
    static final String PROGRAM_UNTAGGED = "bypass_xdp";
    /** The program for a port on one VLAN. */
    static final String PROGRAM_ONE_VLAN = "bypass_xdp_vlan";

    private final Arena arena = Arena.ofShared();
    private final MemorySegment errno = Errno.allocate(arena);
    private MemorySegment object = MemorySegment.NULL;
    private int progFd = -1;
    private int flowsFd = -1;
    private int xsksFd = -1;
    private int portsFd = -1;
    private int linkFd = -1;
    private int malformedFd = -1;
    private int destsFd = -1;
    /** The TCP flows (connections and listeners), in the program's TCP maps; null until loaded. */
    private XdpTcpFlows tcp;
    /** The flows in bypass_flows by port, to derive each port's bypass_ports entry (guarded by this). */
    private final Map<Integer, Set<Integer>> addressesByPort = new HashMap<>();
    /** How many flows use each bypass_dests key ((kind << 32) | value), guarded by this. */
    private final Map<Long, Integer> destRefs = new HashMap<>();
    // For readMalformed: a key and one u64 per possible CPU, allocated once (guarded by this).
    private final int possibleCpus = possibleCpus();
    private final MemorySegment malformedKey = arena.allocate(ValueLayout.JAVA_INT);
    private final MemorySegment malformedValues = arena.allocate(8L * possibleCpus, 8);
    private final long[] malformedRead = new long[MALFORMED_REASONS.length];

    /**
     * Opens and loads the program into the kernel (not attached yet).
     *
     * @param vlan the VLAN id the port takes (1..4094), or 0 for untagged frames
     * @return the loaded program
     */
    static XdpProgram load(final int vlan) {
        final XdpProgram p = new XdpProgram();
        try {
            p.doLoad(vlan);
            return p;
        } catch (final RuntimeException e) {
            p.close();
            throw e;
        }
    }

    private void doLoad(final int vlan) {
        final byte[] elf;
        try (InputStream in = XdpProgram.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new BypassException("afxdp: " + RESOURCE + " is missing from the bypass-afxdp jar; rebuild it with clang installed");
            }
            elf = in.readAllBytes();
        } catch (final IOException e) {
            throw new BypassException("afxdp: cannot read " + RESOURCE + ": " + e, e);
        }
        // libbpf keeps no pointer into the buffer after open_mem returns, but we keep it
        // alive with the program anyway: it costs 12 KiB.
        final MemorySegment buf = arena.allocate(elf.length, 8);
        MemorySegment.copy(elf, 0, buf, ValueLayout.JAVA_BYTE, 0, elf.length);
        LibBpf.drainLog();
        object = LibBpf.objectOpenMem(errno, buf);
        if (object.equals(MemorySegment.NULL)) {
            object = MemorySegment.NULL;
            throw failure("bpf_object__open_mem(bypass_xdp.o)", Errno.get(errno), null);
        }
        final int rc = LibBpf.objectLoad(errno, object);
        if (rc != 0) {
            final int err = rc < 0 ? -rc : Errno.get(errno);
            throw failure("bpf_object__load(bypass_xdp.o)", err, Errno.loadRemedy(err));
        }
        final String name = vlan == 0 ? PROGRAM_UNTAGGED : PROGRAM_ONE_VLAN;
        final MemorySegment prog = LibBpf.findProgram(errno, object, name);
        if (prog.equals(MemorySegment.NULL)) {
            throw new BypassException("afxdp: program " + name + " not found in bypass_xdp.o (corrupt build)");
        }
        progFd = LibBpf.programFd(errno, prog);
        flowsFd = mapFd("bypass_flows");
        xsksFd = mapFd("bypass_xsks");
        portsFd = mapFd("bypass_ports");
        malformedFd = mapFd("bypass_malformed");
        destsFd = mapFd("bypass_dests");
        tcp = new XdpTcpFlows(mapFd("bypass_tcp_ports"), mapFd("bypass_tcp_flows"));
        if (vlan != 0) {
            // volatile __be16 bypass_vlan_id, alone in .bss: written before the program is attached
            putIntKeyed(mapFd(".bss"), ".bss bypass_vlan_id", 0, 8, v -> v.set(BE_SHORT, 0, (short) vlan));
        }
    }

    /**
     * The kernel's possible CPUs, as libbpf_num_possible_cpus counts them: a per-CPU map
     * lookup copies one value for each.
     */
    private static int possibleCpus() {
        final Path file = Path.of("/sys/devices/system/cpu/possible");
        try {
            return countCpus(Files.readString(file).trim());
        } catch (final IOException | RuntimeException e) {
            throw new BypassException("afxdp: cannot read the possible CPUs from " + file + ": " + e
                + "; sysfs must be mounted at /sys", e);
        }
    }

    /**
     * Counts the CPUs in a kernel CPU list such as {@code 0-3,8}.
     *
     * @param list the list
     * @return how many CPUs it names
     */
    static int countCpus(final String list) {
        int n = 0;
        for (final String part : list.split(",")) {
            final int dash = part.indexOf('-');
            n += dash < 0 ? 1 : Integer.parseInt(part.substring(dash + 1)) - Integer.parseInt(part.substring(0, dash)) + 1;
        }
        if (n <= 0) {
            throw new IllegalArgumentException("no CPU in '" + list + "'");
        }
        return n;
    }

    /**
     * Reads the malformed frames the program counted and did not redirect, summed over the
     * CPUs, one total per {@link #MALFORMED_REASONS} entry. A few syscalls: off the hot path.
     *
     * @param totals filled with the totals, at least {@code MALFORMED_REASONS.length} long
     * @return false if the program is closed or a lookup failed (totals then unchanged)
     */
    synchronized boolean readMalformed(final long[] totals) {
        if (malformedFd < 0) {
            return false;
        }
        final long[] read = malformedRead;
        for (int r = 0; r < read.length; r++) {
            malformedKey.set(ValueLayout.JAVA_INT, 0, r);
            if (LibBpf.mapLookupNoErrno(malformedFd, malformedKey, malformedValues) != 0) {
                return false;
            }
            long sum = 0;
            for (int cpu = 0; cpu < possibleCpus; cpu++) {
                sum += malformedValues.getAtIndex(ValueLayout.JAVA_LONG, cpu);
            }
            read[r] = sum;
        }
        System.arraycopy(read, 0, totals, 0, read.length);
        return true;
    }

    private int mapFd(final String name) {
        final MemorySegment map = LibBpf.findMap(errno, object, name);
        if (map.equals(MemorySegment.NULL)) {
            throw new BypassException("afxdp: map " + name + " not found in bypass_xdp.o (corrupt build)");
        }
        final int fd = LibBpf.mapFd(errno, map);
        if (fd < 0) {
            throw new BypassException("afxdp: map " + name + " has no fd after load");
        }
        return fd;
    }

    private static BypassException failure(final String call, final int err, final String remedy) {
        final String log = LibBpf.drainLog();
        final BypassException e = Errno.failure(call, err, remedy);
        return log.isEmpty() ? e : new BypassException(e.getMessage() + " [libbpf: " + log + "]");
    }

    /**
     * Attaches the program to an interface with a bpf_link.
     *
     * @param iface   interface name, for messages
     * @param ifindex interface index
     * @param xdp     {@code drv}, {@code skb} or {@code auto} (the kernel picks native when the driver has it)
     */
    void attach(final String iface, final int ifindex, final String xdp) {
        final int flags = switch (xdp) {
            case "drv" -> Constants.XDP_FLAGS_DRV_MODE;
            case "skb" -> Constants.XDP_FLAGS_SKB_MODE;
            default -> 0;
        };
        final int fd = LibBpf.linkCreateXdp(errno, progFd, ifindex, flags);
        if (fd < 0) {
            final int err = -fd > 0 ? -fd : Errno.get(errno);
            final String attached = LibBpf.attachedProgram(ifindex);
            if ((err == Errno.EBUSY || err == Errno.EEXIST) && attached != null) {
                throw new BypassException("afxdp: another XDP program (" + attached + ") is already attached to " + iface
                    + "; Bypass does not replace it. " + XdpAttachErrors.owner(iface, attached)
                    + ". Two Bypass ports cannot share one interface: use queues=N on a single port.");
            }
            String remedy = null;
            if (err == Errno.EOPNOTSUPP || (err == Errno.EINVAL && "drv".equals(xdp))) {
                remedy = "the driver of " + iface + " may not support native XDP; use xdp=skb (generic mode) or xdp=auto";
            } else if (err == Errno.ERANGE_OR_MTU) {
                remedy = XdpAttachErrors.mtuRemedy(iface);
            }
            // libbpf's lines about a failed attach are its debug output, not the user's error.
            final String log = LibBpf.drainLog();
            if (!log.isEmpty()) {
                System.getLogger("io.bypass.afxdp").log(System.Logger.Level.DEBUG, "afxdp: libbpf on attach to {0}: {1}",
                    iface, log);
            }
            throw Errno.failure("bpf_link_create(BPF_XDP, " + iface + ", xdp=" + xdp + ")", err, remedy);
        }
        linkFd = fd;
    }

    /**
     * Registers an AF_XDP socket for an RX queue in the XSKMAP.
     *
     * @param queueId the RX queue
     * @param xskFd   the socket
     */
    void registerSocket(final int queueId, final int xskFd) {
        putIntKeyed(xsksFd, "bypass_xsks, queue " + queueId, queueId, 4, v -> v.set(ValueLayout.JAVA_INT, 0, xskFd));
    }

    /** bpf_map_update_elem on a map keyed by a u32, the value written by {@code value}. */
    private void putIntKeyed(final int mapFd, final String what, final int key, final int valueSize,
                             final java.util.function.Consumer<MemorySegment> value) {
        try (Arena a = Arena.ofConfined()) {
            final MemorySegment k = a.allocate(ValueLayout.JAVA_INT);
            k.set(ValueLayout.JAVA_INT, 0, key);
            final MemorySegment v = a.allocate(valueSize, 4);
            value.accept(v);
            final MemorySegment e = Errno.allocate(a);
            final int rc = LibBpf.mapUpdate(e, mapFd, k, v, LibBpf.BPF_ANY);
            if (rc != 0) {
                throw failure("bpf_map_update_elem(" + what + ")", rc < 0 ? -rc : Errno.get(e), null);
            }
        }
    }

    /**
     * Adds or removes a steered flow.
     *
     * @param add     true to add, false to remove
     * @param address IPv4 destination (big-endian int) or 0 for any
     * @param port    UDP destination port
     * @param queueId the queue it is for
     * @return false if removing a flow that was not there
     */
    synchronized boolean updateFlow(final boolean add, final int address, final int port, final int queueId) {
        if (add) {
            // the hash entry first: a frame that meets the new port entry must find it
            final boolean added = updateFlowEntry(true, address, port, queueId);
            final Set<Integer> addresses = addressesByPort.computeIfAbsent(port, p -> new HashSet<>());
            if (addresses.add(address)) {
                referenceDestinations(address, 1);
            }
            writePortEntry(port, addresses);
            return added;
        }
        final Set<Integer> addresses = addressesByPort.get(port);
        boolean had = false;
        if (addresses != null) {
            // the port entry first: no frame may be sent to the hash for an entry being removed
            had = addresses.remove(address);
            writePortEntry(port, addresses);
            if (addresses.isEmpty()) {
                addressesByPort.remove(port);
            }
            if (had) {
                referenceDestinations(address, -1);
            }
        }
        return updateFlowEntry(false, address, port, queueId) || had;
    }

    /**
     * Adds or removes a steered TCP connection or listener.
     *
     * @param add     true to add, false to remove
     * @param rule    a TCP rule with its local address and port filled in
     * @param queueId the queue it is for
     * @return false if removing a rule that was not there
     */
    synchronized boolean updateTcpFlow(final boolean add, final FlowRule rule, final int queueId) {
        if (tcp == null) {
            throw new BypassException("afxdp: the XDP program is closed");
        }
        if (add) {
            tcp.add(rule, queueId);
            return true;
        }
        return tcp.remove(rule);
    }

    /**
     * Counts a flow in (delta 1) or out (-1) of the bypass_dests entries of its address: the
     * address, and for a group also its MAC's low 23 bits. A wildcard address has none.
     */
    private void referenceDestinations(final int address, final int delta) {
        if (address == 0) {
            return;
        }
        referenceDestination(DEST_ADDR, address, delta);
        if ((address >>> 28) == 0xE) {
            referenceDestination(DEST_GROUP_MAC, address & 0x7F_FFFF, delta);
        }
    }

    private void referenceDestination(final int kind, final int value, final int delta) {
        final long ref = ((long) kind << 32) | (value & 0xFFFF_FFFFL);
        final int count = destRefs.getOrDefault(ref, 0) + delta;
        try (Arena a = Arena.ofConfined()) {
            // struct bypass_dest_key { __u32 kind; __u32 value; }: an address as on the wire, a MAC's bits in host order
            final MemorySegment key = a.allocate(8, 4);
            key.set(ValueLayout.JAVA_INT, 0, kind);
            if (kind == DEST_ADDR) {
                key.set(BE_INT, 4, value);
            } else {
                key.set(ValueLayout.JAVA_INT, 4, value);
            }
            final MemorySegment e = Errno.allocate(a);
            final int rc;
            if (count > 0) {
                final MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
                v.set(ValueLayout.JAVA_INT, 0, count);
                rc = LibBpf.mapUpdate(e, destsFd, key, v, LibBpf.BPF_ANY);
            } else {
                rc = LibBpf.mapDelete(e, destsFd, key);
            }
            if (rc != 0) {
                final int err = rc < 0 ? -rc : Errno.get(e);
                throw failure((count > 0 ? "bpf_map_update_elem" : "bpf_map_delete_elem") + "(bypass_dests)", err,
                    err == Errno.E2BIG ? "too many flow addresses (the map holds 8192)" : null);
            }
        }
        if (count > 0) {
            destRefs.put(ref, count);
        } else {
            destRefs.remove(ref);
        }
    }

    /** What the program does for frames to {@code port}, from the addresses steered on it (see bypass_xdp.c). */
    private void writePortEntry(final int port, final Set<Integer> addresses) {
        final int kind;
        int single = 0;
        if (addresses.isEmpty()) {
            kind = PORT_NONE;
        } else if (addresses.contains(0)) {
            kind = PORT_ANY;
        } else if (addresses.size() == 1) {
            kind = PORT_ONE;
            single = addresses.iterator().next();
        } else {
            kind = PORT_MANY;
        }
        final int address = single;
        // struct bypass_port_entry { __be32 daddr; __u32 kind; }
        putIntKeyed(portsFd, "bypass_ports, port " + port, port, 8, v -> {
            v.set(BE_INT, 0, address);
            v.set(ValueLayout.JAVA_INT, 4, kind);
        });
    }

    private boolean updateFlowEntry(final boolean add, final int address, final int port, final int queueId) {
        try (Arena a = Arena.ofConfined()) {
            // struct bypass_flow_key { __be32 daddr; __be16 dport; __u16 pad; }: bytes as on the wire.
            final MemorySegment key = a.allocate(8, 4);
            key.set(BE_INT, 0, address);
            key.set(BE_SHORT, 4, (short) port);
            key.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
            final MemorySegment e = Errno.allocate(a);
            final int rc;
            if (add) {
                final MemorySegment value = a.allocate(ValueLayout.JAVA_INT);
                value.set(ValueLayout.JAVA_INT, 0, queueId);
                rc = LibBpf.mapUpdate(e, flowsFd, key, value, LibBpf.BPF_ANY);
            } else {
                rc = LibBpf.mapDelete(e, flowsFd, key);
            }
            if (rc != 0) {
                final int err = rc < 0 ? -rc : Errno.get(e);
                if (!add && err == Errno.ENOENT) {
                    return false;
                }
                throw failure((add ? "bpf_map_update_elem" : "bpf_map_delete_elem") + "(bypass_flows)", err,
                    err == Errno.E2BIG ? "too many flows (the map holds 4096)" : null);
            }
            return true;
        }
    }

    /** Detaches (closes the link) and unloads, which frees the maps. Idempotent. */
    @Override
    public synchronized void close() {
        final MemorySegment e = errno;
        if (linkFd >= 0) {
            Libc.close(e, linkFd);
            linkFd = -1;
        }
        if (!object.equals(MemorySegment.NULL)) {
            // Closes the program and map fds; the kernel frees them once no socket refers to them.
            LibBpf.objectClose(object);
            object = MemorySegment.NULL;
        }
        progFd = -1;
        flowsFd = -1;
        xsksFd = -1;
        portsFd = -1;
        malformedFd = -1;
        destsFd = -1;
        tcp = null;
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
