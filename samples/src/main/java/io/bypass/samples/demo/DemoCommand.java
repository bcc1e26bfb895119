package io.bypass.samples.demo;

import io.bypass.Bypass;
import io.bypass.samples.cli.Args;
import io.bypass.samples.cli.Command;
import io.bypass.samples.cli.Context;
import io.bypass.samples.cli.Options;
import io.bypass.samples.cli.Summary;
import io.bypass.samples.cli.UsageException;
import io.bypass.spi.BackendProvider;
import io.bypass.testkit.NetNamespace;
import io.bypass.testkit.Netns;
import io.bypass.testkit.VethPair;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code bypass demo}: the README demo. Publishes a MoldUDP64 feed on two lines and
 * receives it with the A/B feed handler, then prints rate, loss and latency.
 *
 * <p>As root it makes two network namespaces joined by a veth pair and runs the
 * publisher and the feed handler in one JVM on two threads, each moved into its
 * namespace with {@code setns(2)}, on the best available backend ({@code auto:}). Without
 * root it runs both on NIO over loopback. The namespaces are removed on exit and on
 * Ctrl-C, and a later run removes any a killed run left behind.
 */
public final class DemoCommand implements Command {
    /** Address of side A (the publisher). */
    static final String ADDRESS_A = "10.251.0.1";
    /** Address of side B (the feed handler). */
    static final String ADDRESS_B = "10.251.0.2";
    /** Namespaces are {@code bpdemo-PID-a} and {@code -b}, so a later run can tell a dead run's. */
    private static final String PREFIX = "bpdemo-";

    /** Creates the command. */
    public DemoCommand() {
    }

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public Options options() {
        return new Options("demo", "publish and feed across a veth pair (root) or loopback; print rate, loss, latency")
            .value("--backend", "NAME|auto", "backend for both sides (auto = best available)", "auto")
            .value("--rate", "PPS", "packets per second on each line (default: 50000 with 4+ CPUs, else 10000)", null)
            .value("--seconds", "N", "how long to publish", "10")
            .value("--messages-per-packet", "N", "messages in each packet", "3")
            .value("--idle", "spin|yield|backoff", "idle strategy of both loops (default: spin with 4+ CPUs, else backoff)", null)
            .flag("--loopback", "use NIO on loopback even as root")
            .flag("--json", "end with the summary as one JSON object on the last line")
            .flag("--quiet", "no progress lines");
    }

    @Override
    public int run(final Args args, final Context ctx) throws UsageException, InterruptedException {
        final String backend = args.required("--backend");
        // A small host shares its CPUs between both loops and the kernel: ask less of it.
        final double rate = args.has("--rate") ? args.doubleValue("--rate", 1, 10_000_000)
            : Runtime.getRuntime().availableProcessors() >= 4 ? 50_000 : 10_000;
        final int seconds = args.intValue("--seconds", 1, 3600);
        final int mpp = args.intValue("--messages-per-packet", 1, 30);
        String idle = args.has("--idle") ? args.choice("--idle", "spin", "yield", "backoff") : null;
        if (idle == null) {
            // Two spinning loops on a 2-CPU host starve the kernel's softirq work and add milliseconds.
            idle = Runtime.getRuntime().availableProcessors() >= 4 ? "spin" : "backoff";
        }
        if (!"auto".equals(backend) && Bypass.backend(backend) == null) {
            final List<String> names = new ArrayList<>();
            Bypass.backends().forEach(b -> names.add(b.name()));
            throw new UsageException("--backend: no backend '" + backend + "' on the class path (found: " + String.join(", ", names) + ")");
        }
        final long count = (long) (rate * seconds);
        final String why = args.flag("--loopback") ? "--loopback given" : Netns.cannotCreate();
        final PrintStream err = ctx.err();
        VethPair pair = null;
        final String uriA;
        final String uriB;
        if (why == null) {
            for (final String stale : Netns.removeStale(PREFIX)) {
                err.println("demo: removed namespace left by an earlier run: " + stale);
            }
            pair = createPair();
            uriA = uri(backend, pair.ifaceA(), ADDRESS_A, 0);
            uriB = uri(backend, pair.ifaceB(), ADDRESS_B, 1);
            err.println("demo: namespaces " + pair.a().name() + " (" + pair.ifaceA() + " " + ADDRESS_A + ") -> "
                + pair.b().name() + " (" + pair.ifaceB() + " " + ADDRESS_B + ")");
        } else {
            uriA = "auto".equals(backend) ? "nio:lo" : backend + ":lo";
            uriB = uriA;
            err.println("demo: " + why + "; running on loopback with " + uriA);
        }
        err.println("demo: backends here:\n" + Bypass.describeBackends().indent(2).stripTrailing());
        try {
            return runPair(ctx, pair, uriA, uriB, rate, count, mpp, seconds, idle, args.flag("--quiet"));
        } finally {
            if (pair != null) {
                try {
                    pair.close();
                    err.println("demo: removed namespaces " + pair.a().name() + " and " + pair.b().name());
                } catch (final RuntimeException e) {
                    // The demo's result stands; say what is left so the user can remove it.
                    err.println("demo: " + e.getMessage());
                }
            }
        }
    }

