/**
 * Bypass: one zero-copy networking API for trading applications over ef_vi, DPDK,
 * AF_XDP and plain NIO. Start at {@link io.bypass.Bypass}.
 */
module io.bypass {
    requires transitive org.agrona;

    exports io.bypass;
    exports io.bypass.udp;
    exports io.bypass.tcp;
    exports io.bypass.net;
    exports io.bypass.spi;
    exports io.bypass.stat;

    uses io.bypass.spi.BackendProvider;
}
