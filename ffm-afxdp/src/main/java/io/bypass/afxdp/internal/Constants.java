package io.bypass.afxdp.internal;

import io.bypass.afxdp.internal.gen.Sys;

/**
 * Kernel ABI constants used by the backend, with the header each comes from. Taken from the
 * jextract bindings ({@link Sys}) except the few the build host's headers lack, which are
 * literal values of the stable Linux UAPI, marked as such.
 */
public final class Constants {
    private Constants() {
    }

    // sys/socket.h, asm-generic/socket.h
    /** Address family of AF_XDP sockets. */
    public static final int AF_XDP = Sys.AF_XDP();
    /** Netlink sockets. */
    public static final int AF_NETLINK = Sys.AF_NETLINK();
    /** IPv4. */
    public static final int AF_INET = Sys.AF_INET();
    /** Raw socket type. */
    public static final int SOCK_RAW = Sys.SOCK_RAW();
    /** Close-on-exec socket flag. */
    public static final int SOCK_CLOEXEC = Sys.SOCK_CLOEXEC();
    /** Socket-level options. */
    public static final int SOL_SOCKET = Sys.SOL_SOCKET();
    /** Busy-poll time in microseconds. */
    public static final int SO_BUSY_POLL = Sys.SO_BUSY_POLL();
    /** Prefer busy polling over softirq processing. */
    public static final int SO_PREFER_BUSY_POLL = Sys.SO_PREFER_BUSY_POLL();
    /** Packets per busy-poll. */
    public static final int SO_BUSY_POLL_BUDGET = Sys.SO_BUSY_POLL_BUDGET();
    /** Non-blocking send/receive. */
    public static final int MSG_DONTWAIT = Sys.MSG_DONTWAIT();

    // linux/if_xdp.h
    /** Level of AF_XDP socket options. */
    public static final int SOL_XDP = Sys.SOL_XDP();
    /** Bind flag: share the UMEM of another socket. */
    public static final short XDP_SHARED_UMEM = (short) Sys.XDP_SHARED_UMEM();
    /** Bind flag: force copy mode. */
    public static final short XDP_COPY = (short) Sys.XDP_COPY();
    /** Bind flag: force zero-copy mode. */
    public static final short XDP_ZEROCOPY = (short) Sys.XDP_ZEROCOPY();
    /** Bind flag: the kernel sets need_wakeup flags on the rings. */
    public static final short XDP_USE_NEED_WAKEUP = (short) Sys.XDP_USE_NEED_WAKEUP();
    /** Ring flag: the kernel needs a syscall to make progress. */
    public static final int XDP_RING_NEED_WAKEUP = Sys.XDP_RING_NEED_WAKEUP();
    /** getsockopt: ring offsets. */
    public static final int XDP_MMAP_OFFSETS = Sys.XDP_MMAP_OFFSETS();
    /** setsockopt: RX ring size. */
    public static final int XDP_RX_RING = Sys.XDP_RX_RING();
    /** setsockopt: TX ring size. */
    public static final int XDP_TX_RING = Sys.XDP_TX_RING();
    /** setsockopt: register the UMEM. */
    public static final int XDP_UMEM_REG = Sys.XDP_UMEM_REG();
    /** setsockopt: fill ring size. */
    public static final int XDP_UMEM_FILL_RING = Sys.XDP_UMEM_FILL_RING();
    /** setsockopt: completion ring size. */
    public static final int XDP_UMEM_COMPLETION_RING = Sys.XDP_UMEM_COMPLETION_RING();
    /** getsockopt: struct xdp_statistics. */
    public static final int XDP_STATISTICS = Sys.XDP_STATISTICS();
    /** getsockopt: struct xdp_options. */
    public static final int XDP_OPTIONS = Sys.XDP_OPTIONS();
    /** setsockopt: frames one copy-mode sendto may send. Linux 6.17 UAPI, newer than the build host's headers. */
    public static final int XDP_MAX_TX_SKB_BUDGET = 9;
    /** xdp_options flag: the socket runs in zero-copy mode. */
    public static final int XDP_OPTIONS_ZEROCOPY = Sys.XDP_OPTIONS_ZEROCOPY();
    /** mmap offset of the RX ring. */
    public static final long XDP_PGOFF_RX_RING = Integer.toUnsignedLong(Sys.XDP_PGOFF_RX_RING());
    /** mmap offset of the TX ring. */
    // jextract types 0x80000000 as int (an unsigned C constant): widen without sign extension.
    public static final long XDP_PGOFF_TX_RING = Integer.toUnsignedLong(Sys.XDP_PGOFF_TX_RING());
    /** mmap offset of the fill ring. */
    public static final long XDP_UMEM_PGOFF_FILL_RING = (long) Sys.XDP_UMEM_PGOFF_FILL_RING();
    /** mmap offset of the completion ring. */
    public static final long XDP_UMEM_PGOFF_COMPLETION_RING = (long) Sys.XDP_UMEM_PGOFF_COMPLETION_RING();

    // linux/if_link.h
    /** XDP attach: generic (skb) mode. */
    public static final int XDP_FLAGS_SKB_MODE = Sys.XDP_FLAGS_SKB_MODE();
    /** XDP attach: native (driver) mode. */
    public static final int XDP_FLAGS_DRV_MODE = Sys.XDP_FLAGS_DRV_MODE();


    // sys/mman.h
    /** Readable pages. */
    public static final int PROT_READ = Sys.PROT_READ();
    /** Writable pages. */
    public static final int PROT_WRITE = Sys.PROT_WRITE();
    /** Shared mapping. */
    public static final int MAP_SHARED = Sys.MAP_SHARED();
    /** Private mapping. */
    public static final int MAP_PRIVATE = Sys.MAP_PRIVATE();
    /** Anonymous memory. */
    public static final int MAP_ANONYMOUS = Sys.MAP_ANONYMOUS();
    /** Prefault the pages. */
    public static final int MAP_POPULATE = Sys.MAP_POPULATE();
    /** Back with huge pages. */
    public static final int MAP_HUGETLB = Sys.MAP_HUGETLB();

    // linux/netlink.h, linux/rtnetlink.h, linux/neighbour.h
    /** Routing netlink family. */
    public static final int NETLINK_ROUTE = Sys.NETLINK_ROUTE();
    /** Netlink: a request. */
    public static final short NLM_F_REQUEST = (short) Sys.NLM_F_REQUEST();
    /** Netlink: ask for an acknowledgement. */
    public static final short NLM_F_ACK = (short) Sys.NLM_F_ACK();
    /** Netlink: replace an existing entry. */
    public static final short NLM_F_REPLACE = (short) Sys.NLM_F_REPLACE();
    /** Netlink: create if missing. */
    public static final short NLM_F_CREATE = (short) Sys.NLM_F_CREATE();
    /** Netlink error/ack message type. */
    public static final short NLMSG_ERROR = (short) Sys.NLMSG_ERROR();
    /** Add a neighbour entry. */
    public static final short RTM_NEWNEIGH = (short) Sys.RTM_NEWNEIGH();
    /** Neighbour attribute: destination address. */
    public static final short NDA_DST = (short) Sys.NDA_DST();
    /** Neighbour flag: "use" the entry, which starts resolution like a sent packet would. */
    public static final byte NTF_USE = (byte) Sys.NTF_USE();
    /** Neighbour state none. */
    public static final short NUD_NONE = (short) Sys.NUD_NONE();
}
