package io.bypass.spi;

import io.bypass.PortUri;

import java.util.List;
import java.util.Objects;

/**
 * One port URI key, declared once with its type, values, default and meaning, in the manner of
 * Aeron's {@code *_PARAM_NAME} constants. The declaration also reads the key, so what the
 * documentation says and what the code accepts cannot drift apart; the README's table of URI
 * keys is checked against these declarations by a test.
 *
 * <p>Every key is lowerCamelCase ({@code rxStallMs}, {@code multicastTtl}); a word borrowed from
 * the tool a key configures ({@code rcvbuf} for {@code SO_RCVBUF}, {@code allmulti}, {@code lcores})
 * counts as one word. A key means the same on every backend that accepts it: a backend with a
 * narrower limit (a NIC's largest ring) says so in its error message, never gives the key another
 * meaning. A key that was renamed stays declared as {@linkplain #retired(String, String) retired},
 * so a URI that still uses it is refused with a message naming its replacement.
 *
 * <pre>{@code
 * public static final String RX_RING_PARAM_NAME = "rxRing";
 * public static final UriParam RX_RING = UriParam.powerOfTwo(RX_RING_PARAM_NAME, 32, 65536,
 *     "from the stall budget", "RX ring entries");
 * final int rxRing = RX_RING.intValue(uri, budget.ringSize(2048, 65536));
 * }</pre>
 */
public final class UriParam {
    /** What kind of value a key takes. */
    public enum Type {
        /** A whole number in {@code min..max} (decimal, or {@code 0x} hexadecimal). */
        INTEGER,
        /** {@code true|false} (also {@code 1|0}, {@code yes|no}, {@code on|off}). */
        BOOLEAN,
        /** One of a fixed set of words. */
        CHOICE,
        /** Free text in a stated format (an address, a CPU list). */
        TEXT,
        /** No longer accepted: a URI using it is refused, naming what replaced it. */
        RETIRED
    }

    private final String name;
    private final Type type;
    private final int min;
    private final int max;
    private final boolean powerOfTwo;
    private final List<String> choices;
    private final String values;
    private final Integer intDefault;
    private final Boolean booleanDefault;
    private final String defaultValue;
    private final String meaning;

    private UriParam(final String name, final Type type, final int min, final int max, final boolean powerOfTwo,
                     final List<String> choices, final String values, final Integer intDefault, final Boolean booleanDefault,
                     final String defaultValue, final String meaning) {
        if (type != Type.RETIRED && !name.matches("[a-z][a-zA-Z0-9]*")) {
            throw new IllegalArgumentException("URI key '" + name + "' is not lowerCamelCase");
        }
        this.name = name;
        this.type = type;
        this.min = min;
        this.max = max;
        this.powerOfTwo = powerOfTwo;
        this.choices = choices;
        this.values = values;
        this.intDefault = intDefault;
        this.booleanDefault = booleanDefault;
        this.defaultValue = Objects.requireNonNull(defaultValue, "defaultValue");
        this.meaning = Objects.requireNonNull(meaning, "meaning");
    }

    /**
     * A whole-number key with a fixed default.
     *
     * @param name         the key
     * @param min          the smallest value accepted
     * @param max          the largest value accepted
     * @param defaultValue the value when the key is absent
     * @param meaning      what it sets, one sentence
     * @return the declaration
     */
    public static UriParam integer(final String name, final int min, final int max, final int defaultValue, final String meaning) {
        return new UriParam(name, Type.INTEGER, min, max, false, List.of(), min + ".." + max, defaultValue, null,
            Integer.toString(defaultValue), meaning);
    }

    /**
     * A whole-number key whose default the backend works out (from the stall budget, the MTU...).
     *
     * @param name         the key
     * @param min          the smallest value accepted
     * @param max          the largest value accepted
     * @param defaultValue how the default is found, for the documentation
     * @param meaning      what it sets, one sentence
     * @return the declaration
     */
    public static UriParam integer(final String name, final int min, final int max, final String defaultValue,
                                   final String meaning) {
        return new UriParam(name, Type.INTEGER, min, max, false, List.of(), min + ".." + max, null, null, defaultValue, meaning);
    }

