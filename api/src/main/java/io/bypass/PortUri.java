package io.bypass;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A parsed port URI: {@code scheme:target?key=value&key=value}.
 *
 * <ul>
 *   <li>{@code afxdp:IFACE?nicQueue=N&mode=copy|zerocopy|auto&xdp=drv|skb}</li>
 *   <li>{@code dpdk:DEVARGS?...} where DEVARGS may contain commas and colons,
 *       e.g. {@code dpdk:net_af_xdp0,iface=veth0?ip=10.0.0.1/24}</li>
 *   <li>{@code efvi:IFACE?...}</li>
 *   <li>{@code nio:[IFACE]} (empty target: any interface)</li>
 *   <li>{@code auto:IFACE}: the best available backend</li>
 * </ul>
 *
 * Values may be percent-encoded. Typed getters raise {@link BypassUriException} naming
 * the bad parameter; backends call {@link #requireOnly(Set)} so a misspelt key is an
 * error, not silently ignored. The keys themselves are declared as {@link io.bypass.spi.UriParam}s.
 */
public final class PortUri {
    private final String text;
    private final String scheme;
    private final String target;
    private final Map<String, String> params;

    private PortUri(final String text, final String scheme, final String target, final Map<String, String> params) {
        this.text = text;
        this.scheme = scheme;
        this.target = target;
        this.params = Collections.unmodifiableMap(params);
    }

    /**
     * Parses a URI.
     *
     * @param text the URI
     * @return the parsed URI
     * @throws BypassUriException naming the bad part
     */
    public static PortUri parse(final String text) {
        if (text == null || text.isBlank()) {
            throw new BypassUriException(String.valueOf(text), "empty; expected scheme:target, e.g. afxdp:eth1 or nio:");
        }
        final int colon = text.indexOf(':');
        if (colon <= 0) {
            throw new BypassUriException(text, "missing scheme; expected one of afxdp:, dpdk:, efvi:, nio:, auto:");
        }
        final String scheme = text.substring(0, colon);
        for (int i = 0; i < scheme.length(); i++) {
            final char c = scheme.charAt(i);
            if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '-' && c != '_') {
                throw new BypassUriException(text, "scheme '" + scheme + "' must be lower-case letters and digits");
            }
        }
        final int question = text.indexOf('?', colon + 1);
        final String target = decode(text, question < 0 ? text.substring(colon + 1) : text.substring(colon + 1, question));
        final Map<String, String> params = new LinkedHashMap<>();
        if (question >= 0 && question + 1 < text.length()) {
            for (final String pair : text.substring(question + 1).split("&", -1)) {
                if (pair.isEmpty()) {
                    throw new BypassUriException(text, "empty parameter (doubled or trailing '&')");
                }
                final int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw new BypassUriException(text, "parameter '" + pair + "' must be key=value");
                }
                final String key = pair.substring(0, eq);
                if (params.put(key, decode(text, pair.substring(eq + 1))) != null) {
                    throw new BypassUriException(text, "parameter '" + key + "' given twice");
                }
            }
        }
        return new PortUri(text, scheme, target, params);
    }

    private static String decode(final String uri, final String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        final byte[] out = new byte[s.length()];
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            final char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw new BypassUriException(uri, "truncated percent escape in '" + s + "'");
                }
                final int hi = Character.digit(s.charAt(i + 1), 16);
                final int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new BypassUriException(uri, "bad percent escape in '" + s + "'");
                }
                out[n++] = (byte) ((hi << 4) | lo);
                i += 2;
            } else {
                final byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                for (final byte x : b) {
                    out[n++] = x;
                }
            }
        }
        return new String(out, 0, n, StandardCharsets.UTF_8);
    }

    /**
     * @return the URI as given
     */
    public String text() {
        return text;
    }

    /**
     * @return the scheme, which names the backend ({@code afxdp}, {@code nio}, {@code auto}...)
     */
    public String scheme() {
        return scheme;
    }

    /**
     * @return what comes between the scheme and {@code ?}: an interface name or DPDK devargs; may be empty
     */
    public String target() {
        return target;
    }

    /**
     * @return every parameter, in the order given
     */
    public Map<String, String> params() {
        return params;
    }

    /**
     * @param key parameter name
     * @return its value, or null if absent
     */
    public String get(final String key) {
        return params.get(key);
    }

    /**
     * @param key          parameter name
     * @param defaultValue value when absent
     * @return the value or the default
     */
    public String get(final String key, final String defaultValue) {
        return params.getOrDefault(key, defaultValue);
    }

    /**
     * @param key          parameter name
     * @param defaultValue value when absent
     * @param min          smallest allowed
     * @param max          largest allowed
     * @return the integer value
     * @throws BypassUriException if not an integer or out of range
     */
    public int getInt(final String key, final int defaultValue, final int min, final int max) {
        final String v = params.get(key);
        if (v == null) {
            return defaultValue;
        }
        final int value;
        try {
            value = Integer.decode(v);
        } catch (final NumberFormatException e) {
            throw new BypassUriException(text, "parameter '" + key + "' must be an integer, got '" + v + "'");
        }
        if (value < min || value > max) {
            throw new BypassUriException(text, "parameter '" + key + "' must be in " + min + ".." + max + ", got " + value);
        }
        return value;
    }

    /**
     * @param key          parameter name
     * @param defaultValue value when absent
     * @return the boolean value ({@code true|false|1|0|yes|no})
     * @throws BypassUriException if not a boolean
     */
    public boolean getBoolean(final String key, final boolean defaultValue) {
        final String v = params.get(key);
        if (v == null) {
            return defaultValue;
        }
        return switch (v) {
            case "true", "1", "yes", "on" -> true;
            case "false", "0", "no", "off" -> false;
            default -> throw new BypassUriException(text, "parameter '" + key + "' must be true or false, got '" + v + "'");
        };
    }

    /**
     * @param key          parameter name
     * @param defaultValue value when absent
     * @param allowed      the allowed values
     * @return the value, one of {@code allowed}
     * @throws BypassUriException if not one of them
     */
    public String getChoice(final String key, final String defaultValue, final String... allowed) {
        final String v = params.get(key);
        if (v == null) {
            return defaultValue;
        }
        for (final String a : allowed) {
            if (a.equals(v)) {
                return v;
            }
        }
        throw new BypassUriException(text, "parameter '" + key + "' must be one of " + String.join("|", allowed) + ", got '" + v + "'");
    }

    /**
     * Rejects any parameter not in {@code known}, so a misspelt key is an error; a renamed key
     * ({@link io.bypass.spi.UriParams#retired()}) is refused with a message naming its replacement.
     *
     * @param known the keys this backend understands
     * @throws BypassUriException naming the unknown key and the known ones
     */
    public void requireOnly(final Set<String> known) {
        for (final String key : params.keySet()) {
            if (!known.contains(key)) {
                final String replacement = io.bypass.spi.UriParams.replacementOf(key);
                if (replacement != null) {
                    throw new BypassUriException(text, "parameter '" + key + "' is no longer accepted: " + replacement);
                }
                throw new BypassUriException(text, "unknown parameter '" + key + "' for " + scheme + ": (known: "
                    + String.join(", ", new java.util.TreeSet<>(known)) + ")");
            }
        }
    }

    /**
     * @param scheme the new scheme
     * @return this URI with another scheme and the same target and parameters (used by {@code auto:})
     */
    public PortUri withScheme(final String scheme) {
        final int colon = text.indexOf(':');
        return new PortUri(scheme + text.substring(colon), scheme, target, new LinkedHashMap<>(params));
    }

    /**
     * This URI with one more parameter, appended to its text: how a program puts its own default
     * for a key into the URI it opens and reports, where a user who gave the key keeps it.
     *
     * <pre>
     * PortUri u = PortUri.parse("afxdp:eth1?xdp=drv");
     * if (u.get("rxStallMs") == null) {
     *     u = u.withParam("rxStallMs", "10");    // afxdp:eth1?xdp=drv&amp;rxStallMs=10
     * }
     * </pre>
     *
     * @param key   parameter name, not yet in this URI
     * @param value its value, taken as written (percent-encode what needs it)
     * @return the new URI
     * @throws BypassUriException if the key is empty, holds {@code = & ?}, is already given, or the result does not parse
     */
    public PortUri withParam(final String key, final String value) {
        if (key.isEmpty() || key.indexOf('=') >= 0 || key.indexOf('&') >= 0 || key.indexOf('?') >= 0) {
            throw new BypassUriException(text, "parameter name '" + key + "' must not be empty or hold '=', '&' or '?'");
        }
        if (params.containsKey(key)) {
            throw new BypassUriException(text, "parameter '" + key + "' given twice");
        }
        final String separator = text.indexOf('?', text.indexOf(':') + 1) < 0 ? "?" : text.endsWith("?") ? "" : "&";
        return parse(text + separator + key + "=" + value);
    }

    @Override
    public String toString() {
        return text;
    }
}
