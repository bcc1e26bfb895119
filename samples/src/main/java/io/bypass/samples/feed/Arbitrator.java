package io.bypass.samples.feed;

import io.bypass.samples.codec.MoldUdp64;
import org.agrona.DirectBuffer;

/**
 * A/B line arbitration for a sequenced feed: the first copy of each sequence number
 * wins, later copies are dropped as duplicates, and a jump ahead opens a gap, reported
 * once with its range. A gap stays open until the other line fills it (counted as
 * {@code recovered}) or the run ends (counted as {@code lost}).
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
     * @param firstSequence the sequence number expected first (MoldUDP64 starts at 1);
     *                      0 to take it from the first packet
     * @param handler       receives new messages
     * @param gapListener   told about gaps
     */
    public Arbitrator(final long firstSequence, final MessageHandler handler, final GapListener gapListener) {
        this.next = firstSequence;
        this.handler = handler;
        this.gapListener = gapListener;
    }

    /**
     * Arbitrates one valid packet.
     *
     * @param mold a packet for which {@link MoldUdp64#wrap} returned {@link MoldUdp64#VALID}
     * @param line 0 for A, 1 for B
     */
    public void onPacket(final MoldUdp64 mold, final int line) {
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
            if (s > next) {
                openGap(next, s - 1, line);
                next = s;
            }
            return;
        }
        final int count = mold.messageCount();
        final long end = s + count;
        if (end <= next && openGaps == 0) {
            duplicates++;
            duplicateMessages += count;
            return;
        }
        if (s > next) {
            openGap(next, s - 1, line);
        }
        boolean anyNew = false;
        final DirectBuffer buffer = mold.buffer();
        long seq = s;
        for (int i = 0, at = mold.firstMessage(); i < count; i++, at = mold.nextMessage(at), seq++) {
            if (seq >= next) {
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
        if (end > next) {
            next = end;
        }
        if (!anyNew) {
            duplicates++;
        } else {
            firstByLine[line]++;
        }
    }

    private void openGap(final long from, final long to, final int line) {
        gaps++;
        if (openGaps == MAX_OPEN_GAPS) {
            // Give up the oldest: it will not be filled now.
            givenUp += gapTo[0] - gapFrom[0] + 1;
            System.arraycopy(gapFrom, 1, gapFrom, 0, MAX_OPEN_GAPS - 1);
            System.arraycopy(gapTo, 1, gapTo, 0, MAX_OPEN_GAPS - 1);
            openGaps--;
        }
        gapFrom[openGaps] = from;
        gapTo[openGaps] = to;
        openGaps++;
        gapListener.onGap(from, to, line);
    }

    private boolean fillGap(final long seq) {
        for (int g = 0; g < openGaps; g++) {
            final long f = gapFrom[g];
            final long t = gapTo[g];
            if (seq < f || seq > t) {
                continue;
            }
            if (f == t) {
                removeGap(g);
            } else if (seq == f) {
                gapFrom[g] = f + 1;
            } else if (seq == t) {
                gapTo[g] = t - 1;
            } else if (openGaps < MAX_OPEN_GAPS) {
                // Split [f, t] around seq.
                System.arraycopy(gapFrom, g + 1, gapFrom, g + 2, openGaps - g - 1);
                System.arraycopy(gapTo, g + 1, gapTo, g + 2, openGaps - g - 1);
                gapTo[g] = seq - 1;
                gapFrom[g + 1] = seq + 1;
                gapTo[g + 1] = t;
                openGaps++;
            } else {
                return false;
            }
            return true;
        }
        return false;
    }

    private void removeGap(final int g) {
        System.arraycopy(gapFrom, g + 1, gapFrom, g, openGaps - g - 1);
        System.arraycopy(gapTo, g + 1, gapTo, g, openGaps - g - 1);
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

    /** @return gaps opened */
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
