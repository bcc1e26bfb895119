package io.bypass.conformance;

import io.bypass.PortUri;
import io.bypass.net.Ipv4;
import io.bypass.testing.RawSocket;
import io.bypass.testing.Requirements;
import io.bypass.testkit.NetnsExecutor;
import io.bypass.testkit.TestPorts;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every conformance suite stands on: a {@link ConformanceSite} (DUT and peer
 * namespaces) made once per class and removed after it, everything a test opens closed
 * after it, and fresh UDP ports and multicast groups so tests never see each other's
 * traffic. The suites ({@link UdpConformanceSuite}, {@link UdpBehaviourSuite},
 * {@link VlanConformanceSuite}, {@link PortConformanceSuite}) add their tests.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class SiteSuite {
    private final int groupBase;
    private ConformanceSite site;
    private final Deque<AutoCloseable> cleanup = new ArrayDeque<>();
    private final AtomicInteger nextPort = new AtomicInteger(TestPorts.random());
    private final AtomicInteger nextGroup = new AtomicInteger(1 + ThreadLocalRandom.current().nextInt(1000));

    /**
     * @param groupBase first multicast group of this suite's range, so suites run together never share a group
     */
    protected SiteSuite(final int groupBase) {
        this.groupBase = groupBase;
    }

    /**
     * The URI that opens the backend under test on an interface.
     *
     * @param iface the interface inside the DUT namespace (a veth end, or {@code lo})
     * @return such as {@code "nio:" + iface} or {@code "afxdp:" + iface + "?xdp=drv"}
     */
    protected abstract String uriFor(String iface);

    /**
     * @return where to run; {@link ConformanceSite.Kind#VETH} unless overridden
     */
    protected ConformanceSite.Kind siteKind() {
        return ConformanceSite.Kind.VETH;
    }

    /**
     * @return the backend's name, by default the scheme of {@link #uriFor(String)}
     */
    protected String backendName() {
        return PortUri.parse(uriFor("x")).scheme();
    }

    /**
     * Checks the host can run the suite, through {@link Requirements} (skip, or fail
     * under {@code bypass.requireAll}). Default: root, {@code ip}, and the backend
     * available. Override to add more (and call super).
     */
    protected void requireHost() {
        Requirements.requireNetns();
        Requirements.requireBackendAvailable(backendName());
    }

    @BeforeAll
    final void createSite() {
        requireHost();
        site = ConformanceSite.create(siteKind());
    }

    @AfterAll
    final void removeSite() {
        if (site != null) {
            site.close();
        }
    }

    @AfterEach
    final void closeEverything() throws Exception {
        if (site != null) {
            site.closeAll(cleanup);
        }
    }

    /** @return the site the suite runs on */
    protected final ConformanceSite site() {
        return site;
    }

    /**
     * Closes {@code resource} after the test, before the site's namespaces go.
     *
     * @param resource what the test opened
     * @param <T>      its type
     * @return {@code resource}
     */
    protected final <T extends AutoCloseable> T closeAfterTest(final T resource) {
        cleanup.push(resource);
        return resource;
    }

    /**
     * A raw socket on the peer interface; closed after the test.
     *
     * @return the socket
     * @throws Exception if it cannot be opened
     */
    protected final RawSocket peerRaw() throws Exception {
        return closeAfterTest(site.peer().call(() -> RawSocket.open(site.peerIface())));
    }

    /** @return a UDP port not yet used by this suite instance */
    protected final int freshPort() {
        return nextPort.getAndIncrement();
    }

    /** @return a multicast group not yet used by this suite instance */
    protected final int freshGroup() {
        return groupBase + nextGroup.getAndIncrement();
    }

    /**
     * A kernel UDP socket in the peer namespace bound to the peer address, non-blocking,
     * multicast sent out of the peer interface; closed after the test.
     *
     * @param port local port, 0 for any
     * @return the channel
     * @throws Exception if it cannot be opened
     */
    protected final DatagramChannel peerChannel(final int port) throws Exception {
        final DatagramChannel ch = site().peer().call(() -> {
            final DatagramChannel c = DatagramChannel.open(StandardProtocolFamily.INET);
            c.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            c.setOption(StandardSocketOptions.IP_MULTICAST_IF, NetworkInterface.getByName(site().peerIface()));
            // Off: on lo the device itself loops multicast back, and a second local copy would duplicate it.
            c.setOption(StandardSocketOptions.IP_MULTICAST_LOOP, false);
            c.bind(new InetSocketAddress(InetAddress.getByAddress(Ipv4.toBytes(site().peerAddress())), port));
            c.configureBlocking(false);
            return c;
        });
        closeAfterTest(ch);
        return ch;
    }

    /**
     * A kernel socket in the peer namespace that joined {@code group} on the peer interface.
     *
     * @param group the group
     * @param port  the port
     * @return the channel, non-blocking
     * @throws Exception if it cannot
     */
    protected final DatagramChannel peerGroupChannel(final int group, final int port) throws Exception {
        final DatagramChannel ch = site().peer().call(() -> {
            final DatagramChannel c = DatagramChannel.open(StandardProtocolFamily.INET);
            final InetAddress g = InetAddress.getByAddress(Ipv4.toBytes(group));
            c.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            c.bind(new InetSocketAddress(g, port));
            c.join(g, NetworkInterface.getByName(site().peerIface()));
            c.configureBlocking(false);
            return c;
        });
        closeAfterTest(ch);
        return ch;
    }

    /**
     * Runs {@code body} on the DUT namespace's thread, rethrowing what it throws.
     *
     * @param body the test's work
     * @throws Exception what it threw
     */
    protected final void onDut(final NetnsExecutor.ThrowingRunnable body) throws Exception {
        site.dut().run(body);
    }
}
