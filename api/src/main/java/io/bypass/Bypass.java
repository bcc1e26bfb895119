package io.bypass;

import io.bypass.spi.BackendProvider;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.udp.UdpEndpoint;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/**
 * The entry point: opens ports, UDP endpoints and TCP endpoints from a URI, choosing the backend by
 * the URI's scheme. Changing the URI, not the code, moves an application from NIO on a
 * laptop to AF_XDP on a virtio VM, DPDK on an SR-IOV VF or ef_vi on a Solarflare NIC.
 *
 * <pre>{@code
 * try (UdpEndpoint md = Bypass.openUdp("auto:eth1")) {    // or "afxdp:eth1?queue=0", "nio:eth1"
 *     md.join(Ipv4.parse("239.1.1.1"), 30001);
 *     ...
 * }
 * }</pre>
 *
 * <p>{@code auto:IFACE} tries the available backends from the highest priority down and
 * records why it passed over each one in {@link Selection#reasons()}; an explicit scheme
 * whose backend is unavailable fails with its cause and never falls back.
 *
 * <p>JVM flags, checked at open ({@link io.bypass.spi.JvmFlags}): every backend needs
 * {@code --add-exports java.base/jdk.internal.misc=ALL-UNNAMED} for Agrona 2 on the class path
 * ({@code =org.agrona} on the module path); {@code afxdp}, {@code dpdk} and {@code efvi} also need
 * {@code --enable-native-access=ALL-UNNAMED} ({@code =io.bypass.afxdp} and so on on the module path).
 */
public final class Bypass {
    private static final System.Logger LOG = System.getLogger("io.bypass");
    private static volatile List<BackendProvider> providers;

    private Bypass() {
    }

    /**
     * Opens an L2 port.
     *
     * @param uri such as {@code afxdp:eth1?nicQueue=0}
     * @return the open port
     * @throws BypassUriException          if the URI is malformed
     * @throws BackendUnavailableException if the backend cannot run here, with cause and remedy
     * @throws UnsupportedByBackendException if the backend has no L2 ports (nio)
     */
    public static Port open(final String uri) {
        return select(PortUri.parse(uri), true, BackendProvider::openPort).opened();
    }

    /**
     * Opens a UDP endpoint on any backend.
     *
     * @param uri such as {@code nio:lo}, {@code afxdp:veth0} or {@code auto:eth1}
     * @return the open endpoint
     * @throws BypassUriException          if the URI is malformed
     * @throws BackendUnavailableException if the backend cannot run here
     */
    public static UdpEndpoint openUdp(final String uri) {
        return openUdpSelecting(uri).opened();
    }

    /**
     * Opens a UDP endpoint and tells which backend was chosen and why the others were not.
     *
     * @param uri as for {@link #openUdp(String)}
     * @return the endpoint with the reasons
     */
    public static Selection<UdpEndpoint> openUdpSelecting(final String uri) {
        return select(PortUri.parse(uri), false, BackendProvider::openUdp);
    }

    /**
     * Opens a TCP endpoint: connections and listeners on the URI's interface.
     *
     * <pre>{@code
     * try (TcpEndpoint tcp = Bypass.openTcp("nio:eth1?keepAliveMs=5000")) {
     *     TcpConnection exchange = tcp.connect(Ipv4.parse("10.0.0.2"), 9000);
     *     ...
     * }
     * }</pre>
     *
     * @param uri such as {@code nio:eth1} or {@code auto:eth1} (today only nio has TCP)
     * @return the open endpoint
     * @throws BypassUriException            if the URI is malformed or a key or value is refused (naming the key)
     * @throws BackendUnavailableException   if the backend cannot run here
     * @throws UnsupportedByBackendException if the backend has no TCP yet (the L2 backends)
     */
    public static TcpEndpoint openTcp(final String uri) {
        return openTcpSelecting(uri).opened();
    }

