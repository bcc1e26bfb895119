package io.bypass.samples.cli;

import io.bypass.Bypass;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.UdpDestination;
import io.bypass.udp.UdpEndpoint;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.IdleStrategy;

import java.io.PrintStream;

/**
 * Small helpers shared by the subcommands, all on the public API: open an endpoint and
 * say which backend it got, subscribe to a group or port, and send with retry.
 */
public final class Udp {
    /**
     * A handler that takes datagrams and does nothing with them, for a sender that
     * subscribes to nothing (a publisher, a replayer): the endpoint still counts them in
     * {@code RX_PACKETS}, so none goes unseen.
     */
    public static final DatagramHandler IGNORE = (buffer, offset, length, meta) -> {
    };
    /** {@link #send} gave up: still back-pressured or the neighbour unresolved after the timeout. */
    public static final int GAVE_UP = -100;

    private Udp() {
    }

    /**
     * Opens a UDP endpoint and tells stderr which backend serves it.
     *
     * @param uri the URI
     * @param err where to say so
     * @param quiet say nothing
     * @return the endpoint
     */
    public static UdpEndpoint open(final String uri, final PrintStream err, final boolean quiet) {
        final var sel = Bypass.openUdpSelecting(uri);
        if (!quiet) {
            err.println("opened " + uri + " on backend " + sel.backend()
                + (sel.reasons().isEmpty() ? "" : " (passed over " + shorten(sel.reasons()) + ")"));
        }
        return sel.opened();
    }

    private static String shorten(final java.util.List<String> reasons) {
        final StringBuilder sb = new StringBuilder();
        for (final String r : reasons) {
            if (sb.length() > 0) {
                sb.append("; ");
            }
            // Full causes are in 'bypass doctor'; one line here is enough.
            sb.append(r.length() > 90 ? r.substring(0, 87) + "..." : r);
        }
        return sb.toString();
    }

    /**
     * Receives {@code gp}: joins it if it is a multicast group, else binds its port.
     *
     * @param udp the endpoint
     * @param gp  group or local address and port
     */
    public static void subscribe(final UdpEndpoint udp, final GroupPort gp) {
        if (gp.isMulticast()) {
            udp.join(gp.address(), gp.port());
        } else {
            udp.bind(gp.port());
        }
    }

    /** How many datagrams each poll made while a neighbour resolves may deliver. */
    public static final int PENDING_POLL_LIMIT = 16;

    /**
     * Sends a payload, flushing when back-pressured and polling while the neighbour is
     * resolved, up to {@code timeoutNanos}. Allocation-free. Datagrams that arrive while the
     * neighbour resolves (the polls that let the ARP reply in deliver them too) go to
     * {@code meanwhile}, the caller's own handler, so none is discarded unseen.
     *
     * @param udp          the endpoint
     * @param dest         where to
     * @param buffer       payload
     * @param offset       payload offset
     * @param length       payload length
     * @param idle         what to do between retries
     * @param timeoutNanos how long to keep trying
     * @param meanwhile    receives what arrives while the neighbour resolves, at most
     *                     {@link #PENDING_POLL_LIMIT} datagrams per poll
     * @return {@link UdpEndpoint#OK}, {@link UdpEndpoint#TOO_LONG} or {@link #GAVE_UP}
     */
    public static int send(final UdpEndpoint udp, final UdpDestination dest, final DirectBuffer buffer, final int offset,
                           final int length, final IdleStrategy idle, final long timeoutNanos,
                           final DatagramHandler meanwhile) {
        int rc = udp.send(dest, buffer, offset, length);
        if (rc == UdpEndpoint.OK || rc == UdpEndpoint.TOO_LONG) {
            return rc;
        }
        final long deadline = System.nanoTime() + timeoutNanos;
        idle.reset();
        while (true) {
            if (rc == UdpEndpoint.BACK_PRESSURED) {
                udp.flush();
            } else if (rc == UdpEndpoint.NEIGHBOUR_PENDING) {
                udp.poll(meanwhile, PENDING_POLL_LIMIT);
            }
            rc = udp.send(dest, buffer, offset, length);
            if (rc == UdpEndpoint.OK || rc == UdpEndpoint.TOO_LONG) {
                return rc;
            }
            if (System.nanoTime() - deadline > 0) {
                return GAVE_UP;
            }
            idle.idle();
        }
    }
}
