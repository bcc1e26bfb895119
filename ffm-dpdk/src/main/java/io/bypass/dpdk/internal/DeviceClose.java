package io.bypass.dpdk.internal;

import io.bypass.BypassException;
import io.bypass.dpdk.internal.gen.Ethdev;
import io.bypass.dpdk.internal.gen.Mbuf;
import io.bypass.spi.Closer;

import java.lang.foreign.MemorySegment;

/**
 * Closes a port's device: the last statistics, the TX queues' mbufs, the receive modes the port
 * turned on, stop, close, device removal, the AF_XDP sockets net_af_xdp leaves open, the mempool.
 * Every step runs even if one fails; the failures are recorded in a {@link Closer}. Called by {@link DpdkPortImpl}
 * under its locks, on the control thread (or the opening thread of a failed open).
 */
final class DeviceClose {
    private static final System.Logger LOG = System.getLogger(DpdkPortImpl.class.getName());

    private DeviceClose() {
    }

    /**
     * Releases everything; every step runs even if one fails, each failure recorded in {@code closer}.
     *
     * @param port   the port, marked closed here
     * @param dev    its device
     * @param stats  its statistics, or null if it never started
     * @param closer where the failures go
     */
    static void closeLocked(final DpdkPortImpl port, final DpdkDevice dev, final PortStatistics stats, final Closer closer) {
        if (port.isClosed()) {
            return;
        }
        if (dev.started && !dev.abandoned && stats != null) {
            // Last read while the PMD's sockets are still open: drops up to the close stay counted.
            closer.run("reading the statistics", () -> stats.read(port.counters()));
        }
        port.markClosing();
        for (int q = 0; q < port.txQueueCount(); q++) {
            closer.run("releasing TX queue " + q, port.txQueueOf(q)::release);
        }
        if (dev.abandoned) {
            closer.run("closing the AF_XDP sockets net_af_xdp left open", () -> XskLeakGuard.closeLeaked(dev.xdpSockets));
            port.counters().refresher(null);
            closer.close("freeing the port's memory", dev.arena); // the mempool stays: the abandoned PMD may still point into it
            return;
        }
        if (dev.started) {
            restoreReceiveModes(dev, closer);
            check(closer, Ethdev.rte_eth_dev_stop(dev.portId), "rte_eth_dev_stop");
        }
        if (dev.configured || dev.started || dev.removeDevice) {
            // Closing releases the queues (and the mbufs they hold) and, for net_af_xdp, detaches its XDP program.
            check(closer, Ethdev.rte_eth_dev_close(dev.portId), "rte_eth_dev_close");
        }
        if (dev.removeDevice) {
            final String err = EalRuntime.remove(dev.name);
            if (err != null) {
                closer.failed("removing " + dev.name, err);
            }
        }
        closer.run("closing the AF_XDP sockets net_af_xdp left open", () -> {
            final int leaked = XskLeakGuard.closeLeaked(dev.xdpSockets);
            if (leaked > 0) {
                LOG.log(System.Logger.Level.DEBUG, "dpdk: closed {0} AF_XDP socket(s) net_af_xdp left open", leaked);
            }
        });
        if (dev.xdpKey != null) {
            OwnXdpPrograms.remove(dev.xdpKey);
        }
        if (dev.isAfXdp()) {
            // The kernel unbinds a closed AF_XDP socket from its queue in deferred work; give it time, so a port
            // reopened at once on the same queue does not fail (and, see DeviceStart, cannot be cleaned up).
            closer.run("waiting for the kernel to unbind the AF_XDP sockets", () -> sleep(100));
        }
        if (!dev.mempool.equals(MemorySegment.NULL)) {
            Mbuf.rte_mempool_free(dev.mempool);
            dev.mempool = MemorySegment.NULL;
        }
        port.counters().refresher(null);
        closer.close("freeing the port's memory", dev.arena);
    }

    private static void check(final Closer closer, final int rc, final String call) {
        if (rc < 0) {
            closer.failed(call, Rte.strerror(rc));
        }
    }

    /**
     * Turns off the promiscuous and all-multicast modes this port turned on (by URI or to receive
     * joined groups). net_af_packet and net_af_xdp set them as flags of the kernel interface,
     * which outlive the port: without this the interface stays promiscuous after exit. The
     * MTU and offloads given at configure stay in the ethdev and do not reach the kernel here.
     */
    private static void restoreReceiveModes(final DpdkDevice dev, final Closer closer) {
        if (dev.promiscuous) {
            check(closer, Ethdev.rte_eth_promiscuous_disable(dev.portId), "rte_eth_promiscuous_disable");
            dev.promiscuous = false;
        }
        if (dev.allMulticast) {
            check(closer, Ethdev.rte_eth_allmulticast_disable(dev.portId), "rte_eth_allmulticast_disable");
            dev.allMulticast = false;
        }
    }

    private static void sleep(final long millis) {
        try {
            Thread.sleep(millis);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BypassException("dpdk: interrupted while opening the port");
        }
    }
}
