package io.bypass.afxdp;

import io.bypass.spi.RxStallBudget;
import io.bypass.spi.UriParam;
import io.bypass.spi.UriParams;
import io.bypass.tcp.TcpUriParams;
import io.bypass.udp.UdpUriParams;

import java.util.List;

/**
 * The URI keys of {@code afxdp:}: its own, declared here, and the shared ones it reads (ring
 * sizes, huge pages, the stall budget, and the UDP layer's keys, VLAN included), which mean the
 * same as on every backend.
 *
 * <p>The NIC queue the port binds is {@code nicQueue}; {@code queue} is the UDP layer's key, the
 * port queue an endpoint uses, as on every backend. ({@code queue} named the NIC queue here once:
 * a {@code queue=N} other than 0 without {@code nicQueue} is refused, naming {@code nicQueue}.)
 */
public final class AfXdpUriParams {
    /** URI key: the first NIC queue the port binds. */
    public static final String NIC_QUEUE_PARAM_NAME = "nicQueue";
    /** URI key: how many NIC queues the port binds. */
    public static final String QUEUES_PARAM_NAME = "queues";
    /** URI key: the AF_XDP bind mode. */
    public static final String MODE_PARAM_NAME = "mode";
    /** URI key: the XDP attach mode. */
    public static final String XDP_PARAM_NAME = "xdp";
    /** URI key: bytes of one UMEM frame. */
    public static final String FRAME_SIZE_PARAM_NAME = "frameSize";
    /** URI key: UMEM frames. */
    public static final String FRAMES_PARAM_NAME = "frames";
    /** URI key: fill ring entries. */
    public static final String FILL_RING_PARAM_NAME = "fillRing";
    /** URI key: completion ring entries. */
    public static final String COMP_RING_PARAM_NAME = "compRing";
    /** URI key: most frames one poll takes. */
    public static final String RX_BATCH_PARAM_NAME = "rxBatch";
    /** URI key: most completions one flush reclaims. */
    public static final String TX_BATCH_PARAM_NAME = "txBatch";
    /** URI key: {@code XDP_USE_NEED_WAKEUP}. */
    public static final String NEED_WAKEUP_PARAM_NAME = "needWakeup";
    /** URI key: busy polling time. */
    public static final String BUSY_POLL_PARAM_NAME = "busyPoll";
    /** URI key: busy polling budget. */
    public static final String BUSY_POLL_BUDGET_PARAM_NAME = "busyPollBudget";

    /** First NIC queue. */
    public static final UriParam NIC_QUEUE = UriParam.integer(NIC_QUEUE_PARAM_NAME, 0, 255, 0,
        "the first NIC queue the port binds: port queue i is NIC queue nicQueue+i");
    /** NIC queues. */
    public static final UriParam QUEUES = UriParam.integer(QUEUES_PARAM_NAME, 1, 64, 1,
        "NIC queues the port binds from nicQueue, sharing one UMEM (nicQueue + queues at most 256)");
    /** Bind mode. */
    public static final UriParam MODE = UriParam.choice(MODE_PARAM_NAME, "auto",
        "AF_XDP bind mode: zero-copy if the driver has it (auto), else copy", "auto", "copy", "zerocopy");
    /** Attach mode. */
    public static final UriParam XDP = UriParam.choice(XDP_PARAM_NAME, "auto",
        "XDP attach mode: native driver, generic (skb), or the kernel's pick", "auto", "drv", "skb");
    /** Frame size. */
    public static final UriParam FRAME_SIZE = UriParam.powerOfTwo(FRAME_SIZE_PARAM_NAME, 2048, 4096, 4096,
        "bytes of one UMEM frame (aligned chunks)").describedAs("2048|4096");
    /** UMEM frames. */
    public static final UriParam FRAMES = UriParam.integer(FRAMES_PARAM_NAME, 2, 1 << 20,
        "queues x (fillRing + min(txRing, compRing))", "UMEM frames, shared by the queues (frames x frameSize below 2 GiB)");
    /** Fill ring. */
    public static final UriParam FILL_RING = UriParam.powerOfTwo(FILL_RING_PARAM_NAME, 32, 1 << 16, "rxRing, at least 2048",
        "fill ring entries per queue");
    /** Completion ring. */
    public static final UriParam COMP_RING = UriParam.powerOfTwo(COMP_RING_PARAM_NAME, 32, 1 << 16, "2048",
        "completion ring entries per queue");
    /** RX batch. */
    public static final UriParam RX_BATCH = UriParam.integer(RX_BATCH_PARAM_NAME, 1, 65536, 64, "most frames one poll takes");
    /** TX batch. */
    public static final UriParam TX_BATCH = UriParam.integer(TX_BATCH_PARAM_NAME, 1, 65536, 64,
        "most completions one flush reclaims");
    /** Need-wakeup flag. */
    public static final UriParam NEED_WAKEUP = UriParam.bool(NEED_WAKEUP_PARAM_NAME, true,
        "XDP_USE_NEED_WAKEUP: the kernel is kicked only when it asks");
    /** Busy polling. */
    public static final UriParam BUSY_POLL = UriParam.integer(BUSY_POLL_PARAM_NAME, 0, 1_000_000, 0,
        "microseconds of SO_BUSY_POLL, with SO_PREFER_BUSY_POLL; 0: off");
    /** Busy polling budget. */
    public static final UriParam BUSY_POLL_BUDGET = UriParam.integer(BUSY_POLL_BUDGET_PARAM_NAME, 0, 65535, 0,
        "SO_BUSY_POLL_BUDGET (needs busyPoll); 0: the kernel's");

    /** Every key {@code afxdp:} accepts ({@code openUdp} and {@code openTcp} hand the same URI to the UDP or TCP layer). */
    public static final List<UriParam> ALL = UriParams.join(List.of(NIC_QUEUE, QUEUES, MODE, XDP, FRAME_SIZE, FRAMES,
        UriParams.RX_RING, UriParams.TX_RING, FILL_RING, COMP_RING, RX_BATCH, TX_BATCH, NEED_WAKEUP, UriParams.HUGEPAGES,
        BUSY_POLL, BUSY_POLL_BUDGET), RxStallBudget.URI_PARAMS, UdpUriParams.L2_ENDPOINT, TcpUriParams.L2_ENDPOINT);

    private AfXdpUriParams() {
    }
}
