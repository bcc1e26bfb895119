package io.bypass.samples.trade;

import io.bypass.samples.codec.SoupBinTcp;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Malformed input a SoupBinTCP side received, counted by reason: never thrown, never silently
 * dropped. The first reasons are {@link SoupBinTcp#wrap}'s results; the rest are the session's.
 */
final class Malformed {
    /** A packet type the other side must not send (a client's type to a client, a server's to a server). */
    static final int WRONG_DIRECTION = SoupBinTcp.RESULT_NAMES.length;
    /** Data or a heartbeat before the login, or a second login. */
    static final int OUT_OF_ORDER = WRONG_DIRECTION + 1;
    /** Unsequenced or Sequenced Data whose payload is not the OUCH message expected. */
    static final int BAD_MESSAGE = OUT_OF_ORDER + 1;
    /** A Login Request or Login Accepted whose numeric field is not a number. */
    static final int BAD_FIELD = BAD_MESSAGE + 1;
    private static final String[] NAMES;

    static {
        final int base = SoupBinTcp.RESULT_NAMES.length;
        NAMES = java.util.Arrays.copyOf(SoupBinTcp.RESULT_NAMES, base + 4);
        NAMES[WRONG_DIRECTION] = "wrong_direction";
        NAMES[OUT_OF_ORDER] = "out_of_order";
        NAMES[BAD_MESSAGE] = "bad_message";
        NAMES[BAD_FIELD] = "bad_field";
    }

    private final long[] counts = new long[NAMES.length];
    private long total;

    /** @param reason a {@link SoupBinTcp#wrap} result other than VALID, or one of this class's reasons */
    void add(final int reason) {
        counts[reason]++;
        total++;
    }

    /** @return every malformed packet counted */
    long total() {
        return total;
    }

    /**
     * @param reason a reason
     * @return its count
     */
    long count(final int reason) {
        return counts[reason];
    }

    /** @return the reasons seen, by name, for a summary */
    Map<String, Object> toMap() {
        final Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] > 0) {
                m.put(NAMES[i], counts[i]);
            }
        }
        return m;
    }
}
