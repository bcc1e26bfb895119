package io.bypass.testkit;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** What needs no root; the pair itself is exercised on veth by api's NetnsTest. */
class VethPairTest {
    @Test
    void ipv4RoundTrips() {
        assertEquals(0x0AFB0001, VethPair.ipv4("10.251.0.1"));
        assertEquals("10.251.0.1", VethPair.ipv4(0x0AFB0001));
        assertEquals("255.255.255.255", VethPair.ipv4(-1));
    }

    @Test
    void badAddressesAreRefused() {
        for (final String bad : new String[] {"10.0.0", "10.0.0.256", "10.0.0.x", "10.0.0.1.2", ""}) {
            assertThrows(IllegalArgumentException.class, () -> VethPair.ipv4(bad), bad);
        }
    }

    @Test
    void interfaceNamesLongerThanTheKernelTakesAreRefused() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> VethPair.builder().names("a", "b", "sixteen-chars-xx", "ok"));
        assertEquals("interface name 'sixteen-chars-xx' must be 1 to 15 characters", e.getMessage());
    }

    @Test
    void macsRoundTrip() {
        assertEquals(0x0200DEADBEEFL, Netns.parseMac("02:00:de:ad:be:ef"));
        assertEquals("02:00:de:ad:be:ef", Netns.macToString(0x0200DEADBEEFL));
    }
}
