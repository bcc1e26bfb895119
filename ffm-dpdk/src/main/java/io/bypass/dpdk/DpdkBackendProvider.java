package io.bypass.dpdk;

import io.bypass.BackendUnavailableException;
import io.bypass.Port;
import io.bypass.PortUri;
import io.bypass.dpdk.internal.DpdkPortImpl;
import io.bypass.dpdk.internal.DpdkPrivileges;
import io.bypass.dpdk.internal.EalRuntime;
import io.bypass.dpdk.internal.NativeLibraries;
import io.bypass.spi.BackendProvider;
import io.bypass.spi.Closer;
import io.bypass.spi.PrivilegeNeeds;
import io.bypass.spi.RxBuffering;
import io.bypass.spi.UriParam;
import io.bypass.tcp.L2TcpEndpoint;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.udp.UdpEndpoint;

import java.util.List;

/**
 * The {@code dpdk:} backend: DPDK ethdev ports driven through FFM, with mbufs read and
 * written in place and a tiny C shim for DPDK's inline burst functions. DPDK owns the port,
 * so the shared UDP layer answers ARP for the configured address, resolves peers and sends
 * IGMP reports itself.
 *
 * <p>URI: {@code dpdk:DEVARGS?key=value&...}, where DEVARGS is a virtual device with its
 * arguments or a PCI address, and the keys are declared in {@link DpdkUriParams}:
 * <pre>
 * dpdk:net_af_xdp0,iface=eth1?ip=10.0.0.1/24
 * dpdk:net_af_packet0,iface=eth1?ip=10.0.0.1/24&amp;gateway=10.0.0.254
 * dpdk:0000:03:00.0?ip=10.0.0.1/24&amp;rxQueues=4&amp;txQueues=4
 * </pre>
 * <ul>
 *   <li>{@code ip=A.B.C.D/NN}, {@code gateway=A.B.C.D}: the port's address (required for UDP) and default route</li>
 *   <li>{@code rxQueues=N}, {@code txQueues=N}: queues (RSS over IP/UDP when more than one RX queue), default 1</li>
 *   <li>{@code rxDesc}, {@code txDesc}: ring sizes (RX defaults to the stall budget, 16384, clamped by the PMD,
 *       except on {@code net_af_packet} and {@code net_af_xdp}, whose buffering is elsewhere: 1024;
 *       TX 1024); {@code burst}: frames per rx burst (64)</li>
 *   <li>{@code rxStallMs=50}, {@code rxStallPps=200000}: the {@linkplain io.bypass.spi.RxStallBudget stall budget}
 *       the RX descriptors (and, for {@code net_af_packet}, its {@code framecnt} kernel ring unless the devargs
 *       give one) absorb with no loss</li>
 *   <li>{@code mbufs}, {@code mbufCache}: mempool size (default: from the rings) and per-lcore cache (256)</li>
 *   <li>{@code promisc}, {@code allmulti}: true|false (default false); {@code mtu}: bytes</li>
 *   <li>TCP ({@link io.bypass.tcp.TcpUriParams}, Bypass's own TCP, {@link L2TcpEndpoint}): {@code nagle=false},
 *       {@code delayedAck=false}, {@code keepAliveMs=0}, {@code timeWaitMs=10}, {@code sndbuf=}/{@code rcvbuf=} bytes of
 *       each connection's send and receive rings (1 MiB)</li>
 *   <li>EAL, once per process: {@code lcores} (EAL --lcores, default one lcore floating on all allowed CPUs),
 *       {@code prefix} (--file-prefix, default private and --in-memory), {@code hugepages=true|false}
 *       (default: if any are free), {@code memory} (-m MB)</li>
 *   <li>and the UDP layer's ({@link io.bypass.udp.UdpUriParams}): {@code queue} (0..rxQueues-1), {@code port},
 *       {@code unicastTtl}, {@code multicastTtl}, {@code igmp}, {@code checksum} ({@link io.bypass.net.ChecksumPolicy}),
 *       and {@code vlan} (the one
 *       {@linkplain io.bypass.spi.PortVlan VLAN} taken and sent on, default untagged)</li>
 * </ul>
 *
 * <p>Opening a port keeps your thread's CPU affinity: the EAL pins the thread that starts it
 * (the first port's opener) to its main lcore's CPUs, and Bypass restores the affinity that
 * thread had, so a polling thread pinned before the open stays pinned (see {@link DpdkContext}).
 *
 * <p>net_af_xdp attaches its own XDP program ({@code xsk_def_prog}, by netlink, without a
 * bpf_link) and detaches it on {@link Port#close()}. A JVM killed with an open port (SIGKILL,
 * or a crash: no close, no shutdown hook) leaves that program attached. Opening net_af_xdp on
 * an interface that has an XDP program no port of this process attached is refused with a
 * message naming the program, because it cannot be told apart from a live process's; if
 * nothing needs it, remove it with {@code ip link set dev IFACE xdp off} (in the interface's
 * network namespace) and open again. Stop applications with SIGTERM so they can close.
 *
 * <p>Open a vdev port on a thread inside the network namespace of its interface: the device is
 * probed on the opening thread. Needs root or, per device, the capabilities {@link #privilegeNeeds}
 * lists (net_af_packet: CAP_NET_RAW, CAP_NET_ADMIN and locked memory for its rings; net_af_xdp:
 * CAP_NET_RAW, CAP_NET_ADMIN, CAP_SYS_ADMIN and CAP_IPC_LOCK; see {@code docs/deployment.md}),
 * and the DPDK 22.11 runtime ({@code apt-get install dpdk}).
 */
