package io.bypass.afxdp.internal;

import io.bypass.BypassUriException;
import io.bypass.PortUri;
import io.bypass.spi.PortVlan;
import io.bypass.spi.RxStallBudget;
import io.bypass.spi.UriRules;

import java.util.Set;

/**
 * The {@code afxdp:} URI parameters, validated. See {@link io.bypass.afxdp.AfXdpBackendProvider}
 * for what each means.
 */
public final class AfXdpOptions {
    /** The huge page size a {@code hugepages=true} UMEM is made of. */
    static final long HUGE_PAGE = 2L << 20;
    private static final int MIN_RING = 32;
    private static final int MAX_RING = 1 << 16;
    /** Every parameter {@code afxdp:} understands. */
    public static final Set<String> KNOWN = known();

    private static Set<String> known() {
        // openUdp passes the same URI to the shared UDP layer, which reads its own keys.
        return UriRules.union(Set.of("queue", "queues", "mode", "xdp", "frameSize", "frames", "rxRing", "txRing", "fillRing",
            "compRing", "rxBatch", "txBatch", "needWakeup", "hugepages", "busyPoll", "busyPollBudget"),
            io.bypass.udp.L2UdpEndpoint.URI_PARAMETERS, RxStallBudget.URI_PARAMETERS);
    }

    final String iface;
    final int queue;
    final int queues;
    final String mode;
    final String xdp;
    final int frameSize;
    final int frames;
    final int rxRing;
    final int txRing;
    final int fillRing;
    final int compRing;
    final int rxBatch;
    final int txBatch;
    final boolean needWakeup;
    final boolean hugepages;
    final int busyPoll;
    final int busyPollBudget;
    final RxStallBudget budget;
    /** The VLAN id the port takes, 0 for untagged frames (URI key vlan, see PortVlan). */
    final int vlan;

    /**
     * @param uri the URI
     * @throws BypassUriException naming the bad parameter
     */
    public AfXdpOptions(final PortUri uri) {
        uri.requireOnly(KNOWN);
        iface = uri.target();
        if (iface.isEmpty() || iface.length() > 15 || iface.contains("/")) {
            throw new BypassUriException(uri.text(), "afxdp: needs an interface name (at most 15 characters), e.g. afxdp:eth1");
        }
        queue = uri.getInt("queue", 0, 0, 255);
        queues = uri.getInt("queues", 1, 1, 64);
        if (queue + queues > 256) {
            throw new BypassUriException(uri.text(), "queue + queues must be at most 256");
        }
        mode = uri.getChoice("mode", "auto", "auto", "copy", "zerocopy");
        xdp = uri.getChoice("xdp", "auto", "auto", "drv", "skb");
        frameSize = UriRules.powerOfTwo(uri, "frameSize", 4096, 2048, 4096); // aligned UMEM chunks
        // RX and fill rings hold what arrives while the polling thread stalls (RxStallBudget).
        budget = RxStallBudget.from(uri);
        vlan = PortVlan.from(uri);
        final int rxDepth = budget.ringSize(2048, 1 << 16);
        rxRing = UriRules.powerOfTwo(uri, "rxRing", rxDepth, MIN_RING, MAX_RING);
        txRing = UriRules.powerOfTwo(uri, "txRing", 2048, MIN_RING, MAX_RING);
        fillRing = UriRules.powerOfTwo(uri, "fillRing", Math.max(rxRing, 2048), MIN_RING, MAX_RING);
        compRing = UriRules.powerOfTwo(uri, "compRing", 2048, MIN_RING, MAX_RING);
        final int defaultFrames = queues * (fillRing + Math.min(txRing, compRing));
        frames = uri.getInt("frames", defaultFrames, 2 * queues, 1 << 20);
        if ((long) frames * frameSize > Integer.MAX_VALUE) {
            throw new BypassUriException(uri.text(), "frames * frameSize must stay below 2 GiB");
        }
        rxBatch = uri.getInt("rxBatch", 64, 1, 65536);
        txBatch = uri.getInt("txBatch", 64, 1, 65536);
        needWakeup = uri.getBoolean("needWakeup", true);
        hugepages = uri.getBoolean("hugepages", false);
        busyPoll = uri.getInt("busyPoll", 0, 0, 1_000_000);
        busyPollBudget = uri.getInt("busyPollBudget", 0, 0, 65535);
        if (busyPollBudget > 0 && busyPoll == 0) {
            throw new BypassUriException(uri.text(), "parameter 'busyPollBudget' needs busyPoll=<microseconds>");
        }
    }

    /**
     * @return the UMEM's length: frames x frameSize, rounded up to whole 2 MiB pages with
     *     {@code hugepages=true}; all of it locked memory (RLIMIT_MEMLOCK unless CAP_IPC_LOCK)
     */
    public long umemBytes() {
        final long size = (long) frames * frameSize;
        return hugepages ? (size + HUGE_PAGE - 1) & -HUGE_PAGE : size;
    }
}
