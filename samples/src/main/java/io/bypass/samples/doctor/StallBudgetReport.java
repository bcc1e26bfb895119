package io.bypass.samples.doctor;

import io.bypass.Bypass;
import io.bypass.PortUri;
import io.bypass.spi.BackendProvider;
import io.bypass.spi.Privileges;
import io.bypass.spi.RxBuffering;
import io.bypass.spi.RxStallBudget;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

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
 * Each backend on the path says what it buffers by default ({@link BackendProvider#rxBuffering}),
 * so its sizing rules live in the backend only; a backend not on the path is left out.
 */
final class StallBudgetReport {
    /** The default URI whose buffering each line shows, by label (dpdk's differs by device kind). */
    private static final Map<String, String> DEFAULT_URIS = defaultUris();

    private StallBudgetReport() {
    }

    private static Map<String, String> defaultUris() {
        final Map<String, String> m = new LinkedHashMap<>();
        m.put("afxdp", "afxdp:eth0");
        m.put("dpdk net_af_packet", "dpdk:net_af_packet0,iface=eth0");
        m.put("dpdk net_af_xdp", "dpdk:net_af_xdp0,iface=eth0");
        m.put("dpdk PCI NIC", "dpdk:0000:00:00.0");
        m.put("efvi", "efvi:eth0");
        m.put("nio", "nio:");
        return m;
    }

    /**
     * @param p the host
     * @return the section, in the doctor's map-of-values form
     */
    static Map<String, Object> report(final HostProbe p) {
        return report(p, uri -> {
            final BackendProvider backend = Bypass.backend(uri.scheme());
            return backend == null ? null : backend.rxBuffering(uri);
        });
    }

    /**
     * @param p         the host
     * @param buffering what the backend of a URI buffers by default, null where it is not on the path
     * @return the section, in the doctor's map-of-values form
     */
    static Map<String, Object> report(final HostProbe p, final Function<PortUri, RxBuffering> buffering) {
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
        final Map<String, RxBuffering> byKind = new LinkedHashMap<>();
        for (final Map.Entry<String, String> e : DEFAULT_URIS.entrySet()) {
            final RxBuffering r = buffering.apply(PortUri.parse(e.getValue()));
            if (r != null) {
                byKind.put(e.getKey(), r);
            }
        }
        final Map<String, Object> depth = new LinkedHashMap<>();
        for (final Map.Entry<String, RxBuffering> e : byKind.entrySet()) {
            depth.put(e.getKey(), e.getValue().describe(b));
        }

        final RxBuffering nio = byKind.get("nio");
        final long rmemMax = parseLong(p.read("/proc/sys/net/core/rmem_max"));
        m.put("rmem_max", rmemMax < 0 ? "unknown" : rmemMax);
        if (nio != null) {
            final long asked = nio.socketBufferBytes();
            m.put("nio_rcvbuf_asked", asked);
            m.put("can_force_rcvbuf", netAdmin ? "yes (CAP_NET_ADMIN: SO_RCVBUFFORCE)" : "no (no CAP_NET_ADMIN)");
            final long granted = netAdmin || rmemMax < 0 || rmemMax >= asked ? asked : rmemMax;
            if (granted < asked) {
                notes.add("nio gets SO_RCVBUF " + granted + " of the " + asked + " bytes the budget asks: sysctl -w net.core.rmem_max="
                    + asked + ", or run with CAP_NET_ADMIN");
            }
            // The kernel keeps twice the SO_RCVBUF asked for.
            depth.put("nio", String.format(Locale.ROOT, "SO_RCVBUF %d bytes, about %s", 2 * granted,
                b.describe((int) Math.min(Integer.MAX_VALUE, nio.framesIn(granted)))));
        }

        final RxBuffering afxdp = byKind.get("afxdp");
        final long memlock = Privileges.memlockLimit(p.lines("/proc/self/limits"));
        final long umem = afxdp == null ? 0 : afxdp.lockedBytesPerQueue();
        if (afxdp != null) {
            m.put("afxdp_umem_per_queue", umem + " bytes (" + umem / (1 << 20) + " MiB, locked)");
        }
        m.put("memlock_soft", memlock == Long.MAX_VALUE ? "unlimited" : memlock < 0 ? "unknown" : memlock + " bytes");
        if (afxdp != null) {
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
        }
        m.put("uid", uid);
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
