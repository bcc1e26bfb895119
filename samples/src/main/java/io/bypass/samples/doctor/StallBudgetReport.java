package io.bypass.samples.doctor;

import io.bypass.spi.Privileges;
import io.bypass.spi.RxStallBudget;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The doctor's {@code rx_stall_budget} section: what this host lets each backend buffer while
 * the polling thread stalls. Every backend sizes its receive buffering from the default
 * {@link RxStallBudget} (50 ms at 200 kpps, 10,000 frames; URI keys {@code rxStallMs} and
 * {@code rxStallPps}); the host can cut that short in two places, and this section checks both:
 *
 * <ul>
 *   <li>nio: {@code SO_RCVBUF} is capped at {@code net.core.rmem_max} unless the process has
 *       {@code CAP_NET_ADMIN} to force past it ({@code SO_RCVBUFFORCE});</li>
 *   <li>afxdp: the UMEM behind the RX and fill rings is locked memory, charged against
 *       {@code RLIMIT_MEMLOCK} unless the process has {@code CAP_IPC_LOCK}.</li>
 * </ul>
 *
 * The per-backend depths mirror each backend's sizing rule (see their URI documentation).
 */
final class StallBudgetReport {
    /** Kernel memory one queued full-MTU datagram takes, as the nio backend assumes (its ReceiveBuffer). */
    static final int NIO_BYTES_PER_DATAGRAM = 2304;
    /** AF_XDP UMEM frame size by default. */
    static final int AFXDP_FRAME_SIZE = 4096;
    /** AF_XDP TX (and completion) ring by default: its frames are in the UMEM too. */
    static final int AFXDP_TX_RING = 2048;
    /** Buffers DPDK 22.11's net_af_xdp PMD posts to the kernel, whatever rxDesc says. */
    static final int DPDK_AF_XDP_BUFFERS = 2048;
    /** RX descriptors ef_vi posts on a 4096-entry ring, the NIC's largest. */
    static final int EFVI_RX_BUFFERS = 4095;

    private StallBudgetReport() {
    }

    /**
     * @param p the host
     * @return the section, in the doctor's map-of-values form
     */
    static Map<String, Object> report(final HostProbe p) {
        final RxStallBudget b = RxStallBudget.defaults();
        final Map<String, Object> m = new LinkedHashMap<>();
        final List<String> notes = new ArrayList<>();
        m.put("budget", b + " = " + b.frames() + " frames (URI: rxStallMs, rxStallPps)");
        List<String> caps = List.of();
        String uid = null;
        for (final String line : p.lines("/proc/self/status")) {
            if (line.startsWith("CapEff:")) {
                caps = Privileges.decode(line.substring(7).trim());
            } else if (line.startsWith("Uid:")) {
                uid = line.substring(4).trim().split("\\s+")[0];
            }
        }
        final boolean netAdmin = caps.contains("CAP_NET_ADMIN");
        final boolean ipcLock = caps.contains("CAP_IPC_LOCK");

        // nio: the kernel doubles SO_RCVBUF and charges each datagram's skb against the doubled figure.
        final long rmemMax = parseLong(p.read("/proc/sys/net/core/rmem_max"));
        final long asked = b.frames() * NIO_BYTES_PER_DATAGRAM / 2;
        m.put("rmem_max", rmemMax < 0 ? "unknown" : rmemMax);
        m.put("nio_rcvbuf_asked", asked);
        m.put("can_force_rcvbuf", netAdmin ? "yes (CAP_NET_ADMIN: SO_RCVBUFFORCE)" : "no (no CAP_NET_ADMIN)");
        final long granted = netAdmin || rmemMax < 0 || rmemMax >= asked ? asked : rmemMax;
        final int nioFrames = (int) Math.min(Integer.MAX_VALUE, 2 * granted / NIO_BYTES_PER_DATAGRAM);
        if (granted < asked) {
            notes.add("nio gets SO_RCVBUF " + granted + " of the " + asked + " bytes the budget asks: sysctl -w net.core.rmem_max="
                + asked + ", or run with CAP_NET_ADMIN");
        }

        // afxdp: RX and fill rings from the budget, UMEM = (fill + TX) frames per queue, locked.
        final int afxdpRing = b.ringSize(2048, 1 << 16);
        final long umem = (long) (afxdpRing + AFXDP_TX_RING) * AFXDP_FRAME_SIZE;
        final long memlock = Privileges.memlockLimit(p.lines("/proc/self/limits"));
        m.put("afxdp_umem_per_queue", umem + " bytes (" + umem / (1 << 20) + " MiB, locked)");
        m.put("memlock_soft", memlock == Long.MAX_VALUE ? "unlimited" : memlock < 0 ? "unknown" : memlock + " bytes");
        final String memlockOk;
        if (ipcLock) {
            memlockOk = "yes (CAP_IPC_LOCK: not limited)";
        } else if (memlock == Long.MAX_VALUE || memlock >= umem) {
            memlockOk = "yes";
        } else if (memlock < 0) {
            memlockOk = "unknown";
        } else {
            memlockOk = "NO: " + memlock + " < " + umem + " bytes";
            notes.add("an afxdp port cannot lock its " + umem / (1 << 20) + " MiB UMEM per queue here (RLIMIT_MEMLOCK " + memlock
                + " bytes): ulimit -l unlimited (systemd: LimitMEMLOCK=infinity), CAP_IPC_LOCK, or a smaller rxStallMs;"
                + " 'bypass doctor --uri URI' checks a given URI");
        }
        m.put("afxdp_umem_fits_memlock", memlockOk);
        m.put("uid", uid);

        final Map<String, Object> depth = new LinkedHashMap<>();
        depth.put("afxdp", "RX and fill rings " + b.describe(afxdpRing));
        depth.put("dpdk net_af_packet", "framecnt " + b.describe(b.ringSize(512, 1 << 16)));
        depth.put("dpdk net_af_xdp", "PMD cap " + b.describe(DPDK_AF_XDP_BUFFERS));
        depth.put("dpdk PCI NIC", "rxDesc " + b.describe(b.ringSize(1024, 32768)) + " (the PMD may clamp it)");
        depth.put("efvi", "NIC ring cap " + b.describe(EFVI_RX_BUFFERS));
        depth.put("nio", String.format(Locale.ROOT, "SO_RCVBUF %d bytes, about %s", 2 * granted, b.describe(nioFrames)));
        m.put("default_buffering", depth);
        m.put("notes", notes);
        return m;
    }

    private static long parseLong(final String s) {
        if (s == null) {
            return -1;
        }
        try {
            return Long.parseLong(s.trim());
        } catch (final NumberFormatException e) {
            return -1;
        }
    }
}
