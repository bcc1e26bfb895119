package io.bypass.samples.stat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.bypass.stat.CountersFileReader.Record;
import io.bypass.stat.CountersFileReader.Snapshot;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;

/**
 * Serves {@code /metrics} in the Prometheus text format (version 0.0.4) from the
 * {@code bypass stat} process, reading the counters files at each scrape, so no HTTP server
 * ever runs inside the trading process. Binds to loopback unless told otherwise.
 *
 * <pre>
 * bypass_counter{pid="4242",type="udp",backend="afxdp",iface="veth0",queue="all",endpoint="afxdp:veth0",record="0",name="drop_fill_ring_empty"} 3
 * bypass_process_up{pid="4242"} 1
 * </pre>
 */
public final class PrometheusEndpoint implements AutoCloseable {
    /** Label keys copied from a record's label, in this order. */
    private static final List<String> KEYS = List.of("type", "backend", "iface", "queue", "endpoint", "app");

    private final HttpServer server;

    /**
     * Starts serving.
     *
     * @param bind  the address to listen on, such as {@code 127.0.0.1}
     * @param port  the TCP port, 0 for any free one
     * @param read  reads the processes' snapshots (already filtered) at each scrape
     * @throws IOException if the port cannot be bound
     */
    public PrometheusEndpoint(final String bind, final int port, final Supplier<List<StatView.Filtered>> read) throws IOException {
        server = HttpServer.create(new InetSocketAddress(bind, port), 0);
        server.createContext("/metrics", exchange -> respond(exchange, read));
        server.createContext("/", exchange -> {
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
        });
        server.setExecutor(null);
        server.start();
    }

    /** @return the bound port */
    public int port() {
        return server.getAddress().getPort();
    }

    private static void respond(final HttpExchange exchange, final Supplier<List<StatView.Filtered>> read) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            final byte[] body = render(read.get(), System.currentTimeMillis()).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, "HEAD".equals(exchange.getRequestMethod()) ? -1 : body.length);
            if (!"HEAD".equals(exchange.getRequestMethod())) {
                try (OutputStream os = exchange.getResponseBody()) {
                    os.write(body);
                }
            }
        }
    }

    /**
     * The metrics text for a set of processes: every counter of every live process's records,
     * and each process's liveness and heartbeat age. Stale processes report only
     * {@code bypass_process_up 0}.
     *
     * @param processes the processes
     * @param nowMillis the current time, epoch ms
     * @return the exposition text
     */
    public static String render(final List<StatView.Filtered> processes, final long nowMillis) {
        final StringBuilder sb = new StringBuilder();
        sb.append("# HELP bypass_counter A Bypass counter, by process, port or endpoint and counter name.\n");
        sb.append("# TYPE bypass_counter counter\n");
        final StringBuilder up = new StringBuilder();
        up.append("# HELP bypass_process_up 1 if the process publishing the counters lives, 0 if its file is stale.\n");
        up.append("# TYPE bypass_process_up gauge\n");
        final StringBuilder age = new StringBuilder();
        age.append("# HELP bypass_heartbeat_age_seconds Time since the process last stored its heartbeat.\n");
        age.append("# TYPE bypass_heartbeat_age_seconds gauge\n");
        for (final StatView.Filtered f : processes) {
            final Snapshot s = f.snapshot();
            final boolean alive = s.staleReason(nowMillis) == null;
            final String pid = "pid=\"" + s.pid() + "\"";
            up.append("bypass_process_up{").append(pid).append("} ").append(alive ? 1 : 0).append('\n');
            age.append("bypass_heartbeat_age_seconds{").append(pid).append("} ").append((nowMillis - s.heartbeatMillis()) / 1000.0).append('\n');
            if (!alive) {
                continue;
            }
            for (final StatView.Filtered.Part part : f.records()) {
                final Record r = part.record();
                final StringBuilder labels = new StringBuilder(pid);
                for (final String k : KEYS) {
                    final String v = r.label().get(k);
                    if (v != null) {
                        labels.append(',').append(k).append("=\"").append(escape(v)).append('"');
                    }
                }
                labels.append(",record=\"").append(r.index()).append('"');
                for (final String name : part.names()) {
                    sb.append("bypass_counter{").append(labels).append(",name=\"").append(escape(name)).append("\"} ")
                        .append(r.values().get(name)).append('\n');
                }
            }
        }
        return sb.append(up).append(age).toString();
    }

    private static String escape(final String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /** Stops serving. */
    @Override
    public void close() {
        server.stop(0);
    }
}
