package io.bypass.samples.feed;

import io.bypass.samples.codec.MoldUdp64;
import org.agrona.DirectBuffer;

/**
 * A/B line arbitration for a sequenced feed: the first copy of each sequence number
 * wins, later copies are dropped as duplicates, and a jump ahead opens a gap. The other
 * line usually fills it a moment later (A and B race, and a kernel may reorder them), so
 * a gap is reported, with what is still missing, only once it has stayed open for the
 * gap timeout; messages that arrive late are delivered and counted as {@code recovered}.
 * What is never filled is {@code lost}. Call {@link #checkGaps(long)} from the poll loop
 * and {@link #finish()} at the end.
 *
 * <p>Pure logic, no I/O and no allocation per packet: gaps live in preallocated arrays;
 * gap reports are rare and go to a {@link GapListener}.
 */
public final class Arbitrator {
    /** Receives each new message exactly once, in arrival order. */
    @FunctionalInterface
    public interface MessageHandler {
        /**
         * @param buffer    packet memory, valid during the call
         * @param offset    message payload offset
         * @param length    message payload length
         * @param sequence  its sequence number
         * @param recovered true if it filled a gap (arrived after later messages)
         */
        void onMessage(DirectBuffer buffer, int offset, int length, long sequence, boolean recovered);
    }

    /** Told about each gap when it opens. */
    @FunctionalInterface
    public interface GapListener {
        /**
         * @param from first missing sequence
         * @param to   last missing sequence (inclusive)
         * @param line the line (0 = A, 1 = B) whose packet revealed it
         */
        void onGap(long from, long to, int line);
    }

    /** Most gaps tracked at once; older ones are given up as lost when full. */
    public static final int MAX_OPEN_GAPS = 4096;

    private final MessageHandler handler;
    private final GapListener gapListener;
    private final long[] gapFrom = new long[MAX_OPEN_GAPS];
    private final long[] gapTo = new long[MAX_OPEN_GAPS];
    private final long[] gapOpenedAt = new long[MAX_OPEN_GAPS];
    private final int[] gapLine = new int[MAX_OPEN_GAPS];
    private final boolean[] gapReported = new boolean[MAX_OPEN_GAPS];
    private final long gapTimeoutNanos;
    private long nowNanos;
    private long oldestUnreported = Long.MAX_VALUE;
    private int openGaps;
    private long next;
    private long packets;
    private long duplicates;
    private long duplicateMessages;
    private long messages;
    private long gaps;
    private long recovered;
    private long givenUp;
    private long heartbeats;
    private final long[] packetsPerLine = new long[2];
    private final long[] firstByLine = new long[2];
    private final boolean[] endOfSession = new boolean[2];

    /**
     * An arbitrator that reports gaps at once (no gap timeout).
     *
     * @param firstSequence the sequence number expected first (MoldUDP64 starts at 1);
     *                      0 to take it from the first packet
     * @param handler       receives new messages
     * @param gapListener   told about gaps
     */
    public Arbitrator(final long firstSequence, final MessageHandler handler, final GapListener gapListener) {
        this(firstSequence, 0, handler, gapListener);
    }

    /**
     * @param firstSequence   the sequence number expected first (MoldUDP64 starts at 1);
     *                        0 to take it from the first packet
     * @param gapTimeoutNanos how long a gap may wait for the other line before it is reported
     * @param handler         receives new messages
     * @param gapListener     told about gaps that outlive the timeout
     */
    public Arbitrator(final long firstSequence, final long gapTimeoutNanos, final MessageHandler handler,
                      final GapListener gapListener) {
        this.next = firstSequence;
        this.gapTimeoutNanos = gapTimeoutNanos;
        this.handler = handler;
        this.gapListener = gapListener;
    }

    /**
     * Arbitrates one valid packet received at {@code nowNanos}.
     *
     * @param mold     a valid packet
     * @param line     0 for A, 1 for B
     * @param nowNanos {@link System#nanoTime()}, for the gap timeout
     */
    public void onPacket(final MoldUdp64 mold, final int line, final long nowNanos) {
        this.nowNanos = nowNanos;
        arbitrate(mold, line);
        checkGaps(nowNanos);
    }