    /**
     * A ring size: a power of two in {@code min..max}, its default worked out by the backend.
     *
     * @param name         the key
     * @param min          the smallest value accepted
     * @param max          the largest value accepted
     * @param defaultValue how the default is found, for the documentation
     * @param meaning      what it sets, one sentence
     * @return the declaration
     */
    public static UriParam powerOfTwo(final String name, final int min, final int max, final String defaultValue,
                                      final String meaning) {
        return new UriParam(name, Type.INTEGER, min, max, true, List.of(), "power of two, " + min + ".." + max, null, null,
            defaultValue, meaning);
    }

    /**
     * A power of two in {@code min..max} with a fixed default.
     *
     * @param name         the key
     * @param min          the smallest value accepted
     * @param max          the largest value accepted
     * @param defaultValue the value when the key is absent
     * @param meaning      what it sets, one sentence
     * @return the declaration
     */
    public static UriParam powerOfTwo(final String name, final int min, final int max, final int defaultValue,
                                      final String meaning) {
        return new UriParam(name, Type.INTEGER, min, max, true, List.of(), "power of two, " + min + ".." + max, defaultValue,
            null, Integer.toString(defaultValue), meaning);
    }

    /**
     * A {@code true|false} key with a fixed default.
     *
     * @param name         the key
     * @param defaultValue the value when the key is absent
     * @param meaning      what it sets, one sentence
     * @return the declaration
     */
    public static UriParam bool(final String name, final boolean defaultValue, final String meaning) {
        return new UriParam(name, Type.BOOLEAN, 0, 0, false, List.of(), "true|false", null, defaultValue,
            Boolean.toString(defaultValue), meaning);
    }

    /**
     * A {@code true|false} key whose absence means something of its own (decided from the host).
     *
     * @param name         the key
     * @param defaultValue what absence means, for the documentation
     * @param meaning      what it sets, one sentence
     * @return the declaration
     */
    public static UriParam bool(final String name, final String defaultValue, final String meaning) {
        return new UriParam(name, Type.BOOLEAN, 0, 0, false, List.of(), "true|false", null, null, defaultValue, meaning);
    }

    /**
     * A key that takes one of a few words.
     *
     * @param name         the key
     * @param defaultValue the word when the key is absent, one of {@code choices}
     * @param meaning      what it sets, one sentence
     * @param choices      the words accepted
     * @return the declaration
     */
    public static UriParam choice(final String name, final String defaultValue, final String meaning, final String... choices) {
        if (!List.of(choices).contains(defaultValue)) {
            throw new IllegalArgumentException(defaultValue + " is not one of " + List.of(choices));
        }
        return new UriParam(name, Type.CHOICE, 0, 0, false, List.of(choices), String.join("|", choices), null, null,
            defaultValue, meaning);
    }

    /**
     * A free-text key.
     *
     * @param name         the key
     * @param format       what the text looks like, e.g. {@code A.B.C.D/NN}
     * @param defaultValue what absence means, for the documentation
     * @param meaning      what it sets, one sentence
     * @return the declaration
     */
    public static UriParam text(final String name, final String format, final String defaultValue, final String meaning) {
        return new UriParam(name, Type.TEXT, 0, 0, false, List.of(), format, null, null, defaultValue, meaning);
    }

    /**
     * A key no longer accepted. {@link PortUri#requireOnly} refuses it with {@code replacement}, which
     * names the key to use instead.
     *
     * @param name        the old key, in whatever casing it had
     * @param replacement what to write instead, naming the new key(s)
     * @return the declaration
     */
    public static UriParam retired(final String name, final String replacement) {
        return new UriParam(name, Type.RETIRED, 0, 0, false, List.of(), "refused", null, null, "", replacement);
    }

    /**
     * The same declaration with the accepted values described otherwise, where the range alone
     * says too much (a frame size of 2048..4096 that must also be a power of two: {@code 2048|4096}).
     *
     * @param values what the documentation says is accepted
     * @return a copy with that description
     */
    public UriParam describedAs(final String values) {
        return new UriParam(name, type, min, max, powerOfTwo, choices, values, intDefault, booleanDefault, defaultValue, meaning);
    }