    /**
     * Opens a TCP endpoint and tells which backend was chosen and why the others were not.
     *
     * @param uri as for {@link #openTcp(String)}
     * @return the endpoint with the reasons
     */
    public static Selection<TcpEndpoint> openTcpSelecting(final String uri) {
        return select(PortUri.parse(uri), false, BackendProvider::openTcp);
    }

    /**
     * Opens an L2 port and tells which backend was chosen and why the others were not.
     *
     * @param uri as for {@link #open(String)}
     * @return the port with the reasons
     */
    public static Selection<Port> openSelecting(final String uri) {
        return select(PortUri.parse(uri), true, BackendProvider::openPort);
    }

    /**
     * @return every backend on the module or class path, highest priority first
     */
    public static List<BackendProvider> backends() {
        List<BackendProvider> list = providers;
        if (list == null) {
            final List<BackendProvider> found = new ArrayList<>();
            ServiceLoader.load(BackendProvider.class, Bypass.class.getClassLoader()).forEach(found::add);
            found.sort(Comparator.comparingInt(BackendProvider::priority).reversed());
            list = List.copyOf(found);
            providers = list;
        }
        return list;
    }

    /**
     * @param name a backend name such as {@code afxdp}
     * @return the backend, or null if it is not on the path
     */
    public static BackendProvider backend(final String name) {
        for (final BackendProvider p : backends()) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }

    /**
     * A readable table of every backend, available or not and why, for doctors and logs.
     *
     * @return one line per backend
     */
    public static String describeBackends() {
        final StringBuilder sb = new StringBuilder();
        for (final BackendProvider p : backends()) {
            sb.append(String.format("%-6s priority %3d  ", p.name(), p.priority()));
            if (p.isAvailable()) {
                sb.append("available\n");
            } else {
                sb.append("unavailable: ").append(p.unavailabilityCause().getMessage()).append('\n');
            }
        }
        return sb.toString();
    }

    private static <T> Selection<T> select(final PortUri uri, final boolean needL2, final Function2<T> opener) {
        return select(uri, needL2, opener, backends());
    }

    // Package-private so tests can run the selection over providers of their own.
    static <T> Selection<T> select(final PortUri uri, final boolean needL2, final Function2<T> opener,
                                   final List<BackendProvider> candidates) {
        if (!"auto".equals(uri.scheme())) {
            BackendProvider p = null;
            for (final BackendProvider c : candidates) {
                if (c.name().equals(uri.scheme())) {
                    p = c;
                    break;
                }
            }
            if (p == null) {
                throw new BypassUriException(uri.text(), noSuchBackend(uri.scheme(), candidates));
            }
            if (!p.isAvailable()) {
                final Throwable cause = p.unavailabilityCause();
                throw new BackendUnavailableException("backend '" + p.name() + "' is unavailable on this host: "
                    + (cause == null ? "unknown cause" : cause.getMessage()), cause);
            }
            return new Selection<>(published(opener.open(p, uri), p.name(), uri), p.name(), List.of());
        }
        final List<String> reasons = new ArrayList<>();
        final List<Throwable> failures = new ArrayList<>();
        for (final BackendProvider p : candidates) {
            if (!p.isAvailable()) {
                reasons.add(p.name() + ": unavailable: " + p.unavailabilityCause().getMessage());
                continue;
            }
            final PortUri concrete = uri.withScheme(p.name());
            final String cannot = p.cannotServe(concrete);
            if (cannot != null) {
                reasons.add(p.name() + ": " + cannot);
                continue;
            }
            try {
                final T opened = published(opener.open(p, concrete), p.name(), concrete);
                // DEBUG, not INFO: the JDK's default System.Logger prints INFO to stderr on every open.
                LOG.log(System.Logger.Level.DEBUG, () -> "auto chose " + p.name() + (reasons.isEmpty() ? "" : "; passed over " + reasons));
                return new Selection<>(opened, p.name(), List.copyOf(reasons));
            } catch (final UnsupportedByBackendException e) {
                reasons.add(p.name() + ": " + e.getMessage());
            } catch (final BypassException e) {
                reasons.add(p.name() + ": open failed: " + e.getMessage());
                failures.add(e);
            }
        }
        if (candidates.isEmpty()) {
            throw new BypassException("auto: no backend on the " + path() + " to open '" + uri.target() + "': add one as a runtime "
                + "dependency (io.bypass:bypass-nio runs anywhere; bypass-afxdp, bypass-dpdk, bypass-efvi bypass the kernel)");
        }
        final BypassException e = new BypassException("auto: no backend could open '" + uri.target() + "'"
            + (needL2 ? " as an L2 port" : "") + ": " + String.join("; ", reasons));
        failures.forEach(e::addSuppressed);
        throw e;
    }

