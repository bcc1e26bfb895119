package io.bypass.deployment;

import io.bypass.testkit.Netns;
import io.bypass.testkit.VethPair;
import io.bypass.testing.Requirements;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An application built as a user builds it: a separate Maven project (src/test/user-project, a
 * multicast receiver and sender whose module says {@code requires io.bypass;}) with the README's
 * dependency snippet, built by its own {@code ./mvnw} against this build's artifacts, then started
 * with the launch lines of docs/deployment.md on the class path and on the module path: a receiver
 * on afxdp in one namespace, a sender on nio in the other, across a veth pair.
 *
 * <p>This build's artifacts reach the user's build through a local repository of its own under
 * target/ (what {@code ./mvnw install} would have written: the parent and BOM poms, the API and
 * the two backends), searched before the build's {@code ~/.m2} (Maven 3.9's
 * {@code maven.repo.local.tail}), which supplies the third-party artifacts and plugins. Nothing is
 * installed anywhere else.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class UserProjectTest {
    private static final String[][] ARTIFACTS = {{"api", "bypass-api"}, {"fallback-nio", "bypass-nio"}, {"ffm-afxdp", "bypass-afxdp"}};
    private static final int COUNT = 1000;
    private static Path project;

    @BeforeAll
    static void buildTheUsersProject() throws Exception {
        Requirements.requireNetns();
        Requirements.requireBackendAvailable("afxdp");
        final Path root = Docs.root();
        final String version = System.getProperty("bypass.version");
        final Path target = root.resolve("deployment-tests/target");
        project = target.resolve("user-project");
        final Path repo = target.resolve("user-repo");
        delete(project);
        delete(repo);
        copyTree(root.resolve("deployment-tests/src/test/user-project"), project);
        final Path pom = project.resolve("pom.xml");
        Files.writeString(pom, Files.readString(pom).replace("<!-- README -->", Docs.readmeDependencySnippet()));
        // The user's own wrapper, so no setting of this repository's build reaches theirs.
        Files.copy(root.resolve("mvnw"), project.resolve("mvnw"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.createDirectories(project.resolve(".mvn/wrapper"));
        Files.copy(root.resolve(".mvn/wrapper/maven-wrapper.properties"), project.resolve(".mvn/wrapper/maven-wrapper.properties"));

        install(repo, "bypass-parent", version, root.resolve("pom.xml"), null);
        install(repo, "bypass-bom", version, root.resolve("bom/pom.xml"), null);
        for (final String[] a : ARTIFACTS) {
            install(repo, a[1], version, root.resolve(a[0]).resolve("pom.xml"), built(root, a[0], a[1], version));
        }
        final long start = System.nanoTime();
        try (Child mvn = Child.start(List.of("./mvnw", "-B", "-ntp", "-q", "package", "-Dmaven.repo.local=" + repo,
            "-Dmaven.repo.local.tail=" + System.getProperty("bypass.localRepository")), project,
            Map.of("JAVA_HOME", System.getProperty("java.home")))) {
            assertEquals(0, mvn.await(300), "the user's build failed: " + mvn);
        }
        System.out.printf("UserProjectTest: the user's project built in %.1f s%n", (System.nanoTime() - start) / 1e9);
        for (final String[] a : ARTIFACTS) {
            final Path used = project.resolve("target/lib").resolve(a[1] + "-" + version + ".jar");
            assertTrue(Files.exists(used), used + " missing from the user's lib/");
            assertEquals(-1L, Files.mismatch(used, built(root, a[0], a[1], version)), used + " is not this build's jar");
        }
    }

    private static Path built(final Path root, final String dir, final String artifactId, final String version) {
        final Path jar = root.resolve(dir).resolve("target").resolve(artifactId + "-" + version + ".jar");
        if (!Files.exists(jar)) {
            throw new AssertionError(jar + " is not built: run the reactor (./mvnw verify), or -pl deployment-tests -am");
        }
        return jar;
    }

    /** Lays an artifact out as {@code install} would (a file nobody tracks counts as installed locally). */
    private static void install(final Path repo, final String artifactId, final String version, final Path pom, final Path jar)
        throws IOException {
        final Path dir = repo.resolve("io/bypass").resolve(artifactId).resolve(version);
        Files.createDirectories(dir);
        Files.copy(pom, dir.resolve(artifactId + "-" + version + ".pom"));
        if (jar != null) {
            Files.copy(jar, dir.resolve(artifactId + "-" + version + ".jar"));
        }
    }

    @Test
    void theReadmeGivesTheLaunchLinesThisTestRuns() throws Exception {
        final List<List<String>> lines = Docs.launchLines();
        assertEquals(2, lines.size(), "docs/deployment.md: one class-path and one module-path line: " + lines);
        final String readme = Files.readString(Docs.root().resolve("README.md"));
        for (final List<String> command : lines) {
            for (final String line : command) {
                assertTrue(readme.contains(line + "\n"), "README.md lacks the tested launch line: " + line);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"class path", "module path"})
    void multicastReceiverAndSenderAcrossVeth(final String path) throws Exception {
        final boolean modules = "module path".equals(path);
        final List<String> java = launch(modules);
        try (VethPair t = VethPair.create()) {
            try (Child rx = start(t.b(), java, "receive", "afxdp:" + t.ifaceB(), "239.7.7.7", "30007", String.valueOf(COUNT))) {
                rx.awaitLine("READY", 60);
                try (Child tx = start(t.a(), java, "send", "nio:" + t.ifaceA(), "239.7.7.7", "30007", String.valueOf(COUNT))) {
                    assertEquals(0, tx.await(60), tx.toString());
                    assertTrue(tx.output().contains("SENT " + COUNT), tx.toString());
                    assertRunsOn(tx, "nio", modules);
                }
                assertEquals(0, rx.await(60), "not every datagram arrived: " + rx);
                assertTrue(rx.output().contains("DISTINCT " + COUNT), rx.toString());
                assertRunsOn(rx, "afxdp", modules);
            }
        }
    }

    private static void assertRunsOn(final Child c, final String backend, final boolean modules) {
        final String open = "OPEN " + backend + " app " + (modules ? "module com.example.feed" : "class path")
            + " backend " + (modules ? "module io.bypass." + backend : "class path");
        assertTrue(c.output().contains(open + "\n"), "expected '" + open + "': " + c);
        assertFalse(c.output().contains("WARNING"), "the JVM warned (a flag missing?): " + c);
    }

    /** The launch line of docs/deployment.md for the path, up to the main class, with this JVM's java. */
    private static List<String> launch(final boolean modules) throws IOException {
        for (final List<String> command : Docs.launchLines()) {
            final List<String> words = new ArrayList<>(Docs.words(command));
            final int main = modules ? words.indexOf("-m") + 1 : words.indexOf("-cp") + 2;
            if (main > 1 && (modules ? words.contains("-p") : !words.contains("-p"))) {
                words.set(0, Path.of(System.getProperty("java.home"), "bin", "java").toString());
                return words.subList(0, main + 1);
            }
        }
        throw new AssertionError("docs/deployment.md has no " + (modules ? "module" : "class") + "-path launch line");
    }

    private static Child start(final Netns ns, final List<String> java, final String... args) throws IOException {
        final List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns.name()));
        cmd.addAll(java);
        cmd.addAll(List.of(args));
        return Child.start(cmd, project.resolve("target"), Map.of());
    }

    private static void copyTree(final Path from, final Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (final Path p : s.toList()) {
                final Path dest = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(p, dest);
                }
            }
        }
    }

    private static void delete(final Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (final Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}