    /**
     * Reports gaps that have waited longer than the gap timeout. Cheap when none is open.
     *
     * @param nowNanos {@link System#nanoTime()}
     */
    public void checkGaps(final long nowNanos) {
        if (oldestUnreported == Long.MAX_VALUE || nowNanos - oldestUnreported < gapTimeoutNanos) {
            return;
        }
        long oldest = Long.MAX_VALUE;
        for (int g = 0; g < openGaps; g++) {
            if (gapReported[g]) {
                continue;
            }
            if (nowNanos - gapOpenedAt[g] >= gapTimeoutNanos) {
                report(g);
            } else if (gapOpenedAt[g] < oldest) {
                oldest = gapOpenedAt[g];
            }
        }
        oldestUnreported = oldest;
    }

    /** Reports every gap still open, whatever its age: call once when the feed stops. */
    public void finish() {
        for (int g = 0; g < openGaps; g++) {
            if (!gapReported[g]) {
                report(g);
            }
        }
        oldestUnreported = Long.MAX_VALUE;
    }

    private void report(final int g) {
        gapReported[g] = true;
        gaps++;
        gapListener.onGap(gapFrom[g], gapTo[g], gapLine[g]);
    }

    /**
     * Arbitrates one valid packet, keeping the time of the last {@link #onPacket(MoldUdp64, int, long)}.
     * With no gap timeout, gaps are reported at once.
     *
     * @param mold a packet for which {@link MoldUdp64#wrap} returned {@link MoldUdp64#VALID}
     * @param line 0 for A, 1 for B
     */
    public void onPacket(final MoldUdp64 mold, final int line) {
        arbitrate(mold, line);
        if (gapTimeoutNanos == 0) {
            checkGaps(nowNanos);
        }
    }

    private void arbitrate(final MoldUdp64 mold, final int line) {
        packets++;
        packetsPerLine[line]++;
        final long s = mold.sequence();
        if (next == 0) {
            next = s;
        }
        if (mold.isEndOfSession() || mold.isHeartbeat()) {
            if (mold.isEndOfSession()) {
                endOfSession[line] = true;
            } else {
                heartbeats++;
            }
            // Both carry the next sequence number, so they reveal loss at the tail.
            if (Long.compareUnsigned(s, next) > 0) {
                openGap(next, s - 1, line);
                next = s;
            }
            return;
        }
        final int count = mold.messageCount();
        final long end = s + count;
        // MoldUDP64 sequence numbers are unsigned 64-bit: compare them so, past 2^63 too.
        if (Long.compareUnsigned(end, next) <= 0 && openGaps == 0) {
            duplicates++;
            duplicateMessages += count;
            return;
        }
        if (Long.compareUnsigned(s, next) > 0) {
            openGap(next, s - 1, line);
        }
        boolean anyNew = false;
        final DirectBuffer buffer = mold.buffer();
        long seq = s;
        for (int i = 0, at = mold.firstMessage(); i < count; i++, at = mold.nextMessage(at), seq++) {
            if (Long.compareUnsigned(seq, next) >= 0) {
                messages++;
                anyNew = true;
                handler.onMessage(buffer, mold.payloadOffset(at), mold.payloadLength(at), seq, false);
            } else if (openGaps > 0 && fillGap(seq)) {
                messages++;
                recovered++;
                anyNew = true;
                handler.onMessage(buffer, mold.payloadOffset(at), mold.payloadLength(at), seq, true);
            } else {
                duplicateMessages++;
            }
        }
        if (Long.compareUnsigned(end, next) > 0) {
            next = end;
        }
        if (!anyNew) {
            duplicates++;
        } else {
            firstByLine[line]++;
        }
    }

