package io.bypass;

/**
 * Per-frame metadata, a flyweight reused for every frame of a poll. Read it inside the
 * callback; the setters are for backends.
 */
public final class FrameMeta {
    /** No timestamp was taken for this frame. */
    public static final long NO_TIMESTAMP = Long.MIN_VALUE;

    private int queueId;
    private long timestampNanos = NO_TIMESTAMP;
    private boolean hardwareTimestamp;

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
     * For backends: fills the flyweight for the next frame.
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
        return this;
    }
}
