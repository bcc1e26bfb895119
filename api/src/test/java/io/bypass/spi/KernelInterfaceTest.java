package io.bypass.spi;

import io.bypass.BypassException;
import io.bypass.net.Ipv4;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel's facts about an interface, read one way for every backend: the route table
 * parsed from sample text, the loopback interface read for real, and the two errors.
 */
class KernelInterfaceTest {
    /** {@code /proc/net/route} as the kernel prints it: default via 10.0.0.1 on eth1, via 192.168.2.1 on eth0. */
    private static final List<String> ROUTES = List.of(
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
        "eth0\t00000000\t" + proc("192.168.2.1") + "\t0003\t0\t0\t100\t00000000\t0\t0\t0",
        "eth1\t" + proc("10.0.0.0") + "\t00000000\t0001\t0\t0\t0\t" + proc("255.255.255.0") + "\t0\t0\t0",
        "eth1\t00000000\t00000000\t0001\t0\t0\t50\t00000000\t0\t0\t0",
        "eth1\t00000000\t" + proc("10.0.0.1") + "\t0003\t0\t0\t100\t00000000\t0\t0\t0",
        "eth2\t00000000",
        "");

    /** An address as the kernel prints it in the file: the 32-bit word as it lies in memory. */
    private static String proc(final String address) {
        final int a = Ipv4.parse(address);
        return String.format("%08X", ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? Integer.reverseBytes(a) : a);
    }

    @Test
    void theDefaultRouteThroughTheInterfaceThatNamesAGatewayWins() {
        assertEquals("0100000A", ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? proc("10.0.0.1") : "0100000A");
        assertEquals(Ipv4.parse("10.0.0.1"), KernelInterface.defaultGateway(ROUTES, "eth1"),
            "the subnet route and the default route without a gateway are passed over");
        assertEquals(Ipv4.parse("192.168.2.1"), KernelInterface.defaultGateway(ROUTES, "eth0"));
    }

    @Test
    void noDefaultRouteThroughTheInterfaceIsGatewayZero() {
        assertEquals(0, KernelInterface.defaultGateway(ROUTES, "eth2"), "a cut line is not a route");
        assertEquals(0, KernelInterface.defaultGateway(ROUTES, "eth9"));
        assertEquals(0, KernelInterface.defaultGateway(List.of(), "eth1"));
        assertEquals(0, KernelInterface.defaultGateway(ROUTES, "Iface"), "the header is not a route");
    }

    @Test
    void readsTheLoopbackInterface() {
        final KernelInterface lo = KernelInterface.read("test", "lo");
        assertEquals("lo", lo.name());
        assertTrue(lo.index() > 0, lo.toString());
        assertEquals(Ipv4.parse("127.0.0.1"), lo.ipv4Address(), lo.toString());
        assertEquals(8, lo.ipv4PrefixLength(), lo.toString());
        assertEquals(0, lo.macAddress(), "loopback has no MAC");
        assertTrue(lo.mtu() >= 1500, lo.toString());
        assertEquals("lo", lo.networkInterface().getName());
    }

    @Test
    void aMissingInterfaceIsNamedWithTheRemedy() {
        final BypassException e = assertThrows(BypassException.class, () -> KernelInterface.read("test", "nosuch0"));
        assertTrue(e.getMessage().startsWith("test: no interface 'nosuch0' in this network namespace")
            && e.getMessage().contains("ip link show"), e.getMessage());
    }

    @Test
    void anUnreadableRouteTableNamesTheFileAndTheInterface() {
        final Path missing = Path.of("/nonexistent-proc/net/route");
        final BypassException e = assertThrows(BypassException.class, () -> KernelInterface.read("test", "lo", missing));
        assertTrue(e.getMessage().contains("default gateway of lo from " + missing)
            && e.getMessage().contains("procfs must be mounted"), e.getMessage());
    }
}
