package io.bypass.deployment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bin/bypass} with {@code BYPASS_AOT_CACHE}: the first run trains and writes JDK 25's AOT cache, the next
 * opens it (the JVM's own {@code -Xlog:aot} says so), both runs do their job (a feed on {@code nio:lo}), and a
 * cache older than the jars is trained again.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class LauncherAotCacheTest {
    @Test
    void firstRunWritesTheCacheAndTheNextOpensIt(@TempDir final Path dir) throws Exception {
        final Path cache = dir.resolve("bypass.aot");
        final List<String> feed = List.of(Docs.root().resolve("bin/bypass").toString(), "feed", "--uri", "nio:lo",
            "--duration", "300ms", "--quiet", "--json");
        try (Child training = Child.start(feed, dir, Map.of("BYPASS_AOT_CACHE", cache.toString()))) {
            assertEquals(0, training.await(120), training.output());
            assertTrue(training.output().contains("training run: writing the AOT cache"), training.output());
            assertTrue(training.output().contains("\"command\":\"feed\""), training.output());
        }
        assertTrue(Files.size(cache) > 1_000_000, "the cache is written: " + Files.size(cache) + " bytes");
        try (Child run = Child.start(feed, dir, Map.of("BYPASS_AOT_CACHE", cache.toString(), "BYPASS_JAVA_OPTS", "-Xlog:aot=info"))) {
            assertEquals(0, run.await(60), run.output());
            assertTrue(run.output().contains("Opened AOT cache " + cache), run.output());
            assertTrue(run.output().contains("\"command\":\"feed\""), run.output());
        }
        // A cache older than the jars (a rebuild since) is trained again rather than offered to the JVM.
        Files.setLastModifiedTime(cache, java.nio.file.attribute.FileTime.fromMillis(0));
        try (Child stale = Child.start(feed, dir, Map.of("BYPASS_AOT_CACHE", cache.toString()))) {
            assertEquals(0, stale.await(120), stale.output());
            assertTrue(stale.output().contains("older than the jars: training it again"), stale.output());
        }
        assertTrue(Files.getLastModifiedTime(cache).toMillis() > 0, "written again");
    }
}
