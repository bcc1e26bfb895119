package io.bypass.samples.cli;

import io.bypass.Bypass;
import io.bypass.Counter;
import io.bypass.Counters;
import io.bypass.tcp.TcpConnection;
import io.bypass.tcp.TcpEndpoint;
import io.bypass.tcp.TcpHandler;
import io.bypass.tcp.TcpState;
import org.agrona.concurrent.IdleStrategy;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Small TCP helpers shared by the subcommands, all on the public API: open an endpoint and say
 * which backend it got, wait for an active open, and the TCP counters for a summary.
 */
public final class Tcp {
    /** A handler that drops what it is given, for polls that expect no bytes. */
    public static final TcpHandler IGNORE = (buffer, offset, length) -> {
    };

    private Tcp() {
    }

    /**
     * Opens a TCP endpoint and tells stderr which backend serves it.
     *
     * @param uri   the URI
     * @param err   where to say so
     * @param quiet say nothing
     * @return the endpoint
     */
    public static TcpEndpoint open(final String uri, final PrintStream err, final boolean quiet) {
        final var sel = Bypass.openTcpSelecting(uri);
        if (!quiet) {
            err.println("opened " + uri + " on backend " + sel.backend() + " (TCP)"
                + (sel.reasons().isEmpty() ? "" : " (passed over " + String.join("; ", sel.reasons()) + ")"));
        }
        return sel.opened();
    }

    /**
     * Polls an active open until it is established or has failed, through the endpoint only, so the
     * bytes a peer sends at once stay for the caller's first {@link TcpConnection#poll}. Not for the hot path.
     *
     * @param tcp           the endpoint
     * @param c             the connection from {@link TcpEndpoint#connect}
     * @param timeoutMillis how long to wait
     * @param idle          what to do between polls
     * @param ctx           for Ctrl-C
     * @return the state reached: {@link TcpState#ESTABLISHED} or not
     */
    public static TcpState awaitEstablished(final TcpEndpoint tcp, final TcpConnection c, final long timeoutMillis,
        final IdleStrategy idle, final Context ctx) {
        final long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (c.state() == TcpState.SYN_SENT || c.state() == TcpState.SYN_RECEIVED) {
            if (System.nanoTime() > deadline || ctx.isStopped()) {
                break;
            }
            idle.idle(tcp.poll(16)); // not the connection's poll: it would hand the peer's first bytes to nobody
        }
        return c.state();
    }

    /**
     * @param counters an endpoint's or connection's counters
     * @return every non-zero {@code TCP_*} counter, and {@code TX_BACK_PRESSURED}, by lower-case name
     *         without the prefix, for a summary's {@code tcp} field
     */
    public static Map<String, Object> counters(final Counters counters) {
        final Map<String, Object> m = new LinkedHashMap<>();
        for (final Counter c : Counter.values()) {
            final String name = c.name();
            if (!name.startsWith("TCP_") && c != Counter.TX_BACK_PRESSURED) {
                continue;
            }
            final long v = counters.get(c);
            if (v != 0) {
                m.put((name.startsWith("TCP_") ? name.substring(4) : name).toLowerCase(Locale.ROOT), v);
            }
        }
        return m;
    }
}
