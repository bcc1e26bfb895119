package io.bypass.testkit;

import java.util.Collection;
import java.util.Locale;
import java.util.Map;

/**
 * A minimal JSON writer for summaries and raw results: maps, collections, strings,
 * numbers, booleans and null (anything else is written as its {@code toString()}).
 * Doubles that are not finite are written as null (JSON has no NaN). Two layouts: one
 * line ({@link #write}, the samples' {@code --json} summaries) and indented
 * ({@link #writeIndented}, the benchmark's {@code results.json}).
 */
public final class Json {
    private Json() {
    }

    /**
     * @param value a map, collection, string, number, boolean or null
     * @return its JSON text on one line; a double with an integral value (below 1e15) is
     *         written without a fraction, any other in full
     */
    public static String write(final Object value) {
        final StringBuilder sb = new StringBuilder();
        write(sb, value, -1);
        return sb.toString();
    }

    /**
     * @param value a tree of maps, collections, numbers, strings, booleans and nulls
     * @return indented JSON (two spaces a level) ending in a newline; doubles with three
     *         decimals
     */
    public static String writeIndented(final Object value) {
        final StringBuilder sb = new StringBuilder();
        write(sb, value, 0);
        return sb.append('\n').toString();
    }

    /** {@code indent} is the nesting depth, or negative for one line. */
    private static void write(final StringBuilder sb, final Object v, final int indent) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (final Map.Entry<?, ?> e : m.entrySet()) {
                separate(sb, first, indent);
                quote(sb, String.valueOf(e.getKey()));
                sb.append(indent < 0 ? ":" : ": ");
                write(sb, e.getValue(), indent < 0 ? indent : indent + 1);
                first = false;
            }
            close(sb, first, indent, '}');
        } else if (v instanceof Collection<?> c) {
            sb.append('[');
            boolean first = true;
            for (final Object o : c) {
                separate(sb, first, indent);
                write(sb, o, indent < 0 ? indent : indent + 1);
                first = false;
            }
            close(sb, first, indent, ']');
        } else if (v instanceof Double || v instanceof Float) {
            final double d = ((Number) v).doubleValue();
            if (!Double.isFinite(d)) {
                sb.append("null");
            } else if (indent >= 0) {
                sb.append(String.format(Locale.ROOT, "%.3f", d));
            } else {
                sb.append(d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d));
            }
        } else if (v instanceof Number || v instanceof Boolean) {
            sb.append(v);
        } else {
            quote(sb, v.toString());
        }
    }

    private static void separate(final StringBuilder sb, final boolean first, final int indent) {
        if (indent < 0) {
            if (!first) {
                sb.append(',');
            }
        } else {
            sb.append(first ? "\n" : ",\n").append("  ".repeat(indent + 1));
        }
    }

    private static void close(final StringBuilder sb, final boolean empty, final int indent, final char bracket) {
        if (indent >= 0 && !empty) {
            sb.append('\n').append("  ".repeat(indent));
        }
        sb.append(bracket);
    }

    private static void quote(final StringBuilder sb, final String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            final char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
