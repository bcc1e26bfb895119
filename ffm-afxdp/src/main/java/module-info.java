/**
 * The AF_XDP backend of Bypass ({@code afxdp:} URIs).
 */
module io.bypass.afxdp {
    requires io.bypass;

    exports io.bypass.afxdp;

    provides io.bypass.spi.BackendProvider with io.bypass.afxdp.AfXdpBackendProvider;
}
