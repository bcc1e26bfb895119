package io.bypass.samples.mem;

import io.bypass.Port;
import io.bypass.PortUri;
import io.bypass.UnsupportedByBackendException;
import io.bypass.spi.BackendProvider;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.udp.UdpEndpoint;

/**
 * A test-only backend, {@code mem:MODE}, whose endpoint makes its own traffic in memory
 * ({@link MemUdpEndpoint}, and {@link MemTcpEndpoint} for order entry), so the subcommands' real poll and send loops can be measured
 * for allocation without a network or root. Priority 0: {@code auto:} never picks it.
 */
public final class MemBackendProvider implements BackendProvider {
    /** For ServiceLoader. */
    public MemBackendProvider() {
    }

    @Override
    public String name() {
        return "mem";
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public boolean isAvailable() {
        return true;
    }

    @Override
    public Throwable unavailabilityCause() {
        return null;
    }

    @Override
    public String cannotServe(final PortUri uri) {
        return "mem is for tests only";
    }

    @Override
    public Port openPort(final PortUri uri) {
        throw new UnsupportedByBackendException("mem", "open an L2 port", "use openUdp");
    }

    @Override
    public UdpEndpoint openUdp(final PortUri uri) {
        return new MemUdpEndpoint(uri);
    }

    @Override
    public TcpEndpoint openTcp(final PortUri uri) {
        return new MemTcpEndpoint(uri);
    }
}
