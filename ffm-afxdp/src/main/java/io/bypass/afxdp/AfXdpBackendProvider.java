package io.bypass.afxdp;

import io.bypass.BackendUnavailableException;
import io.bypass.Port;
import io.bypass.PortUri;
import io.bypass.afxdp.internal.AfXdpOptions;
import io.bypass.afxdp.internal.AfXdpPortImpl;
import io.bypass.afxdp.internal.Errno;
import io.bypass.afxdp.internal.Probe;
import io.bypass.spi.BackendProvider;
import io.bypass.spi.Closer;
import io.bypass.spi.PrivilegeNeeds;
import io.bypass.spi.RxBuffering;
import io.bypass.spi.UriParam;
import io.bypass.tcp.L2TcpEndpoint;
import io.bypass.tcp.TcpEndpoint;

import java.util.List;

/**
 * The {@code afxdp:} backend: AF_XDP sockets on any Linux NIC (virtio and veth included),
 * with rings driven from Java and a flow-steering XDP program of our own, so only the
 * flows the application asked for leave the kernel. The program looks up a frame's UDP
 * destination port in an array (no flow on the port, any address, or exactly one address:
 * the common cases, one inlined lookup) and hashes (address, port) only for a port with
 * several addresses; everything else goes to the kernel.
 *
 * <p>TCP ({@link io.bypass.FlowRule#tcp}, {@link io.bypass.FlowRule#tcpListener}): the program steers a
 * connection's 4-tuple, and every segment to a listener's local address and port, past the kernel
 * (which keeps the interface's address and would answer them with a RST); one array lookup by
 * destination port leaves every other TCP segment (SSH, the host's connections) to the kernel. Each
 * TCP rule's local port is reserved in the kernel, as Onload does: a kernel TCP socket bound to it
 * (never listening) is held until the rule is removed or the port closed, and the kernel closes it
 * if the process dies; a connection rule with local port 0 takes the kernel's ephemeral choice.
 * The reserving socket is made in the port's network namespace: from a thread in another one, on a
 * short-lived thread that enters it ({@code setns}, which needs CAP_SYS_ADMIN).
 *
 * <p>A frame a poll hands to the handler goes back to the fill ring at the start of the
 * next poll of that queue, so its bytes stay put until then; the API promises only the
 * handler call.
 *
 * <p>URI: {@code afxdp:IFACE?key=value&...}, the keys declared in {@link AfXdpUriParams}
 * <ul>
 *   <li>{@code nicQueue=N} first NIC queue (default 0); {@code queues=N} how many, sharing one UMEM (default 1).
 *       With several queues, a flow added with {@link Port#addFlow} arrives on whichever queue the
 *       NIC's RSS (or an {@code ethtool -N} rule you add) puts it: AF_XDP cannot move a frame between
 *       queues, so the queue id given to {@code addFlow} is recorded but does not steer</li>
 *   <li>{@code mode=auto|copy|zerocopy} socket bind mode (default auto: zero-copy if the driver has it,
 *       else copy; see {@link AfXdpPort#isZeroCopy()})</li>
 *   <li>{@code xdp=auto|drv|skb} XDP attach mode: native driver, generic (skb), or let the kernel pick (default)</li>
 *   <li>{@code frameSize=2048|4096}, {@code frames=N} UMEM layout; {@code hugepages=true} to back it with huge pages</li>
 *   <li>{@code rxRing}, {@code txRing}, {@code fillRing}, {@code compRing} ring sizes (powers of two; TX and
 *       completion default 2048; RX and fill default to the stall budget, 16384)</li>
 *   <li>{@code rxStallMs=50}, {@code rxStallPps=200000}: the {@linkplain io.bypass.spi.RxStallBudget stall budget}
 *       the RX and fill rings (and the UMEM frames behind them) absorb with no loss</li>
 *   <li>{@code rxBatch=N} most frames one poll takes (default 64); {@code txBatch=N} completions reclaimed per flush</li>
 *   <li>{@code needWakeup=true|false} XDP_USE_NEED_WAKEUP (default true)</li>
 *   <li>{@code busyPoll=USECS}, {@code busyPollBudget=N}: SO_PREFER_BUSY_POLL, SO_BUSY_POLL, SO_BUSY_POLL_BUDGET</li>
 *   <li>{@code vlan=N}: the one {@linkplain io.bypass.spi.PortVlan VLAN} the port takes (1..4094; default 0,
 *       untagged frames only); the XDP program leaves every other VLAN's frames to the kernel, counting
 *       those addressed to our flows as {@code DROP_WRONG_VLAN}</li>
 *   <li>and the UDP layer's ({@link io.bypass.udp.UdpUriParams}): {@code queue} (the port queue an endpoint uses,
 *       0..queues-1; a {@code queue=N} other than 0 without {@code nicQueue} is refused, since {@code queue} named
 *       the NIC queue here before), {@code port}, {@code unicastTtl}, {@code multicastTtl}, {@code igmp}, and
 *       {@code checksum} ({@link io.bypass.net.ChecksumPolicy})</li>
 *   <li>and, for {@code openTcp}, the TCP layer's ({@link io.bypass.tcp.TcpUriParams}): {@code nagle},
 *       {@code delayedAck}, {@code sndbuf}, {@code rcvbuf}, {@code keepAliveMs}, {@code timeWaitMs}</li>
 * </ul>
 *
 * <p>Needs root, or CAP_NET_RAW, CAP_NET_ADMIN, CAP_BPF and CAP_PERFMON given as ambient capabilities
 * (systemd {@code AmbientCapabilities=}, {@code setpriv --ambient-caps}), and CAP_IPC_LOCK or an
 * RLIMIT_MEMLOCK of the UMEM's size ({@link #privilegeNeeds}; see {@code docs/deployment.md}); and
 * libbpf 1.x ({@code apt-get install libbpf1}). Open the port on a thread in the interface's network namespace.
 */
