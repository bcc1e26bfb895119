/**
 * The ef_vi backend of Bypass ({@code efvi:} URIs): Solarflare/AMD NICs through Onload's
 * {@code libciul.so.1}, driven from Java through a small C shim over ef_vi's macro data path.
 */
module io.bypass.efvi {
    requires io.bypass;

    exports io.bypass.efvi;

    provides io.bypass.spi.BackendProvider with io.bypass.efvi.EfviBackendProvider;
}
