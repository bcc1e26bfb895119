package io.bypass.samples.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The options one subcommand accepts, and its parser. Written here rather than taken
 * from a library so the samples depend on nothing but Bypass, Agrona and HdrHistogram.
 *
 * <pre>{@code
 * Options o = new Options("feed", "receive a MoldUDP64 feed")
 *     .value("--a", "GROUP:PORT", "A line", "239.1.1.1:30001")
 *     .flag("--json", "print the summary as JSON");
 * Args args = o.parse(argv, 1);   // throws UsageException naming the bad argument
 * }</pre>
 *
 * Accepts {@code --name value}, {@code --name=value} and flags; an unknown option, a
 * missing value or an unexpected positional argument is a {@link UsageException}.
 */
public final class Options {
    private final String command;
    private final String summary;
    private final Map<String, Spec> specs = new LinkedHashMap<>();
    private final List<Positional> positionals = new ArrayList<>();

    /**
     * @param command the subcommand name
     * @param summary one line on what it does
     */
    public Options(final String command, final String summary) {
        this.command = command;
        this.summary = summary;
    }

    /**
     * Declares an option that takes a value.
     *
     * @param name         such as {@code --rate}
     * @param valueName    placeholder shown in usage, such as {@code PPS}
     * @param help         one line of help
     * @param defaultValue default shown in usage and returned when absent; null if none
     * @return this
     */
    public Options value(final String name, final String valueName, final String help, final String defaultValue) {
        specs.put(name, new Spec(name, true, valueName, help, defaultValue));
        return this;
    }

    /**
     * Declares a flag (an option without a value).
     *
     * @param name such as {@code --json}
     * @param help one line of help
     * @return this
     */
    public Options flag(final String name, final String help) {
        specs.put(name, new Spec(name, false, null, help, null));
        return this;
    }

    /**
     * Declares a required positional argument with fixed choices.
     *
     * @param name    placeholder shown in usage
     * @param choices allowed values
     * @return this
     */
    public Options positional(final String name, final String... choices) {
        positionals.add(new Positional(name, List.of(choices)));
        return this;
    }

    /** @return the subcommand name */
    public String command() {
        return command;
    }

    /** @return the one line on what the subcommand does, as {@code bypass --help} lists it */
    public String summary() {
        return summary;
    }

    /**
     * Parses arguments.
     *
     * @param argv the whole command line
     * @param from index of the first argument after the subcommand name
     * @return the parsed arguments
     * @throws UsageException naming the first bad argument
     */
    public Args parse(final String[] argv, final int from) throws UsageException {
        final Map<String, String> values = new LinkedHashMap<>();
        final List<String> pos = new ArrayList<>();
        for (int i = from; i < argv.length; i++) {
            final String a = argv[i];
            if (a.startsWith("--")) {
                final int eq = a.indexOf('=');
                final String name = eq < 0 ? a : a.substring(0, eq);
                final Spec spec = specs.get(name);
                if (spec == null) {
                    throw new UsageException("unknown option '" + name + "'" + suggestion(name));
                }
                if (values.containsKey(name)) {
                    throw new UsageException(name + " given twice");
                }
                if (spec.takesValue) {
                    final String v;
                    if (eq >= 0) {
                        v = a.substring(eq + 1);
                    } else if (i + 1 < argv.length) {
                        v = argv[++i];
                    } else {
                        throw new UsageException(name + ": missing value " + spec.valueName);
                    }
                    if (v.isEmpty()) {
                        throw new UsageException(name + ": empty value, expected " + spec.valueName);
                    }
                    values.put(name, v);
                } else {
                    if (eq >= 0) {
                        throw new UsageException(name + " is a flag and takes no value");
                    }
                    values.put(name, "true");
                }
            } else if (a.startsWith("-") && a.length() > 1 && !isNumber(a)) {
                throw new UsageException("unknown option '" + a + "' (options start with --)");
            } else {
                pos.add(a);
            }
        }
        if (pos.size() > positionals.size()) {
            throw new UsageException("unexpected argument '" + pos.get(positionals.size()) + "'");
        }
        for (int i = 0; i < positionals.size(); i++) {
            final Positional p = positionals.get(i);
            if (i >= pos.size()) {
                throw new UsageException("missing " + p.name + " (one of " + String.join("|", p.choices) + ")");
            }
            if (!p.choices.isEmpty() && !p.choices.contains(pos.get(i))) {
                throw new UsageException(p.name + ": expected one of " + String.join("|", p.choices) + ", got '" + pos.get(i) + "'");
            }
        }
        final Map<String, String> defaults = new LinkedHashMap<>();
        for (final Spec s : specs.values()) {
            if (s.defaultValue != null) {
                defaults.put(s.name, s.defaultValue);
            }
        }
        return new Args(command, values, defaults, pos);
    }

    private static boolean isNumber(final String s) {
        try {
            Double.parseDouble(s);
            return true;
        } catch (final NumberFormatException e) {
            return false;
        }
    }

    private String suggestion(final String name) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (final String known : specs.keySet()) {
            final int d = known.startsWith(name) ? 0 : distance(known, name);
            if (d < bestDistance) {
                bestDistance = d;
                best = known;
            }
        }
        // Only suggest close matches: a third of the name may differ.
        return best != null && bestDistance <= Math.max(1, (name.length() - 2) / 3) ? "; did you mean " + best + "?" : "";
    }

    private static int distance(final String a, final String b) {
        final int[] prev = new int[b.length() + 1];
        final int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                final int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            System.arraycopy(cur, 0, prev, 0, cur.length);
        }
        return prev[b.length()];
    }

    /**
     * @return the usage text: synopsis and one line per option
     */
    public String usage() {
        final StringBuilder sb = new StringBuilder();
        sb.append("usage: bypass ").append(command);
        for (final Positional p : positionals) {
            sb.append(' ').append(p.choices.isEmpty() ? p.name : String.join("|", p.choices));
        }
        sb.append(" [options]\n  ").append(summary).append("\noptions:\n");
        for (final Spec s : specs.values()) {
            final String left = s.takesValue ? s.name + " " + s.valueName : s.name;
            sb.append(String.format("  %-26s %s", left, s.help));
            if (s.defaultValue != null) {
                sb.append(" (default ").append(s.defaultValue).append(')');
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private record Spec(String name, boolean takesValue, String valueName, String help, String defaultValue) {
    }

    private record Positional(String name, List<String> choices) {
    }
}
