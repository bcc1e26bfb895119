package io.bypass.afxdp.internal;

import io.bypass.BypassUriException;
import io.bypass.PortUri;
import io.bypass.spi.PortVlan;
import io.bypass.afxdp.AfXdpUriParams;
import io.bypass.spi.RxBuffering;
import io.bypass.spi.RxStallBudget;
import io.bypass.spi.UriParams;
import io.bypass.udp.UdpUriParams;

/**
 * The {@code afxdp:} URI parameters, validated. The keys are declared in
 * {@link AfXdpUriParams}, which says what each means.
 */
public final class AfXdpOptions {
    /** The huge page size a {@code hugepages=true} UMEM is made of. */
    static final long HUGE_PAGE = 2L << 20;

    final String iface;
    /** The first NIC queue the port binds (URI key nicQueue). */
    final int nicQueue;
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
        UriParams.requireOnly(uri, AfXdpUriParams.ALL);
        iface = uri.target();
        if (iface.isEmpty() || iface.length() > 15 || iface.contains("/")) {
            throw new BypassUriException(uri.text(), "afxdp: needs an interface name (at most 15 characters), e.g. afxdp:eth1");
        }
        refuseQueueMeaningNicQueue(uri);
        nicQueue = AfXdpUriParams.NIC_QUEUE.intValue(uri);
        queues = AfXdpUriParams.QUEUES.intValue(uri);
        if (nicQueue + queues > 256) {
            throw new BypassUriException(uri.text(), "nicQueue + queues must be at most 256");
        }
        mode = AfXdpUriParams.MODE.choice(uri);
        xdp = AfXdpUriParams.XDP.choice(uri);
        frameSize = AfXdpUriParams.FRAME_SIZE.intValue(uri);
        // RX and fill rings hold what arrives while the polling thread stalls (RxStallBudget).
        budget = RxStallBudget.from(uri);
        vlan = PortVlan.from(uri);
        final int rxDepth = budget.ringSize(2048, 1 << 16);
        rxRing = UriParams.RX_RING.intValue(uri, rxDepth);
        txRing = UriParams.TX_RING.intValue(uri, 2048);
        fillRing = AfXdpUriParams.FILL_RING.intValue(uri, Math.max(rxRing, 2048));
        compRing = AfXdpUriParams.COMP_RING.intValue(uri, 2048);
        final int defaultFrames = queues * (fillRing + Math.min(txRing, compRing));
        frames = AfXdpUriParams.FRAMES.intValue(uri, defaultFrames, 2 * queues, 1 << 20);
        if ((long) frames * frameSize > Integer.MAX_VALUE) {
            throw new BypassUriException(uri.text(), "frames * frameSize must stay below 2 GiB");
        }
        rxBatch = AfXdpUriParams.RX_BATCH.intValue(uri);
        txBatch = AfXdpUriParams.TX_BATCH.intValue(uri);
        needWakeup = AfXdpUriParams.NEED_WAKEUP.booleanValue(uri);
        hugepages = UriParams.HUGEPAGES.booleanValue(uri, false);
        busyPoll = AfXdpUriParams.BUSY_POLL.intValue(uri);
        busyPollBudget = AfXdpUriParams.BUSY_POLL_BUDGET.intValue(uri);
        if (busyPollBudget > 0 && busyPoll == 0) {
            throw new BypassUriException(uri.text(), "parameter 'busyPollBudget' needs busyPoll=<microseconds>");
        }
    }

    /**
     * {@code queue} named the NIC queue on afxdp and the port queue everywhere else; it is the port
     * queue now. A {@code queue=N} (N &gt; 0) written without {@code nicQueue} is most likely meant the
     * old way, so it is refused naming the new key rather than quietly binding NIC queue 0.
     */
    private static void refuseQueueMeaningNicQueue(final PortUri uri) {
        if (UdpUriParams.QUEUE.isIn(uri) && !AfXdpUriParams.NIC_QUEUE.isIn(uri) && UdpUriParams.QUEUE.intValue(uri) != 0) {
            throw new BypassUriException(uri.text(), "parameter 'queue' is the port queue a UDP endpoint uses "
                + "(0..queues-1), as on every backend; the NIC queue an afxdp port binds, which 'queue' named before, is "
                + "nicQueue: write nicQueue=" + uri.get(UdpUriParams.QUEUE_PARAM_NAME) + " for that NIC queue, or give "
                + "nicQueue (nicQueue=0 for the first) next to queue to pick a port queue");
        }
    }

    /**
     * The receive buffering of a port opened with these options (for {@code bypass doctor}).
     *
     * @return the RX and fill rings, and the UMEM frames locked for one queue
     */
    public RxBuffering rxBuffering() {
        return RxBuffering.lockedRing("RX and fill rings", Math.min(rxRing, rxFramesPerQueue()), umemBytes() / queues);
    }

    /**
     * @return the UMEM's length: frames x frameSize, rounded up to whole 2 MiB pages with
     *     {@code hugepages=true}; all of it locked memory (RLIMIT_MEMLOCK unless CAP_IPC_LOCK)
     */
    public long umemBytes() {
        final long size = (long) frames * frameSize;
        return hugepages ? (size + HUGE_PAGE - 1) & -HUGE_PAGE : size;
    }

    /** @return UMEM frames each queue gets */
    int framesPerQueue() {
        return frames / queues;
    }

    /** @return frames of a queue's UMEM share kept for sending (at most half of it) */
    int txFramesPerQueue() {
        return Math.min(Math.min(txRing, compRing), framesPerQueue() / 2);
    }

    /** @return frames of a queue's UMEM share given to the fill ring: what it can receive into */
    int rxFramesPerQueue() {
        return Math.min(fillRing, framesPerQueue() - txFramesPerQueue());
    }
}