public final class AfXdpBackendProvider implements BackendProvider {
    /** Created by {@link java.util.ServiceLoader}. */
    public AfXdpBackendProvider() {
    }

    @Override
    public String name() {
        return "afxdp";
    }

    @Override
    public int priority() {
        return 200;
    }

    @Override
    public boolean isAvailable() {
        return Probe.cause() == null;
    }

    @Override
    public Throwable unavailabilityCause() {
        return Probe.cause();
    }

    @Override
    public String cannotServe(final PortUri uri) {
        return AfXdpPortImpl.cannotServe(uri);
    }

    /**
     * @param uri an {@code afxdp:} URI
     * @return CAP_NET_RAW, CAP_NET_ADMIN, CAP_BPF, CAP_PERFMON, and the UMEM's bytes locked
     */
    @Override
    public PrivilegeNeeds privilegeNeeds(final PortUri uri) {
        return Errno.needs(new AfXdpOptions(uri).umemBytes());
    }

    @Override
    public Port openPort(final PortUri uri) {
        final Throwable cause = Probe.cause();
        if (cause != null) {
            throw new BackendUnavailableException("afxdp: backend unavailable: " + cause.getMessage(), cause);
        }
        return AfXdpPortImpl.open(uri);
    }

    /**
     * Opens Bypass's own TCP ({@link L2TcpEndpoint}) over an {@code afxdp:} port. The kernel keeps the
     * interface's address, so each listener and connection steers its own flow with the XDP program and
     * reserves its local port in the kernel ({@link Port#addFlow}); the kernel chooses the ephemeral ports.
     *
     * @param uri an {@code afxdp:} URI; the interface needs an IPv4 address
     * @return the endpoint, which closes the port with it
     */
    @Override
    public TcpEndpoint openTcp(final PortUri uri) {
        final Port port = openPort(uri);
        try {
            return new L2TcpEndpoint(port, uri, true);
        } catch (final RuntimeException e) {
            Closer.closeAfterFailure(e, port);
            throw e;
        }
    }

    /** @return {@link AfXdpUriParams#ALL} */
    @Override
    public List<UriParam> uriParams() {
        return AfXdpUriParams.ALL;
    }

    /**
     * @param uri an {@code afxdp:} URI
     * @return the RX and fill rings (from the stall budget unless the URI sizes them) and the UMEM locked per queue
     */
    @Override
    public RxBuffering rxBuffering(final PortUri uri) {
        return new AfXdpOptions(uri).rxBuffering();
    }
}
