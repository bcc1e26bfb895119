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

    /** {@code rcvbuf} is declared in the api, shared with TCP; its UDP default quotes nio's arithmetic, checked here. */
    @Test
    void theSharedRcvbufDeclarationQuotesNiosUdpDefault() {
        final String quoted = "at " + ReceiveBuffer.BYTES_PER_DATAGRAM + " bytes a datagram ("
            + ReceiveBuffer.requestFor(io.bypass.spi.RxStallBudget.defaults()) + ")";
        assertTrue(UriParams.RCVBUF.defaultValue().contains(quoted), UriParams.RCVBUF.defaultValue() + " does not say " + quoted);
    }

    /** A UDP endpoint refuses the TCP keys and a TCP endpoint the UDP ones, each naming the key. */
    @Test
    void udpAndTcpKeysAreRefusedByTheOtherKind() {
        final io.bypass.BypassUriException tcpKeyOnUdp = org.junit.jupiter.api.Assertions.assertThrows(
            io.bypass.BypassUriException.class, () -> io.bypass.Bypass.openUdp("nio:lo?nagle=true"));
        assertTrue(tcpKeyOnUdp.getMessage().contains("nagle"), tcpKeyOnUdp.getMessage());
        final io.bypass.BypassUriException udpKeyOnTcp = org.junit.jupiter.api.Assertions.assertThrows(
            io.bypass.BypassUriException.class, () -> io.bypass.Bypass.openTcp("nio:lo?loop=true"));
        assertTrue(udpKeyOnTcp.getMessage().contains("loop"), udpKeyOnTcp.getMessage());
    }
}
