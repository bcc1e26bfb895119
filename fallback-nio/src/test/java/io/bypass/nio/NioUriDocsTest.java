package io.bypass.nio;

import io.bypass.spi.UriParams;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every URI key {@code nio:} accepts is listed in its provider's javadoc, as each backend's are (issue 13 item 7). */
class NioUriDocsTest {
    @Test
    void everyAcceptedKeyIsDocumentedOnTheProvider() throws Exception {
        final Set<String> keys = UriParams.names(new NioBackendProvider().uriParams());
        assertFalse(keys.isEmpty());
        final String doc = Files.readString(Path.of("src/main/java/io/bypass/nio/NioBackendProvider.java"));
        for (final String k : keys) {
            assertTrue(doc.contains("{@code " + k + "="), "NioBackendProvider's javadoc does not list URI key " + k);
        }
    }
}
