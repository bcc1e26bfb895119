package io.bypass.dpdk.internal;

import io.bypass.BypassException;
import io.bypass.Capability;
import io.bypass.dpdk.DpdkContext;
import io.bypass.dpdk.DpdkPortSettings;
import io.bypass.dpdk.internal.gen.Eal;
import io.bypass.dpdk.internal.gen.Ethdev;
import io.bypass.dpdk.internal.gen.Mbuf;
import io.bypass.dpdk.internal.gen.rte_eth_conf;
import io.bypass.dpdk.internal.gen.rte_eth_dev_info;
import io.bypass.dpdk.internal.gen.rte_eth_rss_conf;
import io.bypass.dpdk.internal.gen.rte_eth_rxmode;
import io.bypass.dpdk.internal.gen.rte_eth_txmode;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Brings a probed device up: configures it (queues, RSS, MTU, UDP checksum offload), makes its
 * mempool, sets up and starts its queues, puts back the receive modes the kernel interface had
 * and turns on those the URI asks for, and reads its MAC and MTU. What it did is recorded in the
 * {@link DpdkDevice} as it goes, so a failure part-way is undone by {@link DeviceClose}.
 */
final class DeviceStart {
    private static final AtomicInteger POOL_SEQUENCE = new AtomicInteger();

    /**
     * What the started device offers, for the port to publish.
     *
     * @param capabilities what it can do
     * @param macAddress   its MAC
     * @param mtu          its MTU
     * @param rxQueues     its RX queues
     * @param txQueues     its TX queues
     */
    record Started(Set<Capability> capabilities, long macAddress, int mtu, DpdkRxQueue[] rxQueues, DpdkTxQueue[] txQueues) {
    }

    private DeviceStart() {
    }

