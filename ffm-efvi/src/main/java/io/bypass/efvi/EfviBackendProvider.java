package io.bypass.efvi;

import io.bypass.BackendUnavailableException;
import io.bypass.Port;
import io.bypass.PortUri;
import io.bypass.efvi.internal.EfviNative;
import io.bypass.efvi.internal.EfviPortImpl;
import io.bypass.efvi.internal.Errno;
import io.bypass.spi.BackendProvider;
import io.bypass.spi.Closer;
import io.bypass.spi.PrivilegeNeeds;
import io.bypass.spi.RxBuffering;
import io.bypass.spi.UriParam;
import io.bypass.tcp.L2TcpEndpoint;
import io.bypass.tcp.TcpEndpoint;

import java.util.List;

/**
 * The {@code efvi:} backend: Solarflare/AMD NICs through Onload's ef_vi ({@code libciul.so.1}).
 *
 * <pre>{@code
 * try (UdpEndpoint udp = Bypass.openUdp("efvi:ens1f0?rxRing=1024")) {
 *     udp.join(Ipv4.parse("239.1.1.1"), 30001);
 *     while (running) {
 *         udp.poll(handler, 64);
 *     }
 * }
 * }</pre>
 *
 * <p>URI: {@code efvi:IFACE?key=value&...}, the keys declared in {@link EfviUriParams}: {@code rxRing} and
 * {@code txRing}, powers of two (64..4096; RX defaults to the {@linkplain io.bypass.spi.RxStallBudget stall budget},
 * {@code rxStallMs} and {@code rxStallPps}, capped at the NIC's 4096 descriptors, which is 20 ms at 200 kpps;
 * TX 512), {@code buffers} the 2 KiB packet buffers registered with the
 * NIC, split between RX and TX (default: enough to fill both rings). {@code openUdp} also
 * takes the UDP layer's parameters ({@link io.bypass.udp.UdpUriParams}: {@code queue} (0 only), {@code port},
 * {@code unicastTtl}, {@code multicastTtl}, {@code igmp}, {@code checksum} ({@link io.bypass.net.ChecksumPolicy}),
 * and {@code vlan}, 0 only for now), and {@code openTcp} the TCP layer's ({@link io.bypass.tcp.TcpUriParams}: {@code nagle},
 * {@code delayedAck}, {@code sndbuf}, {@code rcvbuf}, {@code keepAliveMs}, {@code timeWaitMs}).
 * One RX and one TX queue (queue 0), sharing the VI's event queue.
 *
 * <p>Available when {@code libciul.so.1} loads and {@code ef_driver_open} works; system
 * property {@code bypass.efvi.libciul} (or environment variable {@code BYPASS_EFVI_LIBCIUL})
 * names another ef_vi library, which is how the tests select Bypass's software stand-in.
 * The kernel keeps the interface's IP address: it answers ARP, resolves next hops
 * ({@link Port#resolveNeighbour}) and sends IGMP for the groups joined, while ef_vi filters
 * steer the bound and joined UDP flows, and each TCP listener's and connection's flow (its local
 * port reserved in the kernel), to the VI. Hardware RX timestamps
 * ({@link io.bypass.Capability#HARDWARE_TIMESTAMPS}) when the NIC and its clock give them.
 *
 * <p>Checksums: ef_vi reports a wrong IPv4 header or TCP/UDP sum (EF10 discards them by
 * default) as an {@code RX_DISCARD} of subtype {@code EF_EVENT_RX_DISCARD_CSUM_BAD}, and never
 * says a sum was right. Such a frame is delivered with a bad
 * {@link io.bypass.FrameMeta#checksumVerdict()} (IPv4 or UDP, told apart by the IPv4 header's
 * sum), which the protocol layer drops on alone under {@code checksum=nic} and sums itself
 * under {@code partial} and {@code verify}; every other frame has no verdict and is summed in
 * software, so the port does not claim {@link io.bypass.Capability#RX_CHECKSUM_VERDICT}.
 */
public final class EfviBackendProvider implements BackendProvider {
    /** Creates the provider; {@link java.util.ServiceLoader} calls this. */
    public EfviBackendProvider() {
    }

    @Override
    public String name() {
        return "efvi";
    }

    @Override
    public int priority() {
        return 400;
    }

    @Override
    public boolean isAvailable() {
        return EfviNative.cause() == null;
    }

    @Override
    public Throwable unavailabilityCause() {
        return EfviNative.cause();
    }

    @Override
    public String cannotServe(final PortUri uri) {
        return EfviPortImpl.cannotServe(uri);
    }

    /** @return {@link EfviUriParams#ALL} */
    @Override
    public List<UriParam> uriParams() {
        return EfviUriParams.ALL;
    }

    /**
     * @param uri an {@code efvi:} URI
     * @return the RX buffers posted (from the stall budget, capped by the NIC's 4096-entry ring, unless the URI sizes it)
     */
    @Override
    public RxBuffering rxBuffering(final PortUri uri) {
        return EfviPortImpl.rxBuffering(uri);
    }

    /**
     * @param uri an {@code efvi:} URI
     * @return CAP_NET_RAW and pinned buffers, from Onload's documentation (not measured without a Solarflare NIC)
     */
    @Override
    public PrivilegeNeeds privilegeNeeds(final PortUri uri) {
        return Errno.NEEDS;
    }

    @Override
    public Port openPort(final PortUri uri) {
        final Throwable cause = EfviNative.cause();
        if (cause != null) {
            throw new BackendUnavailableException("efvi: backend unavailable: " + cause.getMessage(), cause);
        }
        return EfviPortImpl.open(uri);
    }

    /**
     * Opens Bypass's own TCP ({@link L2TcpEndpoint}) over an {@code efvi:} port. The kernel keeps the
     * interface's address, so each listener and connection steers its own flow with an ef_vi TCP filter
     * and reserves its local port in the kernel ({@link Port#addFlow}); the kernel chooses the ephemeral ports.
     *
     * @param uri an {@code efvi:} URI; the interface needs an IPv4 address
     * @return the endpoint, which closes the port with it
     */
    @Override
    public TcpEndpoint openTcp(final PortUri uri) {
        final Port port = openPort(uri);
        try {
            return new L2TcpEndpoint(port, uri, true);
        } catch (final RuntimeException e) {
            Closer.closeAfterFailure(e, port);
            throw e;
        }
    }
}