    private void openGap(final long from, final long to, final int line) {
        if (openGaps == MAX_OPEN_GAPS) {
            // Give up the oldest: it will not be filled now.
            if (!gapReported[0]) {
                report(0);
            }
            givenUp += gapTo[0] - gapFrom[0] + 1;
            removeGap(0);
        }
        gapFrom[openGaps] = from;
        gapTo[openGaps] = to;
        gapOpenedAt[openGaps] = nowNanos;
        gapLine[openGaps] = line;
        gapReported[openGaps] = false;
        openGaps++;
        if (nowNanos < oldestUnreported) {
            oldestUnreported = nowNanos;
        }
    }

    private boolean fillGap(final long seq) {
        for (int g = 0; g < openGaps; g++) {
            final long f = gapFrom[g];
            final long t = gapTo[g];
            if (Long.compareUnsigned(seq, f) < 0 || Long.compareUnsigned(seq, t) > 0) {
                continue;
            }
            if (f == t) {
                removeGap(g);
            } else if (seq == f) {
                gapFrom[g] = f + 1;
            } else if (seq == t) {
                gapTo[g] = t - 1;
            } else if (openGaps < MAX_OPEN_GAPS) {
                // Split [f, t] around seq; both halves keep the gap's age and report state.
                final int n = openGaps - g - 1;
                System.arraycopy(gapFrom, g + 1, gapFrom, g + 2, n);
                System.arraycopy(gapTo, g + 1, gapTo, g + 2, n);
                System.arraycopy(gapOpenedAt, g + 1, gapOpenedAt, g + 2, n);
                System.arraycopy(gapLine, g + 1, gapLine, g + 2, n);
                System.arraycopy(gapReported, g + 1, gapReported, g + 2, n);
                gapTo[g] = seq - 1;
                gapFrom[g + 1] = seq + 1;
                gapTo[g + 1] = t;
                gapOpenedAt[g + 1] = gapOpenedAt[g];
                gapLine[g + 1] = gapLine[g];
                gapReported[g + 1] = gapReported[g];
                openGaps++;
            } else {
                return false;
            }
            return true;
        }
        return false;
    }

    private void removeGap(final int g) {
        final int n = openGaps - g - 1;
        System.arraycopy(gapFrom, g + 1, gapFrom, g, n);
        System.arraycopy(gapTo, g + 1, gapTo, g, n);
        System.arraycopy(gapOpenedAt, g + 1, gapOpenedAt, g, n);
        System.arraycopy(gapLine, g + 1, gapLine, g, n);
        System.arraycopy(gapReported, g + 1, gapReported, g, n);
        openGaps--;
    }

    /** @return the next sequence number expected (0 before the first packet when learning) */
    public long nextSequence() {
        return next;
    }

    /** @return valid packets seen on both lines */
    public long packets() {
        return packets;
    }

    /**
     * @param line 0 for A, 1 for B
     * @return valid packets seen on that line
     */
    public long packets(final int line) {
        return packetsPerLine[line];
    }

    /**
     * @param line 0 for A, 1 for B
     * @return packets on that line that delivered at least one new message (it won)
     */
    public long wins(final int line) {
        return firstByLine[line];
    }

    /** @return packets that carried no new message */
    public long duplicates() {
        return duplicates;
    }

    /** @return messages dropped because another copy came first */
    public long duplicateMessages() {
        return duplicateMessages;
    }

    /** @return new messages delivered */
    public long messages() {
        return messages;
    }

    /** @return gaps reported: open longer than the gap timeout, or still open at {@link #finish()} */
    public long gaps() {
        return gaps;
    }

    /** @return messages that filled a gap late (the other line had them) */
    public long recovered() {
        return recovered;
    }

    /** @return heartbeats seen */
    public long heartbeats() {
        return heartbeats;
    }

    /** @return messages still missing: open gaps plus gaps given up */
    public long lost() {
        long sum = givenUp;
        for (int g = 0; g < openGaps; g++) {
            sum += gapTo[g] - gapFrom[g] + 1;
        }
        return sum;
    }

    /**
     * @param line 0 for A, 1 for B
     * @return true once that line sent end of session
     */
    public boolean endOfSession(final int line) {
        return endOfSession[line];
    }
}
