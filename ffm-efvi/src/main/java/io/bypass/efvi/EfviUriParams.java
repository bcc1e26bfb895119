package io.bypass.efvi;

import io.bypass.spi.RxStallBudget;
import io.bypass.spi.UriParam;
import io.bypass.spi.UriParams;
import io.bypass.tcp.TcpUriParams;
import io.bypass.udp.UdpUriParams;

import java.util.List;

/**
 * The URI keys of {@code efvi:}: its own, declared here, and the shared ones it reads (ring sizes,
 * the stall budget, and the UDP and TCP layers' keys, VLAN included), which mean the same as on every
 * backend. The rings take 64..4096 entries here, the largest an EF10/EF100 NIC has.
 */
public final class EfviUriParams {
    /** URI key: packet buffers registered with the NIC. */
    public static final String BUFFERS_PARAM_NAME = "buffers";
    /** The smallest ef_vi ring. */
    public static final int MIN_RING = 64;
    /** The largest ef_vi RX ring an EF10/EF100 NIC takes. */
    public static final int MAX_RING = 4096;

    /** Packet buffers. */
    public static final UriParam BUFFERS = UriParam.integer(BUFFERS_PARAM_NAME, 2, 32768, "enough to fill both rings",
        "2 KiB packet buffers registered with the NIC, split between RX and TX");

    /** Every key {@code efvi:} accepts ({@code openUdp} and {@code openTcp} hand the same URI to the UDP or TCP layer). */
    public static final List<UriParam> ALL = UriParams.join(List.of(UriParams.RX_RING, UriParams.TX_RING, BUFFERS),
        RxStallBudget.URI_PARAMS, UdpUriParams.L2_ENDPOINT, TcpUriParams.L2_ENDPOINT);

    private EfviUriParams() {
    }
}
