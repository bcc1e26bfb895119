package io.bypass.samples;

import io.bypass.Bypass;
import io.bypass.spi.BackendProvider;
import io.bypass.spi.UriParam;
import io.bypass.spi.UriParams;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12 item 1: every URI key is declared once ({@link UriParam}), means the same on every
 * backend that accepts it, and the README's table of keys is generated from those declarations.
 * The table lies between the markers {@value #BEGIN} and {@value #END}; when a declaration
 * changes, this test fails with the table it expects, writes it to {@code target/uri-keys.md},
 * and with {@code -Dbypass.readme.write=true} writes it into the README.
 */
class UriKeysReadmeTest {
    static final String BEGIN = "<!-- uri-keys:begin";
    static final String END = "<!-- uri-keys:end -->";
    private static final Path README = Path.of("").toAbsolutePath().getParent().resolve("README.md");
    private static final List<String> BACKENDS = List.of("afxdp", "dpdk", "efvi", "nio");

    /** One key: its declaration and the backends that accept it, in {@link #BACKENDS} order. */
    private record Row(UriParam param, List<String> backends, int firstBackend, int position) {
    }

    private static Map<String, Row> rows() {
        final Map<String, Row> rows = new LinkedHashMap<>();
        for (int b = 0; b < BACKENDS.size(); b++) {
            final BackendProvider provider = Bypass.backend(BACKENDS.get(b));
            assertTrue(provider != null, "backend " + BACKENDS.get(b) + " is not on the test class path");
            final List<UriParam> params = provider.uriParams();
            assertTrue(!params.isEmpty(), provider.name() + " declares no URI keys");
            for (int i = 0; i < params.size(); i++) {
                final UriParam p = params.get(i);
                final Row before = rows.get(p.name());
                if (before == null) {
                    final List<String> backends = new ArrayList<>();
                    backends.add(provider.name());
                    rows.put(p.name(), new Row(p, backends, b, i));
                } else {
                    // One declaration per key: a backend that shares a key shares its meaning.
                    assertSame(before.param(), p, "URI key '" + p.name() + "' is declared twice (" + before.backends()
                        + " and " + provider.name() + "): declare it once and share it");
                    before.backends().add(provider.name());
                }
            }
        }
        return rows;
    }

    /** @return the README block: the table of keys, most widely accepted first, then the renamed keys */
    static String table() {
        final List<Row> sorted = new ArrayList<>(rows().values());
        sorted.sort(Comparator.comparingInt((Row r) -> -r.backends().size()).thenComparingInt(Row::firstBackend)
            .thenComparingInt(Row::position));
        final StringBuilder sb = new StringBuilder();
        sb.append(BEGIN).append(": generated from the UriParam declarations by UriKeysReadmeTest; edit those, not this -->\n");
        sb.append("| key | backends | values | default | meaning |\n|---|---|---|---|---|\n");
        for (final Row r : sorted) {
            final UriParam p = r.param();
            sb.append("| `").append(p.name()).append("` | ")
                .append(r.backends().size() == BACKENDS.size() ? "all" : String.join(", ", r.backends())).append(" | ")
                .append(cell(p.values())).append(" | ").append(cell(p.defaultValue())).append(" | ")
                .append(cell(p.meaning())).append(" |\n");
        }
        sb.append("\nRefused, naming the key to use instead:\n\n");
        for (final UriParam p : UriParams.retired()) {
            sb.append("- `").append(p.name()).append("`: ").append(p.meaning()).append('\n');
        }
        sb.append(END).append('\n');
        return sb.toString();
    }

    private static String cell(final String text) {
        return text.replace("|", "\\|");
    }

    @Test
    void everyKeyIsLowerCamelCaseAndDeclaredOnce() {
        final Map<String, Row> rows = rows();
        for (final String key : rows.keySet()) {
            assertTrue(key.matches("[a-z][a-zA-Z0-9]*"), key + " is not lowerCamelCase");
        }
        // The keys every backend reads alike: the stall budget, the VLAN and the multicast TTL.
        for (final String shared : List.of("rxStallMs", "rxStallPps", "vlan", "multicastTtl", "unicastTtl")) {
            assertEquals(BACKENDS, rows.get(shared).backends(), shared);
        }
    }

    @Test
    void everyRenamedKeyIsRefusedNamingADeclaredKey() {
        final Set<String> declared = new TreeSet<>(rows().keySet());
        for (final UriParam retired : UriParams.retired()) {
            assertTrue(!declared.contains(retired.name()), retired.name() + " is both declared and retired");
            assertTrue(declared.stream().anyMatch(k -> retired.meaning().matches("(?s).*\\b" + k + "\\b.*")),
                "the message for " + retired.name() + " names no declared key: " + retired.meaning());
        }
    }

    @Test
    void readmeTableIsTheDeclarations() throws IOException {
        final String expected = table();
        final String readme = Files.readString(README);
        final int begin = readme.indexOf(BEGIN);
        final int end = readme.indexOf(END);
        assertTrue(begin >= 0 && end > begin, "README.md has no block between '" + BEGIN + "' and '" + END + "'");
        final String actual = readme.substring(begin, end + END.length() + 1);
        if (!actual.equals(expected)) {
            final Path out = Path.of("target", "uri-keys.md");
            Files.createDirectories(out.getParent());
            Files.writeString(out, expected);
            if (Boolean.getBoolean("bypass.readme.write")) {
                Files.writeString(README, readme.substring(0, begin) + expected + readme.substring(end + END.length() + 1));
                return;
            }
        }
        assertEquals(expected, actual, "README.md's URI key table differs from the declarations; the expected block is in "
            + "samples/target/uri-keys.md (or rerun with -Dbypass.readme.write=true to write it)");
    }
}
