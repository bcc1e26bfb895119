package io.bypass.net;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NeighbourTableTest {
    private static final long SECOND = 1_000_000_000L;
    private static final int IP = 0x0A00_0002;
    private static final long MAC = 0x02_00_00_00_00_0BL;

    @Test
    void unknownAddressIsSolicitedOncePerRetryInterval() {
        final NeighbourTable table = new NeighbourTable(4, 30 * SECOND, SECOND);
        assertEquals(NeighbourTable.NONE, table.state(IP, 0));
        assertEquals(NeighbourTable.NO_MAC, table.lookup(IP));
        assertTrue(table.trySolicit(IP, 0));
        assertEquals(NeighbourTable.INCOMPLETE, table.state(IP, 0));
        assertEquals(NeighbourTable.NO_MAC, table.lookup(IP));
        assertFalse(table.trySolicit(IP, SECOND - 1), "rate-limited");
        assertTrue(table.trySolicit(IP, SECOND));
        assertFalse(table.trySolicit(IP, SECOND + 1));
        assertFalse(table.trySolicit(0, 0), "0.0.0.0 is never solicited");
    }

    @Test
    void learnedEntryGoesStaleButKeepsItsMac() {
        final NeighbourTable table = new NeighbourTable(4, 30 * SECOND, SECOND);
        table.trySolicit(IP, 0);
        table.learn(IP, MAC, 10);
        assertEquals(MAC, table.lookup(IP));
        assertEquals(NeighbourTable.REACHABLE, table.state(IP, 10));
        assertTrue(table.isFresh(IP, 10 + 30 * SECOND - 1));
        assertFalse(table.trySolicit(IP, 20), "fresh: nothing to ask");
        final long expired = 10 + 30 * SECOND;
        assertEquals(NeighbourTable.STALE, table.state(IP, expired));
        assertFalse(table.isFresh(IP, expired));
        assertEquals(MAC, table.lookup(IP), "stale MAC still used");
        assertTrue(table.trySolicit(IP, expired));
        assertFalse(table.trySolicit(IP, expired + 1));
        table.learn(IP, MAC + 1, expired + 2);
        assertEquals(MAC + 1, table.lookup(IP));
        assertEquals(NeighbourTable.REACHABLE, table.state(IP, expired + 2));
    }

    @Test
    void freshMacIsTheMacOnlyWhileNoRequestIsNeeded() {
        final NeighbourTable table = new NeighbourTable(4, 30 * SECOND, SECOND);
        assertEquals(NeighbourTable.NO_MAC, table.freshMac(IP, 0), "unknown");
        assertEquals(NeighbourTable.NO_MAC, table.freshMac(0, 0), "0.0.0.0");
        table.trySolicit(IP, 0);
        assertEquals(NeighbourTable.NO_MAC, table.freshMac(IP, 1), "incomplete");
        table.learn(IP, MAC, 10);
        assertEquals(MAC, table.freshMac(IP, 10 + 30 * SECOND - 1), "reachable");
        assertEquals(NeighbourTable.NO_MAC, table.freshMac(IP, 10 + 30 * SECOND), "stale: its MAC is lookup's, with a request");
        assertEquals(MAC, table.lookup(IP));
        table.putStatic(IP + 1, MAC + 1);
        assertEquals(MAC + 1, table.freshMac(IP + 1, Long.MAX_VALUE), "static");
        for (long t = 0; t < 60 * SECOND; t += SECOND / 3) {
            assertEquals(table.isFresh(IP, t), table.freshMac(IP, t) != NeighbourTable.NO_MAC, "as isFresh at " + t);
        }
    }

    @Test
    void staticEntriesNeverChange() {
        final NeighbourTable table = new NeighbourTable();
        table.putStatic(IP, MAC);
        table.learn(IP, MAC + 1, 0);
        assertFalse(table.refresh(IP, MAC + 1, 0));
        assertEquals(MAC, table.lookup(IP));
        assertEquals(NeighbourTable.STATIC, table.state(IP, Long.MAX_VALUE));
        assertFalse(table.trySolicit(IP, Long.MAX_VALUE));
        assertTrue(table.isFresh(IP, Long.MAX_VALUE));
        assertThrows(IllegalArgumentException.class, () -> table.putStatic(0, MAC));
    }

    @Test
    void refreshOnlyUpdatesExisting() {
        final NeighbourTable table = new NeighbourTable();
        assertFalse(table.refresh(IP, MAC, 0));
        assertEquals(0, table.size());
        table.learn(IP, MAC, 0);
        assertTrue(table.refresh(IP, MAC + 1, 0));
        assertEquals(MAC + 1, table.lookup(IP));
    }

    @Test
    void behavesLikeAMapUnderGrowthAndRemoval() {
        final NeighbourTable table = new NeighbourTable(2, SECOND, SECOND);
        final Map<Integer, Long> reference = new HashMap<>();
        final Random random = new Random(3);
        for (int i = 0; i < 50_000; i++) {
            final int ip = 1 + random.nextInt(500); // many collisions in a small key space
            if (random.nextInt(3) == 0) {
                assertEquals(reference.remove(ip) != null, table.remove(ip));
            } else {
                final long mac = random.nextLong() & Mac.MASK;
                table.learn(ip, mac, 0);
                reference.put(ip, mac);
            }
            assertEquals(reference.size(), table.size());
        }
        for (int ip = 1; ip <= 500; ip++) {
            assertEquals(reference.getOrDefault(ip, NeighbourTable.NO_MAC), table.lookup(ip), "ip " + ip);
        }
        table.clear();
        assertEquals(0, table.size());
        assertEquals(NeighbourTable.NO_MAC, table.lookup(1));
    }

    @Test
    void rejectsBadSettings() {
        assertThrows(IllegalArgumentException.class, () -> new NeighbourTable(0, SECOND, SECOND));
        assertThrows(IllegalArgumentException.class, () -> new NeighbourTable(1, 0, SECOND));
    }
}
