package io.bypass.spi;

import io.bypass.PortUri;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The URI keys that more than one backend reads and that no single layer owns (ring sizes, huge
 * pages), the keys that were renamed, and the helpers a backend checks a URI with. The other keys
 * are declared where they are read: {@link io.bypass.udp.UdpUriParams} (the UDP layer),
 * {@link PortVlan}, {@link RxStallBudget}, and each backend's own holder; a backend lists all it
 * accepts in {@link BackendProvider#uriParams()}.
 */
public final class UriParams {
    /** URI key: RX ring entries per queue. */
    public static final String RX_RING_PARAM_NAME = "rxRing";
    /** URI key: TX ring entries per queue. */
    public static final String TX_RING_PARAM_NAME = "txRing";
    /** URI key: whether the packet buffers are in huge pages. */
    public static final String HUGEPAGES_PARAM_NAME = "hugepages";

    /** RX ring entries; afxdp and efvi. A NIC with a smaller largest ring (efvi: 64..4096) refuses more. */
    public static final UriParam RX_RING = UriParam.powerOfTwo(RX_RING_PARAM_NAME, 32, 1 << 16,
        "from the stall budget (afxdp 16384; efvi 4096, its NIC's largest)",
        "RX ring entries per queue (afxdp: also sizes the fill ring); an explicit value wins over the stall budget");
    /** TX ring entries; afxdp and efvi. */
    public static final UriParam TX_RING = UriParam.powerOfTwo(TX_RING_PARAM_NAME, 32, 1 << 16, "afxdp 2048, efvi 512",
        "TX ring entries per queue (efvi: 64..4096)");
    /** Packet buffers in huge pages; afxdp (its UMEM) and dpdk (the EAL's memory, once per process). */
    public static final UriParam HUGEPAGES = UriParam.bool(HUGEPAGES_PARAM_NAME,
        "afxdp false; dpdk true if hugepages are reserved and mounted",
        "packet buffers in huge pages: afxdp backs its UMEM with them; dpdk's EAL requires them (true) or runs --no-huge (false)");

    /** URI key: {@code SO_RCVBUF} of the backend's kernel sockets. */
    public static final String RCVBUF_PARAM_NAME = "rcvbuf";
    /** URI key: {@code SO_SNDBUF} of the backend's kernel sockets. */
    public static final String SNDBUF_PARAM_NAME = "sndbuf";

    /**
     * Socket receive buffer; read by nio's UDP endpoint and by TCP ({@link io.bypass.tcp.TcpUriParams}). The UDP
     * default (the stall budget at nio's 2304 bytes a datagram) is checked against nio's code by its tests.
     */
    public static final UriParam RCVBUF = UriParam.integer(RCVBUF_PARAM_NAME, 1, Integer.MAX_VALUE / 2,
        "UDP: from the stall budget at 2304 bytes a datagram (11520000); TCP: the kernel's, autotuned",
        "SO_RCVBUF bytes: of every UDP receiving socket (forced past net.core.rmem_max with CAP_NET_ADMIN, else one "
            + "warning) and of every TCP connection (which turns the kernel's autotuning off; set before the SYN, so "
            + "it also sets the window scale); Bypass's own TCP (dpdk, afxdp, efvi): each connection's receive ring, so its largest window "
            + "(default 1048576, rounded up to a power of two)");
    /** Socket send buffer; read by nio's UDP endpoint and by TCP. */
    public static final UriParam SNDBUF = UriParam.integer(SNDBUF_PARAM_NAME, 0, Integer.MAX_VALUE, "0: the kernel's",
        "SO_SNDBUF bytes of every UDP socket and TCP connection (TCP: how much the kernel holds unacknowledged, below "
            + "the connection's own send queue); Bypass's own TCP (dpdk, afxdp, efvi): each connection's send ring, unacknowledged bytes included "
            + "(0: 1048576; rounded up to a power of two)");

    private static final List<UriParam> RETIRED_LIST = List.of(
        UriParam.retired("ttl", "'ttl' was the unicast TTL on afxdp, dpdk and efvi but the multicast TTL on nio; "
            + "write unicastTtl (unicast, default 64) or multicastTtl (multicast, default 1), which mean the same on every backend"),
        UriParam.retired("mcast_ttl", "'mcast_ttl' is now multicastTtl (keys are lowerCamelCase)"));
    private static final Map<String, UriParam> RETIRED = byName(RETIRED_LIST);

    private UriParams() {
    }

    private static Map<String, UriParam> byName(final List<UriParam> params) {
        final Map<String, UriParam> m = new LinkedHashMap<>();
        for (final UriParam p : params) {
            m.put(p.name(), p);
        }
        return Map.copyOf(m);
    }

    /** @return the keys no longer accepted, each with the message that names its replacement */
    public static List<UriParam> retired() {
        return RETIRED_LIST;
    }

    /**
     * @param key a URI key
     * @return what replaced it, if it is a retired key; else null
     */
    public static String replacementOf(final String key) {
        final UriParam p = RETIRED.get(key);
        return p == null ? null : p.meaning();
    }

    /**
     * @param params declarations
     * @return their keys
     */
    public static Set<String> names(final Collection<UriParam> params) {
        final List<String> names = new ArrayList<>(params.size());
        for (final UriParam p : params) {
            names.add(p.name());
        }
        return Set.copyOf(names);
    }

    /**
     * Joins lists of declarations, each key once; lists may share declarations (the UDP layer's, the stall budget's).
     *
     * @param lists the lists, in order
     * @return one list, in first-seen order
     * @throws IllegalArgumentException if two different declarations have the same key
     */
    @SafeVarargs
    public static List<UriParam> join(final List<UriParam>... lists) {
        final Map<String, UriParam> all = new LinkedHashMap<>();
        for (final List<UriParam> list : lists) {
            for (final UriParam p : list) {
                final UriParam before = all.putIfAbsent(p.name(), p);
                if (before != null && before != p) {
                    throw new IllegalArgumentException("URI key '" + p.name() + "' declared twice");
                }
            }
        }
        return List.copyOf(all.values());
    }

    /**
     * Refuses any key of {@code uri} not declared in {@code known}; a retired key is refused
     * naming its replacement.
     *
     * @param uri   the port URI
     * @param known the keys the backend accepts
     * @throws io.bypass.BypassUriException naming the first key not accepted
     */
    public static void requireOnly(final PortUri uri, final Collection<UriParam> known) {
        uri.requireOnly(names(known));
    }
}
