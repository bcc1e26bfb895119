package io.bypass.spi;

import io.bypass.BypassUriException;
import io.bypass.PortUri;

/**
 * For backend authors: URI checks that several backends make, written once so the same bad
 * value gets the same message from each ({@link UriParam} reads its keys through them). The
 * keys themselves, and the lists a backend accepts, are declared with {@link UriParam} and
 * joined with {@link UriParams#join}.
 */
public final class UriRules {
    private UriRules() {
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
