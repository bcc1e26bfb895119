package io.bypass.samples.pingpong;

import io.bypass.udp.UdpDestination;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

/** {@link DestinationCache}: reuse per client, and the warm-up's stale entries. */
class DestinationCacheTest {
    private static final int HOST = 0x0A000001;

    @Test
    void eachClientKeepsItsDestinationBesideTheOthers() {
        final DestinationCache cache = new DestinationCache(4);
        final UdpDestination first = cache.get(HOST, 5000);
        final UdpDestination second = cache.get(HOST, 5001);
        final UdpDestination otherHost = cache.get(HOST + 1, 5000);
        assertNotSame(first, second);
        assertSame(first, cache.get(HOST, 5000));
        assertSame(second, cache.get(HOST, 5001));
        assertSame(otherHost, cache.get(HOST + 1, 5000));
        assertEquals(5001, second.port());
        assertEquals(HOST + 1, otherHost.address());
    }

    /**
     * The warm-up's one sender finds its entry stale every {@code forgetEvery} lookups, another port's or another
     * host's in turn, so the lookups pass over entries that do not match and then miss, as a live server's new client does.
     */
    @Test
    void aWarmUpCacheMakesItsEntriesStaleEveryForgetEveryLookups() {
        final DestinationCache cache = new DestinationCache(4, 3);
        final UdpDestination a = cache.get(HOST, 5000);
        assertSame(a, cache.get(HOST, 5000));
        final UdpDestination b = cache.get(HOST, 5000); // the third lookup: a's entry now has another host
        assertNotSame(a, b);
        assertEquals(HOST, b.address());
        assertEquals(5000, b.port());
        assertEquals(2, cache.entries(), "a's entry is kept, stale, for the lookups to pass over");
        assertSame(b, cache.get(HOST, 5000));
        assertSame(b, cache.get(HOST, 5000));
        final UdpDestination c = cache.get(HOST, 5000); // the sixth: every entry now has another port
        assertNotSame(b, c);
        assertNotSame(a, c);
        assertSame(c, cache.get(HOST, 5000));
        assertEquals(3, cache.entries());
    }
}