    private int runPair(final Context ctx, final VethPair pair, final String uriA, final String uriB, final double rate,
                        final long count, final int mpp, final int seconds, final String idle, final boolean quiet) throws InterruptedException {
        final PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream());
        final Context feedCtx = new Context(nowhere, quiet ? nowhere : prefixed(ctx.err(), "  "));
        final Context pubCtx = new Context(nowhere, quiet ? nowhere : prefixed(ctx.err(), "  "));
        final AtomicReference<Integer> feedStatus = new AtomicReference<>();
        final AtomicReference<Integer> pubStatus = new AtomicReference<>();
        // A feed handler on kernel sockets wants a deep socket buffer.
        final String feedUri = uriB.startsWith("nio:") ? uriB + "?rcvbuf=4194304" : uriB;
        final String[] feedArgs = {"feed", "--uri", feedUri, "--expect", String.valueOf(count * mpp),
            "--duration", (seconds + 10) + "s", "--idle", idle, "--json"};
        final String[] pubArgs = {"publish", "--uri", uriA, "--rate", String.valueOf(rate), "--count", String.valueOf(count),
            "--messages-per-packet", String.valueOf(mpp), "--idle", idle, "--json"};
        final Thread feed = new Thread(() -> runIn(pair == null ? null : pair.b().name(), feedArgs, feedCtx, feedStatus), "demo-feed");
        final Thread pub = new Thread(() -> runIn(pair == null ? null : pair.a().name(), pubArgs, pubCtx, pubStatus), "demo-publish");
        feed.start();
        if (!feedCtx.awaitReady(15_000)) {
            feedCtx.stop();
            feed.join(5_000);
            ctx.err().println("demo: the feed handler did not start (status " + feedStatus.get() + ")");
            return 1;
        }
        pub.start();
        while (pub.isAlive() || feed.isAlive()) {
            if (ctx.isStopped()) {
                pubCtx.stop();
                feedCtx.stop();
            }
            if (!pub.isAlive() && feed.isAlive()) {
                // Publisher done: give the last packets a moment, then stop the feed.
                feed.join(3_000);
                feedCtx.stop();
            }
            feed.join(100);
        }
        final Summary f = feedCtx.summary();
        final Summary p = pubCtx.summary();
        if (f == null || p == null) {
            ctx.err().println("demo: " + (f == null ? "feed" : "publish") + " failed (exit " + (f == null ? feedStatus.get() : pubStatus.get()) + ")");
            return 1;
        }
        final Map<String, Object> fv = f.fields();
        final Map<String, Object> pv = p.fields();
        final Summary s = new Summary()
            .put("command", "demo")
            .put("topology", pair == null ? "loopback" : "veth pair in namespaces " + pair.a().name() + " -> " + pair.b().name())
            .put("idle", idle)
            .put("publish_backend", pv.get("backend"))
            .put("feed_backend", fv.get("backend"))
            .put("packets_sent", pv.get("packets"))
            .put("messages_sent", pv.get("messages"))
            .put("packets", fv.get("packets"))
            .put("messages", fv.get("messages"))
            .put("duplicates", fv.get("duplicates"))
            .put("gaps", fv.get("gaps"))
            .put("lost", fv.get("lost"))
            .put("malformed", fv.get("malformed"))
            .put("feed_endpoint_drops", fv.get("endpoint_drops"))
            .put("feed_drops", fv.get("drops"))
            .put("publish_endpoint_drops", pv.get("endpoint_drops"))
            .put("publish_drops", pv.get("drops"))
            .put("rate_pps", fv.get("rate_pps"))
            .put("rate_mps", fv.get("rate_mps"));
        for (final String k : fv.keySet()) {
            if (k.startsWith("latency_")) {
                s.put(k, fv.get(k));
            }
        }
        ctx.out().println();
        s.print(ctx);
        final Object lost = fv.get("lost");
        return Integer.valueOf(0).equals(feedStatus.get()) && Integer.valueOf(0).equals(pubStatus.get())
            && lost instanceof Long l && l == 0 ? 0 : 1;
    }

    /**
     * Two namespaces named after this process joined by a veth pair with the demo's fixed
     * addresses and a multicast route; TX checksum offload is left on (the demo's senders
     * are Bypass endpoints, which fill in their checksums).
     */
    private static VethPair createPair() {
        final long pid = ProcessHandle.current().pid();
        final String tag = "bpd" + pid + Integer.toHexString((int) (System.nanoTime() & 0xfff));
        return VethPair.builder()
            .names(PREFIX + pid + "-a", PREFIX + pid + "-b", tag + "a", tag + "b")
            .addresses(ADDRESS_A, ADDRESS_B)
            .txChecksumOff(false)
            .removeOnExit(false) // Main's hook lets the demo stop its endpoints and remove these itself
            .create();
    }

    /**
     * The URI for one veth end: {@code BACKEND:IFACE}, except DPDK, which owns the port
     * through a net_af_packet vdev and needs the address (a deeper ring on the receiver).
     */
    static String uri(final String backend, final String iface, final String address, final int index) {
        if ("dpdk".equals(backend)) {
            return "dpdk:net_af_packet" + index + ",iface=" + iface + (index == 1 ? ",framecnt=4096" : "") + "?ip=" + address + "/24";
        }
        return backend + ":" + iface;
    }

    private static void runIn(final String namespace, final String[] argv, final Context c, final AtomicReference<Integer> status) {
        try {
            if (namespace != null) {
                NetNamespace.enter(namespace);
            }
            status.set(io.bypass.samples.Main.run(argv, c));
        } catch (final Throwable t) {
            // An Error here must still reach the user and let the demo clean up.
            c.err().println(argv[0] + " failed: " + t);
            status.set(1);
            c.ready();
        }
    }

    private static PrintStream prefixed(final PrintStream err, final String prefix) {
        return new PrintStream(new OutputStream() {
            private final StringBuilder line = new StringBuilder();

            @Override
            public synchronized void write(final int b) {
                if (b == '\n') {
                    err.println(prefix + line);
                    line.setLength(0);
                } else {
                    line.append((char) b);
                }
            }
        }, true);
    }

    /** @return names of available backends, best first (for messages) */
    static List<String> available() {
        final List<String> out = new ArrayList<>();
        for (final BackendProvider b : Bypass.backends()) {
            if (b.isAvailable()) {
                out.add(b.name());
            }
        }
        return out;
    }
}
