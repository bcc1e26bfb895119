package io.bypass.spi;

import io.bypass.Port;
import io.bypass.PortUri;
import io.bypass.UnsupportedByBackendException;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.udp.L2UdpEndpoint;
import io.bypass.udp.UdpEndpoint;

import java.util.List;

/**
 * A backend, found by {@link java.util.ServiceLoader}. Each backend module declares one
 * in its {@code module-info} ({@code provides io.bypass.spi.BackendProvider with ...}).
 *
 * <p>Like netty's {@code Epoll.isAvailable()}: the provider probes once (native
 * library present, kernel support, privileges), caches the cause of any failure and
 * reports it; it never throws from {@link #isAvailable()}.
 */
public interface BackendProvider {
    /**
     * @return the URI scheme this backend answers to, such as {@code afxdp}
     */
    String name();

    /**
     * @return rank for {@code auto:}; higher is preferred (efvi 400, dpdk 300, afxdp 200, nio 100)
     */
    int priority();

    /**
     * @return true if this backend can open ports on this host
     */
    boolean isAvailable();

    /**
     * @return why this backend is unavailable, with the remedy in the message; null if available
     */
    Throwable unavailabilityCause();

    /**
     * For {@code auto:}: whether this backend could serve {@code uri}'s target (an
     * interface name) at all, checked cheaply before trying to open it.
     *
     * @param uri the URI with this backend's scheme
     * @return null if it can try, else the reason it passes
     */
    default String cannotServe(final PortUri uri) {
        return null;
    }

    /**
     * Every URI key this backend accepts, its own and the shared ones it reads (the UDP layer's,
     * the stall budget's, the VLAN). A key shared with other backends is the same declaration
     * object on each, so it means the same everywhere; the README's table of keys is checked
     * against these lists.
     *
     * @return the declarations, in the order the documentation lists them
     */
    default List<UriParam> uriParams() {
        return List.of();
    }

    /**
     * The receive buffering a port or endpoint opened with {@code uri} would set up, from its
     * {@linkplain RxStallBudget stall budget} and any explicit ring size in the URI. Pure
     * arithmetic: touches no device and needs no native library, so a tool can ask any backend
     * on the path, available or not.
     *
     * @param uri a URI with this backend's scheme (the target may name an interface that is not here)
     * @return the buffering, or null if this backend does not say
     * @throws io.bypass.BypassUriException if the URI is malformed for this backend
     */
    default RxBuffering rxBuffering(final PortUri uri) {
        return null;
    }

    /**
     * What a port opened with {@code uri} needs from the process: capabilities and locked memory
     * ({@code bypass doctor --uri} checks them, {@link Privileges} writes the systemd lines). Pure:
     * opens nothing.
     *
     * @param uri the URI, with this backend's scheme
     * @return what the port needs; {@link PrivilegeNeeds#unstated()} unless the backend says
     * @throws io.bypass.BypassUriException if the URI is malformed
     */
    default PrivilegeNeeds privilegeNeeds(final PortUri uri) {
        return PrivilegeNeeds.unstated();
    }

    /**
     * Opens an L2 port. Called only when {@link #isAvailable()}.
     *
     * @param uri the URI, with this backend's scheme
     * @return the open port
     * @throws io.bypass.BypassException with cause and remedy if it cannot
     * @throws io.bypass.UnsupportedByBackendException if this backend has no L2 ports
     */
    Port openPort(PortUri uri);

    /**
     * Opens a UDP endpoint. L2 backends inherit the shared protocol layer over
     * {@link #openPort(PortUri)}; a socket backend implements it directly.
     *
     * @param uri the URI, with this backend's scheme
     * @return the open endpoint
     */
    default UdpEndpoint openUdp(final PortUri uri) {
        final Port port = openPort(uri);
        try {
            return new L2UdpEndpoint(port, uri, true);
        } catch (final RuntimeException e) {
            Closer.closeAfterFailure(e, port);
            throw e;
        }
    }

    /**
     * Opens a TCP endpoint. Only a backend with TCP overrides it: {@code nio:} (the kernel's), and
     * {@code dpdk:}, {@code afxdp:} and {@code efvi:} (Bypass's own, {@link io.bypass.tcp.L2TcpEndpoint} over
     * {@link #openPort(PortUri)}).
     *
     * @param uri the URI, with this backend's scheme
     * @return the open endpoint
     * @throws UnsupportedByBackendException unless the backend has TCP
     */
    default TcpEndpoint openTcp(final PortUri uri) {
        throw new UnsupportedByBackendException(name(), "TCP",
            "Bypass's own TCP runs on dpdk:, afxdp: and efvi: so far; open TCP on one of those or nio: meanwhile");
    }
}
