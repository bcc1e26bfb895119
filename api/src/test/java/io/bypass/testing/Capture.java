package io.bypass.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * tshark running in a test namespace: started before the traffic, ready once it says
 * "Capturing on", stopped after {@code count} packets or {@code seconds}.
 */
public final class Capture implements AutoCloseable {
    /** How long tshark may take to start capturing. */
    private static final int READY_SECONDS = 60;

    private final Process process;
    private final CompletableFuture<List<String>> lines;

    private Capture(final Process process) {
        this.process = process;
        final BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        lines = CompletableFuture.supplyAsync(() -> {
            final List<String> l = new ArrayList<>();
            try {
                for (String s; (s = out.readLine()) != null; ) {
                    l.add(s);
                }
            } catch (final IOException e) {
                l.add("read failed: " + e);
            }
            return l;
        });
    }

    /** Skips (or fails under {@code bypass.requireAll}) without tshark. */
    public static void require() {
        Requirements.requireCommand("tshark");
    }

    /**
     * @param namespace where to capture
     * @param iface     interface
     * @param filter    capture filter (BPF syntax)
     * @param count     packets to capture before stopping
     * @param fields    tshark {@code -T fields -e} fields
     * @return the running capture, ready for traffic
     */
    public static Capture start(final String namespace, final String iface, final String filter, final int count,
                         final String... fields) throws IOException, InterruptedException {
        return start(namespace, iface, filter, count, 10, fields);
    }

    /**
     * @param namespace where to capture
     * @param iface     interface
     * @param filter    capture filter (BPF syntax)
     * @param count     packets to capture before stopping
     * @param seconds   longest capture, in seconds, from tshark's start
     * @param fields    tshark {@code -T fields -e} fields
     * @return the running capture, ready for traffic
     */
    public static Capture start(final String namespace, final String iface, final String filter, final int count,
                                final int seconds, final String... fields) throws IOException, InterruptedException {
        final List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", namespace, "tshark", "-l", "-n",
            "-i", iface, "-f", filter, "-c", String.valueOf(count), "-a", "duration:" + seconds,
            "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-T", "fields", "-E", "separator=,"));
        for (final String f : fields) {
            cmd.add("-e");
            cmd.add(f);
        }
        final Process p = new ProcessBuilder(cmd).start();
        final BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
        final StringBuilder seen = new StringBuilder();
        // tshark loads every dissector before it prints anything: seconds on a busy 2-vCPU host. A CI run saw its
        // first line come after more than 10 s.
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(READY_SECONDS);
        while (System.nanoTime() < deadline) {
            final String line = err.readLine();
            if (line == null) {
                throw new IllegalStateException("tshark exited before capturing: " + seen);
            }
            seen.append(line).append('\n');
            if (line.contains("Capturing on")) {
                // Drain the rest of stderr so tshark never blocks on a full pipe.
                CompletableFuture.runAsync(() -> {
                    try {
                        while (err.readLine() != null) {
                            // discard
                        }
                    } catch (final IOException ignored) {
                        // process gone
                    }
                });
                Thread.sleep(300); // the "Capturing on" line comes just before the socket is live
                return new Capture(p);
            }
        }
        p.destroyForcibly();
        throw new IllegalStateException("tshark not ready after " + READY_SECONDS + " s: " + seen);
    }

    /**
     * @return the captured packets' fields, one line per packet
     */
    public List<String> await() throws Exception {
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroy();
        }
        return lines.get(5, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
