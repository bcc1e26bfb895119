package io.bypass;

/**
 * Per-frame metadata, a flyweight reused for every frame of a poll. Read it inside the
 * callback; the setters are for backends.
 */
public final class FrameMeta {
    /** No timestamp was taken for this frame. */
    public static final long NO_TIMESTAMP = Long.MIN_VALUE;
    /** The NIC gave no checksum verdict for the frame (or the backend has none to give). */
    public static final int CHECKSUM_UNKNOWN = 0;
    /** The NIC checked the IPv4 header checksum and found it right. */
    public static final int IP_CHECKSUM_GOOD = 1;
    /** The NIC checked the IPv4 header checksum and found it wrong. */
    public static final int IP_CHECKSUM_BAD = 2;
    /** The NIC checked the UDP (or TCP) checksum and found it right. */
    public static final int L4_CHECKSUM_GOOD = 4;
    /** The NIC checked the UDP (or TCP) checksum and found it wrong. */
    public static final int L4_CHECKSUM_BAD = 8;

    private int queueId;
    private long timestampNanos = NO_TIMESTAMP;
    private boolean hardwareTimestamp;
    private int checksumVerdict;

    /** Creates an empty flyweight. */
    public FrameMeta() {
    }

    /**
     * @return the RX queue the frame arrived on
     */
    public int queueId() {
        return queueId;
    }

    /**
     * @return nanoseconds since the epoch when the frame arrived, or {@link #NO_TIMESTAMP}
     */
    public long timestampNanos() {
        return timestampNanos;
    }

    /**
     * @return true if {@link #timestampNanos()} was taken by the NIC
     */
    public boolean isHardwareTimestamp() {
        return hardwareTimestamp;
    }

    /**
     * The NIC's checksum verdict, a combination of {@link #IP_CHECKSUM_GOOD},
     * {@link #IP_CHECKSUM_BAD}, {@link #L4_CHECKSUM_GOOD} and {@link #L4_CHECKSUM_BAD}, or
     * {@link #CHECKSUM_UNKNOWN} where the NIC checked nothing or said nothing. The protocol
     * layer skips its own sum where the NIC has given a verdict (URI key {@code checksum=nic},
     * the default). A backend may give only bad verdicts (efvi: ef_vi reports wrong sums, never
     * right ones) and then does not claim {@link io.bypass.Capability#RX_CHECKSUM_VERDICT}.
     *
     * @return the verdict bits
     */
    public int checksumVerdict() {
        return checksumVerdict;
    }

    /**
     * For backends: sets the NIC's checksum verdict of the frame just {@link #set}.
     *
     * @param verdict the verdict bits, see {@link #checksumVerdict()}
     * @return this
     */
    public FrameMeta checksumVerdict(final int verdict) {
        this.checksumVerdict = verdict;
        return this;
    }

    /**
     * For backends: fills the flyweight for the next frame; the checksum verdict is reset
     * to {@link #CHECKSUM_UNKNOWN}.
     *
     * @param queueId           RX queue id
     * @param timestampNanos    epoch nanoseconds or {@link #NO_TIMESTAMP}
     * @param hardwareTimestamp whether the NIC took the timestamp
     * @return this
     */
    public FrameMeta set(final int queueId, final long timestampNanos, final boolean hardwareTimestamp) {
        this.queueId = queueId;
        this.timestampNanos = timestampNanos;
        this.hardwareTimestamp = hardwareTimestamp;
        this.checksumVerdict = CHECKSUM_UNKNOWN;
        return this;
    }
}
