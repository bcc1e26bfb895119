package io.bypass.tcp;

/**
 * What a connection's sender knows for repairing loss. First, what the peer's SACK blocks (RFC 2018)
 * say it holds past SND.UNA: up to {@value #MAX_RANGES}
 * disjoint ranges of stream offsets, kept sorted and merged. The sender reads the holes between them
 * to retransmit several lost segments in one round trip (in the spirit of RFC 6675) instead of one
 * per round trip as NewReno does, and skips what the peer holds when it goes back after a timeout.
 *
 * <p>When the ranges are full, a new range above the highest is dropped and one below replaces the
 * highest: the holes nearest SND.UNA are the ones to repair first. Nothing is allocated after
 * construction. Also here: how far this recovery has resent (RFC 6675 HighRxt), the mark that shows a
 * resend lost, and what a spurious timeout would restore (RFC 3708).
 */
final class TcpLossRecovery {
    /** Ranges held: more than the 3 or 4 blocks one ACK carries, as ACKs name different ranges. */
    static final int MAX_RANGES = 8;

    private final long[] starts = new long[MAX_RANGES];
    private final long[] ends = new long[MAX_RANGES];
    private int count;
    /** Offset past the highest byte retransmitted in this recovery (RFC 6675 HighRxt): holes below it are in flight. */
    long highRxt;
    /** SND.MAX when the first unacknowledged segment was last resent: a SACK above it shows that resend lost. */
    long rtxMark;
    /** The segment a first retransmission timeout resent, whose D-SACK undoes the timeout; -1: none. */
    long undoOffset = -1;
    int undoLength;
    long undoCwnd;
    long undoSsthresh;

    /** Forgets every range (a timeout with nothing learned since, or the connection reused). */
    void clear() {
        count = 0;
    }

    /** @return the number of ranges held */
    int ranges() {
        return count;
    }

    /** @return bytes the ranges cover */
    long sackedBytes() {
        long sum = 0;
        for (int i = 0; i < count; i++) {
            sum += ends[i] - starts[i];
        }
        return sum;
    }

    /** @return the end of the highest range held, or -1 with none */
    long highest() {
        return count == 0 ? -1 : ends[count - 1];
    }

    /**
     * Records that the peer holds [{@code start}, {@code end}).
     *
     * @param start first stream offset, above SND.UNA
     * @param end   offset just past the range
     */
    void add(final long start, final long end) {
        if (end <= start) {
            return;
        }
        int i = 0;
        while (i < count && ends[i] < start) {
            i++;
        }
        // ranges i..j-1 touch or overlap the new one: merge them into slot i
        int j = i;
        long s = start;
        long e = end;
        while (j < count && starts[j] <= e) {
            s = Math.min(s, starts[j]);
            e = Math.max(e, ends[j]);
            j++;
        }
        if (j > i) {
            starts[i] = s;
            ends[i] = e;
            shiftLeft(i + 1, j - i - 1);
            return;
        }
        if (count == MAX_RANGES) {
            if (i == count) {
                return;
            }
            count--; // the highest gives way to one nearer SND.UNA
        }
        System.arraycopy(starts, i, starts, i + 1, count - i);
        System.arraycopy(ends, i, ends, i + 1, count - i);
        starts[i] = s;
        ends[i] = e;
        count++;
    }

    private void shiftLeft(final int from, final int by) {
        if (by > 0) {
            System.arraycopy(starts, from + by, starts, from, count - from - by);
            System.arraycopy(ends, from + by, ends, from, count - from - by);
            count -= by;
        }
    }

    /** Drops what a cumulative ACK up to {@code una} covers. */
    void acknowledge(final long una) {
        int gone = 0;
        while (gone < count && ends[gone] <= una) {
            gone++;
        }
        shiftLeft(0, gone);
        if (count > 0 && starts[0] < una) {
            starts[0] = una;
        }
    }

    /** @return true if the peer holds the byte at {@code offset} */
    boolean holds(final long offset) {
        return endOfRangeAt(offset) >= 0;
    }

    /** @return the end of the range holding {@code offset}, or -1 if none does */
    long endOfRangeAt(final long offset) {
        for (int i = 0; i < count; i++) {
            if (offset < starts[i]) {
                return -1;
            }
            if (offset < ends[i]) {
                return ends[i];
            }
        }
        return -1;
    }

    /**
     * @param from the first offset to look at
     * @return the first offset at or after {@code from} the peer does not hold and that lies below a
     *     range it does (so is presumed lost), or -1 if there is none
     */
    long nextHole(final long from) {
        long at = from;
        for (int i = 0; i < count; i++) {
            if (at < starts[i]) {
                return at;
            }
            at = Math.max(at, ends[i]);
        }
        return -1;
    }

    /** @return where the hole starting at {@code hole} ends: the start of the next range held */
    long holeEnd(final long hole) {
        for (int i = 0; i < count; i++) {
            if (hole < starts[i]) {
                return starts[i];
            }
        }
        return hole;
    }
}
