package io.bypass.dpdk.internal;

import io.bypass.BypassException;
import io.bypass.dpdk.internal.gen.Ethdev;
import io.bypass.dpdk.internal.gen.Mbuf;

import java.lang.foreign.MemorySegment;

/**
 * Closes a port's device: the last statistics, the TX queues' mbufs, the receive modes the port
 * turned on, stop, close, device removal, the AF_XDP sockets net_af_xdp leaves open, the mempool.
 * Every step runs even if one fails; the failures are returned. Called by {@link DpdkPortImpl}
 * under its locks, on the control thread (or the opening thread of a failed open).
 */
final class DeviceClose {
    private static final System.Logger LOG = System.getLogger(DpdkPortImpl.class.getName());

    private DeviceClose() {
    }

    /**
     * Releases everything; every step runs even if one fails.
     *
     * @param port   the port, marked closed here
     * @param dev    its device
     * @param stats  its statistics, or null if it never started
     * @param during the failure of an open being undone, which gets the cleanup failures as suppressed; or null
     * @return the failures, or null
     */
    static String closeLocked(final DpdkPortImpl port, final DpdkDevice dev, final PortStatistics stats, final Throwable during) {
        if (port.isClosed()) {
            return null;
        }
        if (dev.started && !dev.abandoned && stats != null) {
            // Last read while the PMD's sockets are still open: drops up to the close stay counted.
            stats.read(port.counters());
        }
        port.markClosing();
        final StringBuilder failures = new StringBuilder();
        for (int q = 0; q < port.txQueueCount(); q++) {
            port.txQueueOf(q).release();
        }
        if (dev.abandoned) {
            XskLeakGuard.closeLeaked(dev.xdpSockets);
            port.counters().refresher(null);
            dev.arena.close(); // the mempool stays: the abandoned PMD may still point into it
            return null;
        }
        if (dev.started) {
            restoreReceiveModes(dev, failures);
        }
        if (dev.started) {
            final int rc = Ethdev.rte_eth_dev_stop(dev.portId);
            if (rc < 0) {
                failures.append("rte_eth_dev_stop: ").append(Rte.strerror(rc)).append("; ");
            }
        }
        if (dev.configured || dev.started || dev.removeDevice) {
            // Closing releases the queues (and the mbufs they hold) and, for net_af_xdp, detaches its XDP program.
            final int rc = Ethdev.rte_eth_dev_close(dev.portId);
            if (rc < 0) {
                failures.append("rte_eth_dev_close: ").append(Rte.strerror(rc)).append("; ");
            }
        }
        if (dev.removeDevice) {
            final String err = EalRuntime.remove(dev.name);
            if (err != null) {
                failures.append(err).append("; ");
            }
        }
        final int leaked = XskLeakGuard.closeLeaked(dev.xdpSockets);
        if (leaked > 0) {
            LOG.log(System.Logger.Level.DEBUG, "dpdk: closed {0} AF_XDP socket(s) net_af_xdp left open", leaked);
        }
        if (dev.xdpKey != null) {
            OwnXdpPrograms.remove(dev.xdpKey);
        }
        if (dev.isAfXdp()) {
            // The kernel unbinds a closed AF_XDP socket from its queue in deferred work; give it time, so a port
            // reopened at once on the same queue does not fail (and, see DeviceStart, cannot be cleaned up).
            sleep(100);
        }
        if (!dev.mempool.equals(MemorySegment.NULL)) {
            Mbuf.rte_mempool_free(dev.mempool);
            dev.mempool = MemorySegment.NULL;
        }
        port.counters().refresher(null);
        dev.arena.close();
        if (during != null && !failures.isEmpty()) {
            during.addSuppressed(new BypassException("dpdk: cleanup after the failed open: " + failures));
        }
        return failures.isEmpty() ? null : failures.toString();
    }

    /**
     * Turns off the promiscuous and all-multicast modes this port turned on (by URI or to receive
     * joined groups). net_af_packet and net_af_xdp set them as flags of the kernel interface,
     * which outlive the port: without this the interface stays promiscuous after exit. The
     * MTU and offloads given at configure stay in the ethdev and do not reach the kernel here.
     */
    private static void restoreReceiveModes(final DpdkDevice dev, final StringBuilder failures) {
        if (dev.promiscuous) {
            final int rc = Ethdev.rte_eth_promiscuous_disable(dev.portId);
            if (rc < 0) {
                failures.append("rte_eth_promiscuous_disable: ").append(Rte.strerror(rc)).append("; ");
            }
            dev.promiscuous = false;
        }
        if (dev.allMulticast) {
            final int rc = Ethdev.rte_eth_allmulticast_disable(dev.portId);
            if (rc < 0) {
                failures.append("rte_eth_allmulticast_disable: ").append(Rte.strerror(rc)).append("; ");
            }
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
