package io.bypass.afxdp;

import io.bypass.BypassUriException;
import io.bypass.PortUri;
import io.bypass.spi.RxBuffering;
import io.bypass.spi.UriParam;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code afxdp:} URI as parsed, without opening anything (no privileges needed): the NIC
 * queue's own key, the old spellings refused naming the new ones, and the receive buffering the
 * backend reports for {@code bypass doctor}.
 */
class AfXdpUriTest {
    private final AfXdpBackendProvider provider = new AfXdpBackendProvider();

    private RxBuffering buffering(final String uri) {
        return provider.rxBuffering(PortUri.parse(uri));
    }

    @Test
    void queueWithoutNicQueueIsRefusedNamingNicQueue() {
        final BypassUriException e = assertThrows(BypassUriException.class, () -> buffering("afxdp:eth0?queue=3"));
        assertTrue(e.getMessage().contains("write nicQueue=3") && e.getMessage().contains("port queue a UDP endpoint uses"),
            e.getMessage());
        // queue=0 means NIC queue 0 under both meanings; with nicQueue given, queue is the port queue.
        buffering("afxdp:eth0?queue=0");
        buffering("afxdp:eth0?nicQueue=2&queues=2&queue=1");
        final BypassUriException range = assertThrows(BypassUriException.class, () -> buffering("afxdp:eth0?nicQueue=250&queues=8"));
        assertTrue(range.getMessage().contains("nicQueue + queues must be at most 256"), range.getMessage());
    }

    @Test
    void oldTtlSpellingsAreRefusedNamingTheNewKeys() {
        final BypassUriException ttl = assertThrows(BypassUriException.class, () -> buffering("afxdp:eth0?ttl=9"));
        assertTrue(ttl.getMessage().contains("unicastTtl") && ttl.getMessage().contains("multicastTtl"), ttl.getMessage());
        final BypassUriException mcast = assertThrows(BypassUriException.class, () -> buffering("afxdp:eth0?mcast_ttl=4"));
        assertTrue(mcast.getMessage().contains("now multicastTtl"), mcast.getMessage());
        buffering("afxdp:eth0?unicastTtl=9&multicastTtl=4");
    }

    @Test
    void rxBufferingFollowsTheStallBudgetAndExplicitRings() {
        final RxBuffering dflt = buffering("afxdp:eth0");
        assertEquals(16384, dflt.frames());
        assertEquals((16384L + 2048) * 4096, dflt.lockedBytesPerQueue(), "RX and TX frames of one queue's UMEM");
        final RxBuffering short10 = buffering("afxdp:eth0?rxStallMs=10");
        assertEquals(2048, short10.frames(), "2,000 frames, rounded up to the smallest ring");
        assertEquals((2048L + 2048) * 4096, short10.lockedBytesPerQueue());
        assertEquals(512, buffering("afxdp:eth0?rxRing=512").frames(), "an explicit ring wins");
        assertEquals(1000 - 500, buffering("afxdp:eth0?frames=1000").frames(), "a small UMEM: half for TX, the rest receives");
    }

    @Test
    void everyAcceptedKeyIsDocumentedOnTheProvider() throws Exception {
        final String doc = Files.readString(Path.of("src/main/java/io/bypass/afxdp/AfXdpBackendProvider.java"));
        for (final UriParam p : provider.uriParams()) {
            assertTrue(doc.contains("{@code " + p.name()), "AfXdpBackendProvider's javadoc does not list URI key " + p.name());
        }
    }
}
