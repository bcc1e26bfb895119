package io.bypass.samples.cli;

import io.bypass.Counter;
import io.bypass.Counters;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class SummaryDropsTest {
    @Test
    void dropsAreSummedOverEndpointsAndListedByReason() {
        final Counters a = new Counters();
        final Counters b = new Counters();
        a.add(Counter.DROP_RX_RING_FULL, 3);
        b.add(Counter.DROP_RX_RING_FULL, 4);
        b.add(Counter.DROP_BAD_UDP_CHECKSUM, 2);
        a.add(Counter.RX_PACKETS, 100);
        final Map<String, Object> fields = new Summary().drops(a, null, b).fields();
        assertEquals(9L, fields.get("endpoint_drops"));
        final Map<?, ?> drops = (Map<?, ?>) fields.get("drops");
        assertEquals(Map.of("rx_ring_full", 7L, "bad_udp_checksum", 2L), drops);
        assertFalse(drops.containsKey("rx_packets"), "traffic counters are not drops");
    }

    @Test
    void noDropsGiveAnEmptyMapAndZero() {
        final Map<String, Object> fields = new Summary().drops(new Counters()).fields();
        assertEquals(0L, fields.get("endpoint_drops"));
        assertEquals(Map.of(), fields.get("drops"));
    }
}