    /**
     * Starts the device; on the opening thread, whose network namespace is the interface's.
     *
     * @param dev  the probed device
     * @param ctx  the port's concluded settings
     * @param port the port its queues belong to
     * @return what the port publishes
     * @throws BypassException naming the failed call and a remedy
     */
    static Started start(final DpdkDevice dev, final DpdkContext ctx, final DpdkPortImpl port) {
        final DpdkPortSettings settings = ctx.port();
        final short portId = dev.portId;
        final Arena arena = dev.arena;
        final int nRx = settings.rxQueues();
        final int nTx = settings.txQueues();
        final int mtuParam = settings.mtu();
        // Before rte_eth_dev_start, which clears them, and on the opening thread, whose network
        // namespace is the interface's.
        dev.kernelFlagsAtOpen = dev.kernelIface == null ? -1 : KernelLinkFlags.of(dev.kernelIface);
        final MemorySegment info = rte_eth_dev_info.allocate(arena);
        dev.check(Ethdev.rte_eth_dev_info_get(portId, info), "rte_eth_dev_info_get");
        final int maxRx = rte_eth_dev_info.max_rx_queues(info) & 0xFFFF;
        final int maxTx = rte_eth_dev_info.max_tx_queues(info) & 0xFFFF;
        if (nRx > maxRx || nTx > maxTx) {
            throw new BypassException("dpdk: " + dev.name + " has at most " + maxRx + " RX and " + maxTx + " TX queues, "
                + "asked for rxQueues=" + nRx + " txQueues=" + nTx + "; lower them (for net_af_xdp/net_af_packet also raise "
                + "the devargs' queue_count=/qpairs= and the interface's channels: ethtool -L)");
        }
        final long txCapa = rte_eth_dev_info.tx_offload_capa(info);
        final long rxCapa = rte_eth_dev_info.rx_offload_capa(info);
        final long rssCapa = rte_eth_dev_info.flow_type_rss_offloads(info);
        final EnumSet<Capability> caps = EnumSet.of(Capability.L2_FRAMES, Capability.ZERO_COPY_RX, Capability.ZERO_COPY_TX,
            Capability.MULTICAST);

        final MemorySegment conf = rte_eth_conf.allocate(arena);
        final long rxmode = rte_eth_conf.rxmode$offset();
        final long txmode = rte_eth_conf.txmode$offset();
        if (nRx > 1) {
            conf.set(ValueLayout.JAVA_INT, rxmode + rte_eth_rxmode.mq_mode$offset(), Ethdev.RTE_ETH_MQ_RX_RSS());
            final long rssHf = (Ethdev.RTE_ETH_RSS_IP() | Ethdev.RTE_ETH_RSS_UDP()) & rssCapa;
            conf.set(ValueLayout.JAVA_LONG, rte_eth_conf.rx_adv_conf$offset() + rte_eth_conf.rx_adv_conf.rss_conf$offset()
                + rte_eth_rss_conf.rss_hf$offset(), rssHf);
        }
        if (mtuParam > 0) {
            conf.set(ValueLayout.JAVA_INT, rxmode + rte_eth_rxmode.mtu$offset(), mtuParam);
        }
        // UDP checksum offload only where the PMD does it; the TX queue then marks each UDP/IPv4 mbuf.
        final long wantTx = Ethdev.RTE_ETH_TX_OFFLOAD_UDP_CKSUM();
        if ((txCapa & wantTx) == wantTx) {
            dev.txOffloads = wantTx;
            conf.set(ValueLayout.JAVA_LONG, txmode + rte_eth_txmode.offloads$offset(), dev.txOffloads);
            caps.add(Capability.TX_CHECKSUM_OFFLOAD);
        }
        // RX checksum verdicts where the PMD gives them: the UDP layer then skips its own sum.
        final long wantRx = Ethdev.RTE_ETH_RX_OFFLOAD_IPV4_CKSUM() | Ethdev.RTE_ETH_RX_OFFLOAD_UDP_CKSUM();
        if ((rxCapa & wantRx) == wantRx) {
            dev.rxOffloads = wantRx;
            conf.set(ValueLayout.JAVA_LONG, rxmode + rte_eth_rxmode.offloads$offset(), dev.rxOffloads);
            caps.add(Capability.RX_CHECKSUM_VERDICT);
        }
        if (nRx > 1 || nTx > 1) {
            caps.add(Capability.MULTI_QUEUE);
        }
        dev.check(Ethdev.rte_eth_dev_configure(portId, (short) nRx, (short) nTx, conf), "rte_eth_dev_configure(" + nRx + " rx, "
            + nTx + " tx queues" + (mtuParam > 0 ? ", mtu " + mtuParam : "") + ")");
        dev.configured = true;

        final MemorySegment rxDescSeg = arena.allocate(ValueLayout.JAVA_SHORT);
        final MemorySegment txDescSeg = arena.allocate(ValueLayout.JAVA_SHORT);
        rxDescSeg.set(ValueLayout.JAVA_SHORT, 0, (short) ctx.rxDesc());
        txDescSeg.set(ValueLayout.JAVA_SHORT, 0, (short) ctx.txDesc());
        dev.check(Ethdev.rte_eth_dev_adjust_nb_rx_tx_desc(portId, rxDescSeg, txDescSeg), "rte_eth_dev_adjust_nb_rx_tx_desc");
        final int rxDesc = rxDescSeg.get(ValueLayout.JAVA_SHORT, 0) & 0xFFFF;
        final int txDesc = txDescSeg.get(ValueLayout.JAVA_SHORT, 0) & 0xFFFF;

        int socket = Ethdev.rte_eth_dev_socket_id(portId);
        if (socket < 0) {
            socket = Eal.SOCKET_ID_ANY();
        }
        final int burst = ctx.burst();
        createMempool(dev, ctx, nRx * rxDesc + nTx * (txDesc + 3 * burst), socket);
        setUpQueues(dev, nRx, rxDesc, nTx, txDesc, socket);
        dev.check(Ethdev.rte_eth_dev_start(portId), "rte_eth_dev_start");
        dev.started = true;
        setReceiveModes(dev, settings.promiscuous(), settings.allMulticast());

        final MemorySegment mac = arena.allocate(8);
        dev.check(Ethdev.rte_eth_macaddr_get(portId, mac), "rte_eth_macaddr_get");
        long m = 0;
        for (int i = 0; i < 6; i++) {
            m = (m << 8) | (mac.get(ValueLayout.JAVA_BYTE, i) & 0xFF);
        }
        final MemorySegment mtuSeg = arena.allocate(ValueLayout.JAVA_SHORT);
        final int mtu = Ethdev.rte_eth_dev_get_mtu(portId, mtuSeg) == 0 ? mtuSeg.get(ValueLayout.JAVA_SHORT, 0) & 0xFFFF
            : (mtuParam > 0 ? mtuParam : 1500);

        final int dataRoom = Mbuf.RTE_MBUF_DEFAULT_BUF_SIZE() - Mbuf.RTE_PKTMBUF_HEADROOM();
        final int maxFrame = Math.min(dataRoom, mtu + 14 + 4);
        // The queues' burst arrays are passed to a downcall on every burst. Segments of a shared arena would cost
        // two atomic operations per downcall (keeping the arena alive during the call); an automatic arena's
        // cost nothing, and the garbage collector frees them once the closed port is unreachable.
        final Arena queueArena = Arena.ofAuto();
        final DpdkRxQueue[] rxQueues = new DpdkRxQueue[nRx];
        for (int q = 0; q < nRx; q++) {
            rxQueues[q] = new DpdkRxQueue(port, portId, q, burst, queueArena, dev.rxOffloads != 0);
        }
        final DpdkTxQueue[] txQueues = new DpdkTxQueue[nTx];
        for (int q = 0; q < nTx; q++) {
            txQueues[q] = new DpdkTxQueue(port, portId, q, burst, Math.max(burst, txDesc), maxFrame, dev.mempool, dev.txOffloads,
                queueArena);
        }
        return new Started(caps, m, mtu, rxQueues, txQueues);
    }

