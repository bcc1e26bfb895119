package io.bypass.deployment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What the tests take from the documentation and the sample unit, so that what they run is
 * what a user reads: the README's dependency snippet, the launch lines of docs/deployment.md,
 * and the systemd unit's capabilities and command.
 */
final class Docs {
    /** The sample unit, relative to the repository. */
    static final String UNIT = "samples/deploy/bypass-feed.service";

    private Docs() {
    }

    /** @return the repository's root (the build passes it) */
    static Path root() {
        final String root = System.getProperty("bypass.root");
        if (root == null) {
            throw new IllegalStateException("system property bypass.root is not set: run through Maven (deployment-tests/pom.xml)");
        }
        return Path.of(root).toAbsolutePath().normalize();
    }

    /**
     * @return the README's first {@code xml} block that imports {@code bypass-bom}
     *     (dependencyManagement and dependencies, to paste into a user's pom)
     */
    static String readmeDependencySnippet() throws IOException {
        final String readme = Files.readString(root().resolve("README.md"));
        int from = 0;
        while (true) {
            final int start = readme.indexOf("```xml\n", from);
            if (start < 0) {
                throw new AssertionError("README.md has no ```xml block importing bypass-bom");
            }
            final int end = readme.indexOf("```", start + 7);
            final String block = readme.substring(start + 7, end);
            if (block.contains("<artifactId>bypass-bom</artifactId>")) {
                return block;
            }
            from = end + 3;
        }
    }

    /**
     * The launch lines of docs/deployment.md: each {@code java ...} command (with its
     * continuation lines) that runs {@code com.example.feed}, as written.
     *
     * @return the commands, each as its text lines
     */
    static List<List<String>> launchLines() throws IOException {
        final List<String> lines = Files.readAllLines(root().resolve("docs/deployment.md"));
        final List<List<String>> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).startsWith("java ")) {
                continue;
            }
            final List<String> command = new ArrayList<>();
            int j = i;
            command.add(lines.get(j));
            while (lines.get(j).endsWith("\\")) {
                command.add(lines.get(++j));
            }
            if (String.join(" ", command).contains("com.example.feed")) {
                out.add(command);
            }
        }
        return out;
    }

    /**
     * @param command a command's text lines
     * @return its words, continuations joined, quotes removed (as a shell would pass them)
     */
    static List<String> words(final List<String> command) {
        final String joined = String.join(" ", command).replace("\\", " ");
        final List<String> words = new ArrayList<>();
        for (final String w : joined.trim().split("\\s+")) {
            if (w.startsWith("#")) {
                break;
            }
            words.add(w.replace("\"", "").replace("'", ""));
        }
        return words;
    }

    /**
     * @param key a key of the sample unit, such as {@code AmbientCapabilities}
     * @return its value's words (empty if absent or commented out)
     */
    static List<String> unit(final String key) throws IOException {
        for (final String line : Files.readAllLines(root().resolve(UNIT))) {
            if (line.startsWith(key + "=")) {
                return Arrays.asList(line.substring(key.length() + 1).trim().split("\\s+"));
            }
        }
        return List.of();
    }
}
