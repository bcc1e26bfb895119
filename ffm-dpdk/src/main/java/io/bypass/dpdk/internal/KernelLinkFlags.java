package io.bypass.dpdk.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * The kernel's flags of the interface a socket vdev ({@code net_af_packet}, {@code net_af_xdp})
 * runs on, read with {@code SIOCGIFFLAGS} in the calling thread's network namespace. DPDK's
 * own {@code rte_eth_promiscuous_get} reports only what DPDK set, so a port asks the kernel
 * before turning promiscuous or all-multicast mode on: a mode the interface already had is
 * not the port's to turn off at close.
 */
final class KernelLinkFlags {
    /** IFF_PROMISC. */
    static final int PROMISC = 0x100;
    /** IFF_ALLMULTI. */
    static final int ALLMULTI = 0x200;
    private static final int AF_INET = 2;
    private static final int SOCK_DGRAM = 2;
    private static final int SIOCGIFFLAGS = 0x8913;
    private static final int IFNAMSIZ = 16;

    private KernelLinkFlags() {
    }

    /**
     * @param iface interface name
     * @return its flags, or -1 if they cannot be read (then nothing is assumed)
     */
    static int of(final String iface) {
        if (iface == null || iface.isEmpty() || iface.length() >= IFNAMSIZ) {
            return -1;
        }
        try {
            final int fd = (int) Libc.SOCKET.invokeExact(AF_INET, SOCK_DGRAM, 0);
            if (fd < 0) {
                return -1;
            }
            try (Arena a = Arena.ofConfined()) {
                final MemorySegment ifreq = a.allocate(40, 8);
                ifreq.asSlice(0, IFNAMSIZ).copyFrom(MemorySegment.ofArray(iface.getBytes(StandardCharsets.US_ASCII)));
                final int rc = (int) Libc.IOCTL.invokeExact(fd, (long) SIOCGIFFLAGS, ifreq);
                return rc < 0 ? -1 : ifreq.get(ValueLayout.JAVA_SHORT, IFNAMSIZ) & 0xFFFF;
            } finally {
                final int ignored = (int) Libc.CLOSE.invokeExact(fd);
            }
        } catch (final Throwable t) {
            return -1;
        }
    }
}
