package io.bypass.spi;

import io.bypass.BypassUriException;
import io.bypass.PortUri;

import java.util.HashSet;
import java.util.Set;

/**
 * For backend authors: URI checks that several backends make, written once so the same bad
 * value gets the same message from each.
 */
public final class UriRules {
    private UriRules() {
    }

    /**
     * The keys a backend accepts: its own and those of the layers it hands the same URI to
     * (such as {@link io.bypass.udp.L2UdpEndpoint#URI_PARAMETERS} and {@link RxStallBudget#URI_PARAMETERS}),
     * for {@link PortUri#requireOnly(Set)}.
     *
     * @param keySets the sets of keys
     * @return their union, unmodifiable
     */
    @SafeVarargs
    public static Set<String> union(final Set<String>... keySets) {
        final Set<String> all = new HashSet<>();
        for (final Set<String> keys : keySets) {
            all.addAll(keys);
        }
        return Set.copyOf(all);
    }

    /**
     * An integer parameter that must be a power of two within a range, such as a ring size.
     *
     * @param uri          the URI
     * @param key          parameter name
     * @param defaultValue value when absent (a power of two too)
     * @param min          smallest allowed
     * @param max          largest allowed
     * @return the value
     * @throws BypassUriException if not an integer, out of range, or not a power of two
     */
    public static int powerOfTwo(final PortUri uri, final String key, final int defaultValue, final int min, final int max) {
        final int value = uri.getInt(key, defaultValue, min, max);
        if (Integer.bitCount(value) != 1) {
            throw new BypassUriException(uri.text(), "parameter '" + key + "' must be a power of two in " + min + ".." + max
                + ", got " + value);
        }
        return value;
    }
}