public final class DpdkBackendProvider implements BackendProvider {
    /** Created by {@link java.util.ServiceLoader}. */
    public DpdkBackendProvider() {
    }

    /**
     * Starts the process's DPDK environment (EAL) now with {@code context}, whose settings also
     * become the defaults of every port. Optional: the first port otherwise starts it from its URI.
     * Call once, before the first port opens.
     *
     * @param context the settings; concluded here
     * @throws io.bypass.BypassException if the EAL cannot start, or already runs with other settings
     */
    public static void initialiseEal(final DpdkContext context) {
        final Throwable cause = NativeLibraries.cause();
        if (cause != null) {
            throw new BackendUnavailableException("dpdk: backend unavailable: " + cause.getMessage(), cause);
        }
        EalRuntime.start(context.conclude());
    }

    @Override
    public String name() {
        return "dpdk";
    }

    @Override
    public int priority() {
        return 300;
    }

    @Override
    public boolean isAvailable() {
        return NativeLibraries.cause() == null;
    }

    @Override
    public Throwable unavailabilityCause() {
        return NativeLibraries.cause();
    }

    @Override
    public String cannotServe(final PortUri uri) {
        return DpdkPortImpl.cannotServe(uri);
    }

    /** @return {@link DpdkUriParams#ALL} */
    @Override
    public List<UriParam> uriParams() {
        return DpdkUriParams.ALL;
    }

    /**
     * @param uri a {@code dpdk:} URI
     * @return where the port buffers what arrives during a stall: RX descriptors, net_af_packet's {@code framecnt}
     *         ring, or net_af_xdp's cap of {@value DpdkContext#AF_XDP_PMD_BUFFERS}
     */
    @Override
    public RxBuffering rxBuffering(final PortUri uri) {
        return EalRuntime.defaults().withUri(uri).conclude().rxBuffering();
    }

    /**
     * @param uri a {@code dpdk:} URI
     * @return what a port on its device needs (measured for net_af_packet and net_af_xdp; see DpdkPrivileges)
     */
    @Override
    public PrivilegeNeeds privilegeNeeds(final PortUri uri) {
        return DpdkPrivileges.needs(uri);
    }

    @Override
    public Port openPort(final PortUri uri) {
        final Throwable cause = NativeLibraries.cause();
        if (cause != null) {
            throw new BackendUnavailableException("dpdk: backend unavailable: " + cause.getMessage(), cause);
        }
        return DpdkPortImpl.open(uri);
    }

    @Override
    public UdpEndpoint openUdp(final PortUri uri) {
        DpdkPortImpl.requireIpForUdp(uri);
        return BackendProvider.super.openUdp(uri);
    }

    /**
     * Bypass's own TCP ({@link L2TcpEndpoint}) over the port: DPDK owns the NIC, so the kernel never
     * sees our flows and needs no steering; the URI needs {@code ip=}, as for UDP.
     */
    @Override
    public TcpEndpoint openTcp(final PortUri uri) {
        DpdkPortImpl.requireIpForUdp(uri);
        final Port port = openPort(uri);
        try {
            return new L2TcpEndpoint(port, uri, true);
        } catch (final RuntimeException e) {
            Closer.closeAfterFailure(e, port);
            throw e;
        }
    }
}
