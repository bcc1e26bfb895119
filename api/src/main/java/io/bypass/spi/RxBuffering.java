package io.bypass.spi;

/**
 * The receive buffering a backend sets up for a URI, said by the backend itself
 * ({@link BackendProvider#rxBuffering(io.bypass.PortUri)}) so that tools such as {@code bypass doctor}
 * need not repeat its sizing rules: how many frames wait while the polling thread stalls, in what,
 * and what it costs the host.
 *
 * @param description             what holds the frames, e.g. {@code "RX and fill rings"} or {@code "SO_RCVBUF"}
 * @param frames                  frames it holds
 * @param note                    a caveat, e.g. {@code "(the PMD may clamp it)"}; empty if none
 * @param lockedBytesPerQueue     memory locked per queue for it ({@code RLIMIT_MEMLOCK}), 0 if none
 * @param socketBufferBytes       the {@code SO_RCVBUF} asked of the kernel, 0 if the buffering is not a socket's
 * @param socketBytesPerFrame     {@code SO_RCVBUF} bytes one queued frame takes, 0 if the buffering is not a socket's
 */
public record RxBuffering(String description, long frames, String note, long lockedBytesPerQueue, long socketBufferBytes,
                          int socketBytesPerFrame) {
    /**
     * Buffering in a ring of frames.
     *
     * @param description what holds the frames
     * @param frames      frames it holds
     * @param note        a caveat, or empty
     * @return the buffering
     */
    public static RxBuffering ring(final String description, final long frames, final String note) {
        return new RxBuffering(description, frames, note, 0, 0, 0);
    }

    /**
     * Buffering in a ring of frames in locked memory.
     *
     * @param description         what holds the frames
     * @param frames              frames it holds
     * @param lockedBytesPerQueue memory locked per queue
     * @return the buffering
     */
    public static RxBuffering lockedRing(final String description, final long frames, final long lockedBytesPerQueue) {
        return new RxBuffering(description, frames, "", lockedBytesPerQueue, 0, 0);
    }

    /**
     * Buffering in a kernel socket's receive buffer.
     *
     * @param socketBufferBytes   the {@code SO_RCVBUF} asked for
     * @param socketBytesPerFrame {@code SO_RCVBUF} bytes one queued frame takes
     * @return the buffering
     */
    public static RxBuffering socketBuffer(final long socketBufferBytes, final int socketBytesPerFrame) {
        return new RxBuffering("SO_RCVBUF", socketBufferBytes / socketBytesPerFrame, "", 0, socketBufferBytes,
            socketBytesPerFrame);
    }

    /**
     * For a socket's buffering: what a receive buffer the kernel granted holds (it may grant less
     * than was asked: {@code net.core.rmem_max}).
     *
     * @param grantedBytes the {@code SO_RCVBUF} granted
     * @return frames it holds
     * @throws IllegalStateException if this buffering is not a socket's
     */
    public long framesIn(final long grantedBytes) {
        if (socketBytesPerFrame == 0) {
            throw new IllegalStateException(description + " is not a socket buffer");
        }
        return grantedBytes / socketBytesPerFrame;
    }

    /**
     * @param budget the stall budget to judge it by
     * @return e.g. {@code "RX and fill rings 16384 frames: 81.9 ms at 200000 pps (budget 50 ms)"}
     */
    public String describe(final RxStallBudget budget) {
        return description + " " + budget.describe((int) Math.min(Integer.MAX_VALUE, frames)) + (note.isEmpty() ? "" : " " + note);
    }
}