    /** @return the key as written in a URI */
    public String name() {
        return name;
    }

    /** @return what kind of value it takes */
    public Type type() {
        return type;
    }

    /** @return the values accepted, for the documentation, e.g. {@code 1..255} or {@code auto|drv|skb} */
    public String values() {
        return values;
    }

    /** @return the default, or how the backend finds it, for the documentation */
    public String defaultValue() {
        return defaultValue;
    }

    /** @return what it sets; for a retired key, what replaced it */
    public String meaning() {
        return meaning;
    }

    /**
     * @param uri a port URI
     * @return true if the URI gives this key
     */
    public boolean isIn(final PortUri uri) {
        return uri.get(name) != null;
    }

    /**
     * Reads a whole-number key with a fixed default.
     *
     * @param uri the port URI
     * @return the value, or the declared default
     * @throws io.bypass.BypassUriException naming the key if the value is not a number, out of range, or not a power of two
     * @throws IllegalStateException if the key has no fixed default (use {@link #intValue(PortUri, int)})
     */
    public int intValue(final PortUri uri) {
        if (intDefault == null) {
            throw new IllegalStateException(name + " has no fixed default");
        }
        return intValue(uri, intDefault);
    }

    /**
     * Reads a whole-number key whose default the caller worked out.
     *
     * @param uri          the port URI
     * @param defaultValue the value when the key is absent
     * @return the value
     * @throws io.bypass.BypassUriException naming the key if the value is not a number, out of range, or not a power of two
     */
    public int intValue(final PortUri uri, final int defaultValue) {
        return intValue(uri, defaultValue, min, max);
    }

    /**
     * Reads a whole-number key within a backend's narrower limits (a NIC's largest ring), the
     * meaning unchanged.
     *
     * @param uri          the port URI
     * @param defaultValue the value when the key is absent
     * @param min          this backend's smallest value
     * @param max          this backend's largest value
     * @return the value
     * @throws io.bypass.BypassUriException naming the key if the value is not a number, out of range, or not a power of two
     */
    public int intValue(final PortUri uri, final int defaultValue, final int min, final int max) {
        requireType(Type.INTEGER);
        return powerOfTwo ? UriRules.powerOfTwo(uri, name, defaultValue, min, max) : uri.getInt(name, defaultValue, min, max);
    }

    /**
     * Reads a {@code true|false} key with a fixed default.
     *
     * @param uri the port URI
     * @return the value, or the declared default
     * @throws io.bypass.BypassUriException naming the key if the value is not a boolean
     * @throws IllegalStateException if the key has no fixed default
     */
    public boolean booleanValue(final PortUri uri) {
        requireType(Type.BOOLEAN);
        if (booleanDefault == null) {
            throw new IllegalStateException(name + " has no fixed default");
        }
        return uri.getBoolean(name, booleanDefault);
    }

    /**
     * Reads a {@code true|false} key whose absence the caller handles ({@link #isIn(PortUri)}).
     *
     * @param uri          the port URI
     * @param defaultValue the value when absent
     * @return the value
     * @throws io.bypass.BypassUriException naming the key if the value is not a boolean
     */
    public boolean booleanValue(final PortUri uri, final boolean defaultValue) {
        requireType(Type.BOOLEAN);
        return uri.getBoolean(name, defaultValue);
    }

    /**
     * Reads a key that takes one of a few words.
     *
     * @param uri the port URI
     * @return the word, or the declared default
     * @throws io.bypass.BypassUriException naming the key and the words accepted
     */
    public String choice(final PortUri uri) {
        requireType(Type.CHOICE);
        return uri.getChoice(name, defaultValue, choices.toArray(new String[0]));
    }

    /**
     * Reads a free-text key.
     *
     * @param uri the port URI
     * @return the text, or null if absent
     */
    public String text(final PortUri uri) {
        requireType(Type.TEXT);
        return uri.get(name);
    }

    private void requireType(final Type wanted) {
        if (type != wanted) {
            throw new IllegalStateException(name + " is " + type + ", not " + wanted);
        }
    }

    @Override
    public String toString() {
        return name + " (" + values + ", default " + defaultValue + "): " + meaning;
    }
}