    /**
     * Sizes the mempool for every descriptor of every ring and each TX queue's stash and pending list
     * ({@code descriptors}), the lcore caches, and slack, unless the URI sizes it.
     */
    private static void createMempool(final DpdkDevice dev, final DpdkContext ctx, final int descriptors, final int socket) {
        final int needed = descriptors + 2 * ctx.mbufCache() + 1024;
        // At least 2^13-1 (a full mempool ring); above that exactly what is needed, since a
        // stall-budget-sized RX ring would double to a mostly idle 2^15-1 otherwise.
        final int mbufs = ctx.mbufs() > 0 ? ctx.mbufs() : Math.max(8191, needed);
        final int cache = Math.min(ctx.mbufCache(), mbufs / 2);
        final String poolName = "bypass_" + POOL_SEQUENCE.incrementAndGet() + "_" + (ProcessHandle.current().pid() % 100000);
        dev.mempool = Mbuf.rte_pktmbuf_pool_create(dev.arena.allocateFrom(poolName), mbufs, cache, (short) 0,
            (short) Mbuf.RTE_MBUF_DEFAULT_BUF_SIZE(), socket);
        if (dev.mempool.equals(MemorySegment.NULL)) {
            final int err = Rte.errno();
            dev.mempool = MemorySegment.NULL;
            throw new BypassException("dpdk: rte_pktmbuf_pool_create(" + poolName + ", " + mbufs + " mbufs of "
                + Mbuf.RTE_MBUF_DEFAULT_BUF_SIZE() + " bytes) failed: " + Rte.strerror(err) + "; lower mbufs= or raise the "
                + "EAL memory (memory=MB, running: " + String.join(" ", EalRuntime.arguments()) + ")");
        }
    }

    private static void setUpQueues(final DpdkDevice dev, final int nRx, final int rxDesc, final int nTx, final int txDesc,
                                    final int socket) {
        for (int q = 0; q < nRx; q++) {
            final int rc = Ethdev.rte_eth_rx_queue_setup(dev.portId, (short) q, (short) rxDesc, socket, MemorySegment.NULL,
                dev.mempool);
            if (rc < 0 && dev.isAfXdp()) {
                // DPDK 22.11's net_af_xdp frees the queue's UMEM on this failure but keeps a pointer to it, and
                // rte_eth_dev_close (also run by device removal) then frees it again and crashes the process.
                // So the half-configured device is abandoned: never closed or removed, its name stays taken.
                dev.abandoned = true;
                throw new BypassException("dpdk: rte_eth_rx_queue_setup(queue " + q + ", " + rxDesc + " descriptors) on "
                    + dev.name + " failed: " + Rte.strerror(rc) + "; is another AF_XDP socket or XDP program on this "
                    + "interface queue (ip link show; the EAL log on stderr says more)? The half-configured " + dev.name
                    + " stays allocated in this process (DPDK 22.11 crashes closing it), so open the next port under "
                    + "another vdev name" + DpdkPrivileges.privilegeRemedy(dev.name));
            }
            dev.check(rc, "rte_eth_rx_queue_setup(queue " + q + ", " + rxDesc + " descriptors)");
        }
        for (int q = 0; q < nTx; q++) {
            dev.check(Ethdev.rte_eth_tx_queue_setup(dev.portId, (short) q, (short) txDesc, socket, MemorySegment.NULL),
                "rte_eth_tx_queue_setup(queue " + q + ", " + txDesc + " descriptors)");
        }
    }

    /**
     * rte_eth_dev_start has just cleared the kernel interface's PROMISC and ALLMULTI (it restores
     * DPDK's own state, off): a mode the interface had before is put back, and not turned off at close.
     */
    private static void setReceiveModes(final DpdkDevice dev, final boolean promisc, final boolean allmulti) {
        if (dev.kernelHad(KernelLinkFlags.PROMISC)) {
            dev.check(Ethdev.rte_eth_promiscuous_enable(dev.portId), "rte_eth_promiscuous_enable (the interface was promiscuous)");
        }
        if (dev.kernelHad(KernelLinkFlags.ALLMULTI)) {
            dev.check(Ethdev.rte_eth_allmulticast_enable(dev.portId), "rte_eth_allmulticast_enable (the interface was all-multicast)");
        }
        if (promisc && !dev.kernelHad(KernelLinkFlags.PROMISC)) {
            dev.check(Ethdev.rte_eth_promiscuous_enable(dev.portId), "rte_eth_promiscuous_enable");
            dev.promiscuous = true;
        }
        if (allmulti && !dev.kernelHad(KernelLinkFlags.ALLMULTI)) {
            dev.check(Ethdev.rte_eth_allmulticast_enable(dev.portId), "rte_eth_allmulticast_enable");
            dev.allMulticast = true;
        }
    }
}