    /**
     * Publishes what was opened in this process's counters file, for {@code bypass stat}
     * ({@link io.bypass.stat.CountersPublisher}); its record is marked closed once it is.
     */
    private static <T> T published(final T opened, final String backend, final PortUri uri) {
        if (opened instanceof Port p) {
            io.bypass.stat.CountersPublisher.publish("port", backend, uri, p.counters(), p::isClosed);
        } else if (opened instanceof io.bypass.udp.UdpEndpoint u) {
            io.bypass.stat.CountersPublisher.publish("udp", backend, uri, u.counters(), u::isClosed);
        } else if (opened instanceof io.bypass.tcp.TcpEndpoint t) {
            io.bypass.stat.CountersPublisher.publish("tcp", backend, uri, t.counters(), t::isClosed);
        }
        return opened;
    }

    /** The schemes Bypass ships a backend for, to tell a misspelling from a missing dependency. */
    private static final List<String> KNOWN_BACKENDS = List.of("efvi", "dpdk", "afxdp", "nio");

    // Package-private for tests.
    static String noSuchBackend(final String scheme, final List<BackendProvider> candidates) {
        final List<String> found = new ArrayList<>();
        candidates.forEach(b -> found.add(b.name()));
        final String onPath = "backends on the " + path() + ": " + (found.isEmpty() ? "none" : String.join(", ", found));
        if (KNOWN_BACKENDS.contains(scheme)) {
            return "backend '" + scheme + "' is not on the " + path() + "; add the io.bypass:bypass-" + scheme
                + " dependency (" + onPath + ")";
        }
        String closest = null;
        int best = Integer.MAX_VALUE;
        final List<String> schemes = new ArrayList<>(found);
        KNOWN_BACKENDS.forEach(k -> {
            if (!schemes.contains(k)) {
                schemes.add(k);
            }
        });
        schemes.add("auto");
        for (final String s : schemes) {
            final int d = editDistance(scheme, s);
            if (d < best) {
                best = d;
                closest = s;
            }
        }
        if (closest != null && best <= Math.max(1, closest.length() / 2)) {
            return "no backend named '" + scheme + "'; did you mean '" + closest + ":'?"
                + (found.contains(closest) || "auto".equals(closest) ? "" : " (add the io.bypass:bypass-" + closest + " dependency)")
                + " (" + onPath + ")";
        }
        return "no backend named '" + scheme + "' (schemes: auto, " + String.join(", ", KNOWN_BACKENDS) + "; " + onPath + ")";
    }

    /** @return where ServiceLoader looked: "module path" when the API runs as a named module */
    private static String path() {
        return Bypass.class.getModule().isNamed() ? "module path" : "class path";
    }

    /** Optimal string alignment distance: a swap of two neighbours ("afxpd") counts one edit. */
    private static int editDistance(final String a, final String b) {
        final int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                final int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    @FunctionalInterface
    interface Function2<T> {
        T open(BackendProvider provider, PortUri uri);
    }

    /**
     * What {@code open} chose.
     *
     * @param opened  the open port or endpoint
     * @param backend the backend that opened it
     * @param reasons for {@code auto:}, why each higher-priority backend was passed over
     * @param <T>     port or endpoint
     */
    public record Selection<T>(T opened, String backend, List<String> reasons) {
    }

}
