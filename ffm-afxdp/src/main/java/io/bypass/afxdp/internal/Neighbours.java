package io.bypass.afxdp.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import io.bypass.afxdp.internal.gen.ndmsg;
import io.bypass.afxdp.internal.gen.nlmsghdr;
import io.bypass.afxdp.internal.gen.rtattr;
import io.bypass.afxdp.internal.gen.sockaddr_nl;

/**
 * The kernel's IPv4 neighbour table, through an rtnetlink socket opened in the port's
 * network namespace (so any thread may ask, whatever namespace it is in).
 *
 * <p>Lookup: {@code RTM_GETNEIGH} for one address. When the kernel has no usable entry,
 * {@code RTM_NEWNEIGH} with {@code NTF_USE} makes the kernel resolve it exactly as if it
 * had a packet to send there: it creates the entry and sends the ARP request itself. We
 * chose this over a kernel UDP probe because it sends nothing but ARP and needs no port
 * on the peer.
 */
final class Neighbours implements AutoCloseable {
    private static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final short RTM_GETNEIGH = 30;
    private static final short NDA_LLADDR = 2;
    private static final int NUD_VALID = 0x02 | 0x04 | 0x08 | 0x10 | 0x40 | 0x80; // REACHABLE STALE DELAY PROBE NOARP PERMANENT
    private static final int NLMSG_HDRLEN = (int) nlmsghdr.sizeof();
    private static final int HDR = NLMSG_HDRLEN + (int) ndmsg.sizeof();

    private final Arena arena = Arena.ofShared();
    private final MemorySegment errno = Errno.allocate(arena);
    private final MemorySegment buf = arena.allocate(8192, 8);
    private final MemorySegment addr = sockaddr_nl.allocate(arena);
    private final int fd;
    private final int ifindex;
    private int seq;

    Neighbours(final int ifindex) {
        this.ifindex = ifindex;
        fd = Libc.socket(errno, Constants.AF_NETLINK, Constants.SOCK_RAW | Constants.SOCK_CLOEXEC, Constants.NETLINK_ROUTE);
        if (fd < 0) {
            final int err = Errno.get(errno);
            arena.close();
            throw Errno.failure("socket(AF_NETLINK, NETLINK_ROUTE)", err, null);
        }
        // Destination pid 0: the kernel.
        sockaddr_nl.nl_family(addr, (short) Constants.AF_NETLINK);
    }

    /**
     * @param ipv4 next hop, big-endian int
     * @return the MAC in the low 48 bits, or -1 (and resolution started) if unknown
     */
    synchronized long resolve(final int ipv4) {
        if (!arena.scope().isAlive()) {
            return -1;
        }
        final long mac = lookup(ipv4);
        if (mac >= 0) {
            return mac;
        }
        use(ipv4);
        return -1;
    }

    private int request(final short type, final short flags, final short state, final byte ndmFlags, final int ipv4) {
        buf.fill((byte) 0);
        final int len = HDR + 8;
        nlmsghdr.nlmsg_len(buf, len);
        nlmsghdr.nlmsg_type(buf, type);
        nlmsghdr.nlmsg_flags(buf, flags);
        nlmsghdr.nlmsg_seq(buf, ++seq);
        final MemorySegment ndm = buf.asSlice(NLMSG_HDRLEN, ndmsg.sizeof());
        ndmsg.ndm_family(ndm, (byte) Constants.AF_INET);
        ndmsg.ndm_ifindex(ndm, ifindex);
        ndmsg.ndm_state(ndm, state);
        ndmsg.ndm_flags(ndm, ndmFlags);
        final MemorySegment rta = buf.asSlice(HDR, rtattr.sizeof());
        rtattr.rta_len(rta, (short) 8);
        rtattr.rta_type(rta, Constants.NDA_DST);
        buf.set(BE_INT, HDR + rtattr.sizeof(), ipv4);
        if (Libc.sendto(errno, fd, buf, len, 0, addr, (int) addr.byteSize()) < 0) {
            return -1;
        }
        // rtnetlink answers synchronously inside sendto, so the reply is already queued.
        final long n = Libc.recv(errno, fd, buf, buf.byteSize(), Constants.MSG_DONTWAIT);
        return (int) n;
    }

    private long lookup(final int ipv4) {
        final int n = request(RTM_GETNEIGH, Constants.NLM_F_REQUEST, (short) 0, (byte) 0, ipv4);
        if (n < HDR || nlmsghdr.nlmsg_type(buf) != Constants.RTM_NEWNEIGH) {
            return -1; // NLMSG_ERROR: no entry (ENOENT)
        }
        final int msgLen = Math.min(n, nlmsghdr.nlmsg_len(buf));
        final int state = Short.toUnsignedInt(ndmsg.ndm_state(buf.asSlice(NLMSG_HDRLEN, ndmsg.sizeof())));
        if ((state & NUD_VALID) == 0) {
            return -1;
        }
        int off = HDR;
        while (off + 4 <= msgLen) {
            final int alen = Short.toUnsignedInt(buf.get(ValueLayout.JAVA_SHORT, off));
            final int atype = buf.get(ValueLayout.JAVA_SHORT, off + 2) & 0x7fff;
            if (alen < 4 || off + alen > msgLen) {
                break;
            }
            if (atype == NDA_LLADDR && alen >= 4 + 6) {
                long mac = 0;
                for (int i = 0; i < 6; i++) {
                    mac = (mac << 8) | (buf.get(ValueLayout.JAVA_BYTE, off + 4 + i) & 0xFF);
                }
                return mac;
            }
            off += (alen + 3) & ~3;
        }
        return -1;
    }

    /**
     * The kernel's entry for {@code ipv4}, without starting a resolution.
     *
     * @param ipv4 big-endian address
     * @return the MAC in the low 48 bits, or -1 if there is no valid entry
     */
    synchronized long query(final int ipv4) {
        return arena.scope().isAlive() ? lookup(ipv4) : -1;
    }

    /**
     * Makes the kernel resolve {@code ipv4}: NTF_USE on a (possibly new) entry.
     *
     * @return 0 or the netlink error (negative errno)
     */
    int use(final int ipv4) {
        final int n = request(Constants.RTM_NEWNEIGH,
            (short) (Constants.NLM_F_REQUEST | Constants.NLM_F_ACK | Constants.NLM_F_CREATE | Constants.NLM_F_REPLACE),
            Constants.NUD_NONE, Constants.NTF_USE, ipv4);
        if (n >= NLMSG_HDRLEN + 4 && nlmsghdr.nlmsg_type(buf) == Constants.NLMSG_ERROR) {
            return buf.get(ValueLayout.JAVA_INT, NLMSG_HDRLEN); // struct nlmsgerr.error
        }
        return n < 0 ? -Errno.get(errno) : 0;
    }

    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            Libc.close(errno, fd);
            arena.close();
        }
    }
}
