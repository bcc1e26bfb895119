package io.bypass.samples.cli;

import java.util.List;
import java.util.Map;

/**
 * Parsed arguments of one subcommand, with typed getters that raise a
 * {@link UsageException} naming the option and what was expected.
 */
public final class Args {
    private final String command;
    private final Map<String, String> values;
    private final Map<String, String> defaults;
    private final List<String> positionals;

    Args(final String command, final Map<String, String> values, final Map<String, String> defaults,
         final List<String> positionals) {
        this.command = command;
        this.values = values;
        this.defaults = defaults;
        this.positionals = positionals;
    }

    /** @return the subcommand */
    public String command() {
        return command;
    }

    /**
     * @param index which positional argument
     * @return its value
     */
    public String positional(final int index) {
        return positionals.get(index);
    }

    /**
     * @param name option name
     * @return true if given on the command line (defaults do not count)
     */
    public boolean has(final String name) {
        return values.containsKey(name);
    }

    /**
     * @param name a flag
     * @return true if given
     */
    public boolean flag(final String name) {
        return values.containsKey(name);
    }

    /**
     * @param name option name
     * @return the value given, else the declared default, else null
     */
    public String string(final String name) {
        final String v = values.get(name);
        return v != null ? v : defaults.get(name);
    }

    /**
     * @param name option name
     * @return the value
     * @throws UsageException if absent and without default
     */
    public String required(final String name) throws UsageException {
        final String v = string(name);
        if (v == null) {
            throw new UsageException("missing required option " + name);
        }
        return v;
    }

    /**
     * @param name option name
     * @param min  smallest allowed
     * @param max  largest allowed
     * @return the integer value
     * @throws UsageException if not an integer in range
     */
    public long longValue(final String name, final long min, final long max) throws UsageException {
        final String v = required(name);
        final long value;
        try {
            value = parseLongWithSuffix(v);
        } catch (final NumberFormatException e) {
            throw new UsageException(name + ": expected an integer, got '" + v + "'");
        }
        if (value < min || value > max) {
            throw new UsageException(name + ": " + value + " outside " + min + ".." + max);
        }
        return value;
    }

    /**
     * @param name option name
     * @param min  smallest allowed
     * @param max  largest allowed
     * @return the integer value
     * @throws UsageException if not an integer in range
     */
    public int intValue(final String name, final int min, final int max) throws UsageException {
        return (int) longValue(name, min, max);
    }

    /**
     * @param name option name
     * @param min  smallest allowed
     * @param max  largest allowed
     * @return the number
     * @throws UsageException if not a number in range
     */
    public double doubleValue(final String name, final double min, final double max) throws UsageException {
        final String v = required(name);
        final double value;
        try {
            value = Double.parseDouble(v);
        } catch (final NumberFormatException e) {
            throw new UsageException(name + ": expected a number, got '" + v + "'");
        }
        if (!(value >= min && value <= max)) {
            throw new UsageException(name + ": " + v + " outside " + min + ".." + max);
        }
        return value;
    }

    /**
     * A duration: {@code 10} or {@code 10s} seconds, {@code 500ms}, {@code 200us}, {@code 2m}.
     *
     * @param name option name
     * @return nanoseconds, or 0 if the value is absent or {@code 0}
     * @throws UsageException if malformed or negative
     */
    public long durationNanos(final String name) throws UsageException {
        final String v = string(name);
        if (v == null) {
            return 0;
        }
        return parseDuration(name, v);
    }

    /**
     * @param name    option name
     * @param allowed the allowed values
     * @return the value, one of {@code allowed}
     * @throws UsageException if not one of them
     */
    public String choice(final String name, final String... allowed) throws UsageException {
        final String v = required(name);
        for (final String a : allowed) {
            if (a.equals(v)) {
                return v;
            }
        }
        throw new UsageException(name + ": expected one of " + String.join("|", allowed) + ", got '" + v + "'");
    }

    /**
     * @param name option name
     * @return the parsed {@code ADDRESS:PORT}, or null if absent without default
     * @throws UsageException if malformed
     */
    public GroupPort groupPort(final String name) throws UsageException {
        final String v = string(name);
        return v == null ? null : GroupPort.parse(name, v);
    }

    static long parseDuration(final String name, final String v) throws UsageException {
        final String s = v.trim();
        int end = s.length();
        while (end > 0 && Character.isLetter(s.charAt(end - 1))) {
            end--;
        }
        final String unit = s.substring(end);
        final double scale = switch (unit) {
            case "", "s" -> 1e9;
            case "ms" -> 1e6;
            case "us" -> 1e3;
            case "ns" -> 1;
            case "m" -> 60e9;
            default -> throw new UsageException(name + ": unknown unit '" + unit + "' in '" + v + "' (use ns, us, ms, s or m)");
        };
        final double n;
        try {
            n = Double.parseDouble(s.substring(0, end));
        } catch (final NumberFormatException e) {
            throw new UsageException(name + ": expected a duration such as 10s or 500ms, got '" + v + "'");
        }
        if (!(n >= 0) || Double.isInfinite(n)) {
            throw new UsageException(name + ": duration must be zero or positive, got '" + v + "'");
        }
        return (long) (n * scale);
    }

    private static long parseLongWithSuffix(final String v) {
        final char last = Character.toLowerCase(v.charAt(v.length() - 1));
        final long mult = last == 'k' ? 1_000L : last == 'm' ? 1_000_000L : last == 'g' ? 1_000_000_000L : 1L;
        final String digits = mult == 1 ? v : v.substring(0, v.length() - 1);
        return Math.multiplyExact(Long.parseLong(digits.replace("_", "")), mult);
    }
}
