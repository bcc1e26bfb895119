package io.bypass.spi;

import io.bypass.BypassException;
import io.bypass.net.Ipv4;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * For backends that leave the interface to the kernel (afxdp, efvi): what the kernel knows
 * about it, read once when a port opens, in the calling thread's network namespace. Index,
 * MAC, first IPv4 address and its prefix, MTU, whether it is up, and the default gateway
 * through it (from {@link #ROUTES}).
 *
 * <p>One error behaviour. A fact the kernel does not have is not an error and reads as 0: no
 * IPv4 address (address and prefix 0), no MAC (a tun device), no default route through the
 * interface (gateway 0). An interface that does not exist, or a source that cannot be read
 * (rtnetlink for the addresses, {@link #ROUTES} for the gateway), throws a
 * {@link BypassException} naming the backend, the interface, the source and the remedy.
 *
 * <pre>{@code
 * final KernelInterface k = KernelInterface.read("afxdp", "eth1");
 * identity(k); // in an AbstractPort: MAC, address, prefix, gateway, MTU
 * }</pre>
 *
 * @param networkInterface the JDK's view of the interface, for multicast joins on a kernel socket
 * @param macAddress       the MAC in the low 48 bits, or 0 if the interface has none
 * @param ipv4Address      the first IPv4 address, big-endian, or 0 if none
 * @param ipv4PrefixLength that address's prefix length, or 0 if no address
 * @param ipv4Gateway      the default gateway through this interface, big-endian, or 0 if none
 * @param mtu              the MTU in bytes (L3)
 * @param up               true if the interface is administratively up
 */
public record KernelInterface(NetworkInterface networkInterface, long macAddress, int ipv4Address, int ipv4PrefixLength,
                              int ipv4Gateway, int mtu, boolean up) {
    /**
     * The IPv4 routing table of the calling thread's namespace: {@code thread-self}, not
     * {@code self}, since a port may be opened on a thread in another namespace than the main thread's.
     */
    public static final Path ROUTES = Path.of("/proc/thread-self/net/route");
    private static final String ZERO = "00000000";

    /**
     * Reads an interface's facts in the calling thread's network namespace.
     *
     * @param backend the backend asking, such as {@code afxdp}; starts every exception message
     * @param name    the interface, such as {@code eth1}
     * @return its facts now
     * @throws BypassException if there is no such interface here, or its addresses or routes cannot be read
     */
    public static KernelInterface read(final String backend, final String name) {
        return read(backend, name, ROUTES);
    }

    static KernelInterface read(final String backend, final String name, final Path routes) {
        final NetworkInterface nif;
        long mac = 0;
        int address = 0;
        int prefix = 0;
        final int mtu;
        final boolean up;
        try {
            nif = NetworkInterface.getByName(name);
            if (nif == null) {
                throw new BypassException(backend + ": no interface '" + name + "' in this network namespace; check "
                    + "'ip link show', or open the port on a thread inside the interface's namespace");
            }
            up = nif.isUp();
            mtu = nif.getMTU();
            final byte[] hw = nif.getHardwareAddress();
            if (hw != null && hw.length == 6) {
                for (final byte b : hw) {
                    mac = (mac << 8) | (b & 0xFF);
                }
            }
            for (final InterfaceAddress a : nif.getInterfaceAddresses()) {
                if (a.getAddress() instanceof Inet4Address v4) {
                    address = Ipv4.fromBytes(v4.getAddress());
                    prefix = a.getNetworkPrefixLength();
                    break;
                }
            }
        } catch (final SocketException e) {
            throw new BypassException(backend + ": cannot read the addresses of " + name + " (rtnetlink): " + e, e);
        }
        final int gateway;
        try {
            gateway = defaultGateway(Files.readAllLines(routes), name);
        } catch (final IOException | NumberFormatException e) {
            throw new BypassException(backend + ": cannot read the default gateway of " + name + " from " + routes + ": " + e
                + "; procfs must be mounted at /proc (Linux 3.17 or newer for thread-self)", e);
        }
        return new KernelInterface(nif, mac, address, prefix, gateway, mtu, up);
    }

    /**
     * The default route's gateway through an interface, from the kernel's route table as
     * {@code /proc/net/route} prints it (a header line, then {@code Iface Destination Gateway
     * Flags ...} with addresses in {@link Ipv4#fromProcHex(String) proc hex}). The first
     * default route through the interface that names a gateway wins.
     *
     * @param routeLines the file's lines
     * @param iface      the interface
     * @return the gateway, or 0 if no default route through {@code iface} names one
     * @throws NumberFormatException if such a route's gateway is not hex
     */
    public static int defaultGateway(final List<String> routeLines, final String iface) {
        for (final String line : routeLines) {
            final String[] f = line.trim().split("\\s+");
            if (f.length > 3 && f[0].equals(iface) && f[1].equals(ZERO) && !f[2].equals(ZERO)) {
                return Ipv4.fromProcHex(f[2]);
            }
        }
        return 0;
    }

    /** @return the interface's name */
    public String name() {
        return networkInterface.getName();
    }

    /** @return the interface index, as {@code if_nametoindex(3)} gives it */
    public int index() {
        return networkInterface.getIndex();
    }

    @Override
    public String toString() {
        return name() + "[index " + index() + ", " + Ipv4.toString(ipv4Address) + "/" + ipv4PrefixLength
            + ", gateway " + Ipv4.toString(ipv4Gateway) + ", mtu " + mtu + (up ? "" : ", down") + "]";
    }
}
