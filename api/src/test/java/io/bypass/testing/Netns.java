package io.bypass.testing;

import io.bypass.net.Ipv4;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A network namespace made for one test, removed on {@link #close()}, plus
 * {@link Topology} (two namespaces joined by a veth pair) and {@link Executor} (a
 * thread that lives inside a namespace, so sockets and endpoints it creates do too).
 *
 * <p>Everything is done with {@code ip} (iproute2), exit codes checked and stderr quoted
 * in errors. Names carry a random suffix so parallel or crashed runs never collide, and
 * nothing is ever added to the root namespace: the veth pair is created inside the
 * test namespaces. Needs root ({@link Requirements#requireNetns()}).
 *
 * <pre>{@code
 * try (Netns.Topology t = Netns.Topology.create()) {
 *     DatagramChannel rx = t.executorB().call(() -> DatagramChannel.open(StandardProtocolFamily.INET)
 *         .bind(new InetSocketAddress(t.addressBText(), 9000)));
 *     t.executorA().call(() -> endpointUnderTest = Bypass.openUdp("nio:" + t.ifaceA()));
 * }
 * }</pre>
 */
public final class Netns implements AutoCloseable {
    private static final long COMMAND_TIMEOUT_SECONDS = 30;
    private static final Pattern MAC = Pattern.compile("link/ether ([0-9a-f]{2}(?::[0-9a-f]{2}){5})");

    private final String name;
    private Executor executor;
    private boolean closed;

    private Netns(final String name) {
        this.name = name;
    }

    /**
     * Creates a namespace named {@code prefix} plus a random suffix, with {@code lo} up and
     * IPv6 off (so no router solicitations or MLD reports disturb frame-level tests).
     *
     * @param prefix a short prefix, such as {@code "bypa"}
     * @return the namespace
     */
    public static Netns create(final String prefix) {
        return createNamed(prefix + "-" + randomSuffix());
    }

    /**
     * Creates a namespace with an exact name.
     *
     * @param name the namespace name
     * @return the namespace
     */
    public static Netns createNamed(final String name) {
        run("ip", "netns", "add", name);
        final Netns ns = new Netns(name);
        try {
            // Best effort: a kernel without IPv6 has no such sysctl, and then has no IPv6 noise either.
            runUnchecked("ip", "netns", "exec", name, "sysctl", "-qw",
                "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
            ns.ip("link", "set", "lo", "up");
            return ns;
        } catch (final RuntimeException e) {
            ns.closeQuietly(e);
            throw e;
        }
    }

    /**
     * A namespace for loopback tests: {@code lo} up with multicast on and the multicast
     * route {@code 224.0.0.0/4 dev lo}, so kernel multicast works on 127.0.0.1 without
     * touching the root namespace's routes; and {@code route_localnet}, {@code accept_local}
     * on, {@code rp_filter} off, so frames injected on {@code lo} with a {@link RawSocket}
     * reach its sockets.
     *
     * @return the namespace
     */
    public static Netns createLoopback() {
        final Netns ns = create("byplo");
        try {
            ns.ip("link", "set", "lo", "multicast", "on");
            ns.ip("route", "add", "224.0.0.0/4", "dev", "lo");
            // Frames injected on lo with a raw socket arrive without a route attached, so
            // the kernel would drop 127.0.0.1 as a martian and a local source as spoofed.
            ns.exec("sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1", "net.ipv4.conf.lo.route_localnet=1",
                "net.ipv4.conf.all.accept_local=1", "net.ipv4.conf.lo.accept_local=1",
                "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.lo.rp_filter=0");
            return ns;
        } catch (final RuntimeException e) {
            ns.closeQuietly(e);
            throw e;
        }
    }

    /**
     * @return six random hex digits
     */
    public static String randomSuffix() {
        return String.format("%06x", ThreadLocalRandom.current().nextInt(1 << 24));
    }

    /**
     * @return this namespace's name (as under {@code /var/run/netns})
     */
    public String name() {
        return name;
    }

    /**
     * Runs {@code ip -n NAME args...}.
     *
     * @param args the ip arguments
     * @return its standard output
     */
    public String ip(final String... args) {
        final String[] cmd = new String[args.length + 3];
        cmd[0] = "ip";
        cmd[1] = "-n";
        cmd[2] = name;
        System.arraycopy(args, 0, cmd, 3, args.length);
        return run(cmd);
    }

    /**
     * Runs a command inside this namespace ({@code ip netns exec NAME cmd...}).
     *
     * @param cmd the command and its arguments
     * @return its standard output
     */
    public String exec(final String... cmd) {
        final String[] full = new String[cmd.length + 4];
        full[0] = "ip";
        full[1] = "netns";
        full[2] = "exec";
        full[3] = name;
        System.arraycopy(cmd, 0, full, 4, cmd.length);
        return run(full);
    }

    /**
     * @return the thread inside this namespace, started on first use and stopped on close
     */
    public synchronized Executor executor() {
        if (closed) {
            throw new IllegalStateException("namespace " + name + " is closed");
        }
        if (executor == null) {
            executor = new Executor(name);
        }
        return executor;
    }

    /**
     * @param iface an interface in this namespace
     * @return its MAC address in the low 48 bits
     */
    public long macAddress(final String iface) {
        final String out = ip("-o", "link", "show", "dev", iface);
        final Matcher m = MAC.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("no MAC address for " + iface + " in " + name + ": " + out);
        }
        return parseMac(m.group(1));
    }

    /**
     * @param iface an interface in this namespace
     * @return true if {@code ip link} shows it
     */
    public boolean hasInterface(final String iface) {
        return runUnchecked("ip", "-n", name, "-o", "link", "show", "dev", iface).exitCode == 0;
    }

    /**
     * Waits until an interface's operational state is UP (veth carrier).
     *
     * @param iface        the interface
     * @param timeoutMillis how long to wait
     */
    public void awaitUp(final String iface, final long timeoutMillis) {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        String out = "";
        while (System.nanoTime() < deadline) {
            out = ip("-o", "link", "show", "dev", iface);
            if (out.contains("state UP")) {
                return;
            }
            sleep(20);
        }
        throw new IllegalStateException(iface + " in " + name + " not UP after " + timeoutMillis + " ms: " + out);
    }

    /**
     * Stops the executor and deletes the namespace (and every interface in it). Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        if (executor != null) {
            try {
                executor.close();
            } catch (final RuntimeException e) {
                failure = e;
            }
        }
        final Result r = runUnchecked("ip", "netns", "del", name);
        if (r.exitCode != 0 && Files.exists(Path.of("/var/run/netns", name))) {
            final IllegalStateException e = new IllegalStateException("ip netns del " + name + " failed: " + r.stderr);
            if (failure != null) {
                e.addSuppressed(failure);
            }
            throw e;
        }
        if (failure != null) {
            throw failure;
        }
    }

    private void closeQuietly(final Throwable primary) {
        try {
            close();
        } catch (final RuntimeException e) {
            primary.addSuppressed(e);
        }
    }

    @Override
    public String toString() {
        return "netns " + name;
    }

    /**
     * @param text such as {@code 02:00:00:00:00:01}
     * @return the MAC in the low 48 bits
     */
    public static long parseMac(final String text) {
        final String[] parts = text.split(":");
        if (parts.length != 6) {
            throw new IllegalArgumentException("not a MAC address: " + text);
        }
        long mac = 0;
        for (final String p : parts) {
            mac = (mac << 8) | Integer.parseInt(p, 16);
        }
        return mac;
    }

    /**
     * @param mac a MAC in the low 48 bits
     * @return colon-separated text
     */
    public static String macToString(final long mac) {
        final StringBuilder sb = new StringBuilder(17);
        for (int shift = 40; shift >= 0; shift -= 8) {
            if (sb.length() > 0) {
                sb.append(':');
            }
            sb.append(String.format("%02x", (mac >>> shift) & 0xFF));
        }
        return sb.toString();
    }

    /**
     * Runs a command, failing with its stderr if it exits non-zero.
     *
     * @param cmd the command and arguments
     * @return its standard output
     */
    public static String run(final String... cmd) {
        final Result r = runUnchecked(cmd);
        if (r.exitCode != 0) {
            throw new IllegalStateException("'" + String.join(" ", cmd) + "' exited " + r.exitCode + ": " + r.stderr.strip());
        }
        return r.stdout;
    }

    /**
     * Runs a command and returns its outcome without checking it.
     *
     * @param cmd the command and arguments
     * @return exit code, stdout and stderr
     */
    public static Result runUnchecked(final String... cmd) {
        final Process p;
        try {
            p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (final IOException e) {
            throw new IllegalStateException("cannot run '" + String.join(" ", cmd) + "': " + e.getMessage(), e);
        }
        // Drain both pipes concurrently so a chatty command cannot block on a full pipe.
        final CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
        final String out = drain(p.getInputStream());
        try {
            if (!p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("'" + String.join(" ", cmd) + "' did not finish in " + COMMAND_TIMEOUT_SECONDS + " s");
            }
            return new Result(p.exitValue(), out, err.get(5, TimeUnit.SECONDS));
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IllegalStateException("interrupted running " + Arrays.toString(cmd), e);
        } catch (final ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read stderr of " + Arrays.toString(cmd), e);
        }
    }

    private static String drain(final InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (final IOException e) {
            return "<unreadable: " + e.getMessage() + ">";
        }
    }

    private static void sleep(final long millis) {
        try {
            Thread.sleep(millis);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * The outcome of a command.
     *
     * @param exitCode its exit code
     * @param stdout   what it printed
     * @param stderr   what it complained
     */
    public record Result(int exitCode, String stdout, String stderr) {
    }

    /**
     * A single thread that has entered a network namespace with {@code setns(2)}.
     * Network namespaces are per thread, so sockets (and the endpoints and ports built
     * on them) created by tasks run here belong to that namespace, and keep belonging to
     * it when later used from other threads. The JVM's other threads stay where they were.
     * Beware: {@link java.net.NetworkInterface} looks interfaces up by name on each query
     * ({@code getHardwareAddress}, {@code isUp}...), so call those on this executor too.
     *
     * <pre>{@code
     * UdpEndpoint dut = topology.executorA().call(() -> Bypass.openUdp("nio:" + topology.ifaceA()));
     * }</pre>
     */
    public static final class Executor implements AutoCloseable {
        private static final long CALL_TIMEOUT_SECONDS = 120;

        private final String namespace;
        private final LinkedBlockingQueue<FutureTask<?>> tasks = new LinkedBlockingQueue<>();
        private final Thread thread;
        private final CompletableFuture<Void> entered = new CompletableFuture<>();
        private volatile boolean closed;

        /**
         * Starts a thread and moves it into {@code /var/run/netns/NAMESPACE}.
         *
         * @param namespace the namespace name
         * @throws IllegalStateException with the errno text if setns fails
         */
        public Executor(final String namespace) {
            this.namespace = namespace;
            this.thread = new Thread(this::loop, "netns-" + namespace);
            thread.setDaemon(true);
            thread.start();
            try {
                entered.get(30, TimeUnit.SECONDS);
            } catch (final ExecutionException e) {
                close();
                throw new IllegalStateException("cannot enter network namespace " + namespace + ": " + e.getCause().getMessage(), e.getCause());
            } catch (final InterruptedException | TimeoutException e) {
                close();
                throw new IllegalStateException("cannot enter network namespace " + namespace, e);
            }
        }

        /**
         * @return the namespace this executor's thread lives in
         */
        public String namespace() {
            return namespace;
        }

        private void loop() {
            try {
                enter(namespace);
                entered.complete(null);
            } catch (final Throwable t) {
                entered.completeExceptionally(t);
                return;
            }
            while (!closed) {
                final FutureTask<?> task;
                try {
                    task = tasks.poll(100, TimeUnit.MILLISECONDS);
                } catch (final InterruptedException e) {
                    continue;
                }
                if (task != null) {
                    task.run(); // FutureTask captures every Throwable, so this thread never dies early
                }
            }
            FutureTask<?> left;
            while ((left = tasks.poll()) != null) {
                left.cancel(false);
            }
        }

        private static void enter(final String namespace) throws Throwable {
            final Path nsPath = Path.of("/var/run/netns", namespace);
            try (Arena arena = Arena.ofConfined()) {
                final MemorySegment slot = Libc.errnoSlot(arena);
                final int fd = Libc.open(slot, arena.allocateFrom(nsPath.toString()), Libc.O_RDONLY | Libc.O_CLOEXEC);
                if (fd < 0) {
                    throw Libc.failure("open(" + nsPath + ")", slot, "does the namespace exist? (ip netns list)");
                }
                try {
                    if (Libc.setns(slot, fd, Libc.CLONE_NEWNET) != 0) {
                        throw Libc.failure("setns(" + nsPath + ", CLONE_NEWNET)", slot, "needs CAP_SYS_ADMIN (run as root)");
                    }
                } finally {
                    Libc.close(slot, fd);
                }
            }
            // Prove it: this thread's net namespace inode must now be the named one's.
            final String link = Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
            final Object inode = Files.getAttribute(nsPath, "unix:ino");
            if (!link.equals("net:[" + inode + "]")) {
                throw new IllegalStateException("after setns this thread is in " + link + ", not " + nsPath + " (inode " + inode + ")");
            }
        }

        /**
         * Runs {@code task} on the namespace thread and returns its result.
         *
         * @param task the work; sockets it opens live in the namespace
         * @param <T>  result type
         * @return what the task returned
         * @throws Exception what the task threw, unchanged
         */
        public <T> T call(final Callable<T> task) throws Exception {
            if (Thread.currentThread() == thread) {
                return task.call();
            }
            if (closed) {
                throw new IllegalStateException("executor for " + namespace + " is closed");
            }
            final FutureTask<T> f = new FutureTask<>(task);
            tasks.add(f);
            try {
                return f.get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (final ExecutionException e) {
                final Throwable cause = e.getCause();
                if (cause instanceof Exception ex) {
                    throw ex;
                }
                if (cause instanceof Error err) {
                    throw err;
                }
                throw e;
            } catch (final TimeoutException e) {
                f.cancel(true);
                throw new TimeoutException("task in namespace " + namespace + " did not finish in " + CALL_TIMEOUT_SECONDS + " s");
            }
        }

        /**
         * Runs {@code task} on the namespace thread.
         *
         * @param task the work
         * @throws Exception what the task threw
         */
        public void run(final ThrowingRunnable task) throws Exception {
            call(() -> {
                task.run();
                return null;
            });
        }

        /**
         * Stops the thread after the running task. Idempotent.
         */
        @Override
        public void close() {
            closed = true;
            if (Thread.currentThread() != thread) {
                try {
                    thread.join(TimeUnit.SECONDS.toMillis(10));
                } catch (final InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * A task that may throw, for {@link Executor#run(ThrowingRunnable)}.
     */
    @FunctionalInterface
    public interface ThrowingRunnable {
        /**
         * @throws Exception anything
         */
        void run() throws Exception;
    }

    /**
     * Two fresh namespaces, A and B, joined by a veth pair: {@link #ifaceA()} in A with
     * {@code 10.X.Y.1/24}, {@link #ifaceB()} in B with {@code 10.X.Y.2/24} (X and Y random,
     * visible only inside the namespaces), both up, {@code lo} up in both, and the route
     * {@code 224.0.0.0/4} on the veth in each so kernel multicast flows across, and TX
     * checksum offload off on both ends (so frames the kernel sends carry complete UDP
     * checksums, as on a real wire; needs {@code ethtool}) unless made with
     * {@link #createAsIpMakesIt()}. Close removes both namespaces, and with them the veth pair, even after a partial setup.
     */
    public static final class Topology implements AutoCloseable {
        /** Prefix length of the veth subnet. */
        public static final int PREFIX_LENGTH = 24;

        private final List<Netns> namespaces = new ArrayList<>(2);
        private Netns a;
        private Netns b;
        private String ifaceA;
        private String ifaceB;
        private int addressA;
        private int addressB;
        private long macA;
        private long macB;
        private final boolean checksumOffloadOff;

        private Topology(final boolean checksumOffloadOff) {
            this.checksumOffloadOff = checksumOffloadOff;
        }

        /**
         * Builds the topology.
         *
         * @return the topology, ready for traffic
         * @throws IllegalStateException naming the failed {@code ip} command and its stderr
         */
        public static Topology create() {
            return create(true);
        }

        /**
         * Builds the topology with the veth pair left as {@code ip link add} makes it: TX
         * checksum offload on, so UDP and TCP the kernel sends carry only the pseudo-header
         * sum (CHECKSUM_PARTIAL), as on every container network built on veth.
         *
         * @return the topology, ready for traffic
         * @throws IllegalStateException naming the failed {@code ip} command and its stderr
         */
        public static Topology createAsIpMakesIt() {
            return create(false);
        }

        private static Topology create(final boolean checksumOffloadOff) {
            final Topology t = new Topology(checksumOffloadOff);
            try {
                t.build();
                return t;
            } catch (final RuntimeException e) {
                try {
                    t.close();
                } catch (final RuntimeException c) {
                    e.addSuppressed(c);
                }
                throw e;
            }
        }

        private void build() {
            final String suffix = randomSuffix();
            a = createNamed("bypa-" + suffix);
            namespaces.add(a);
            b = createNamed("bypb-" + suffix);
            namespaces.add(b);
            ifaceA = "bva" + suffix; // 9 chars, well inside IFNAMSIZ (15)
            ifaceB = "bvb" + suffix;
            final ThreadLocalRandom rnd = ThreadLocalRandom.current();
            final int net = (10 << 24) | (rnd.nextInt(100, 250) << 16) | (rnd.nextInt(0, 256) << 8);
            addressA = net | 1;
            addressB = net | 2;
            a.ip("link", "add", ifaceA, "type", "veth", "peer", "name", ifaceB, "netns", b.name());
            a.ip("addr", "add", Ipv4.toString(addressA) + "/" + PREFIX_LENGTH, "dev", ifaceA);
            b.ip("addr", "add", Ipv4.toString(addressB) + "/" + PREFIX_LENGTH, "dev", ifaceB);
            a.ip("link", "set", ifaceA, "up");
            b.ip("link", "set", ifaceB, "up");
            a.ip("route", "add", "224.0.0.0/4", "dev", ifaceA);
            b.ip("route", "add", "224.0.0.0/4", "dev", ifaceB);
            // veth hands the kernel's UDP checksum to the peer unfinished (CHECKSUM_PARTIAL);
            // a backend reading raw frames (AF_XDP, DPDK) would see a bad checksum. With TX
            // checksum offload off the kernel completes it, as a real NIC would on the wire.
            if (checksumOffloadOff) {
                a.exec("ethtool", "-K", ifaceA, "tx", "off");
                b.exec("ethtool", "-K", ifaceB, "tx", "off");
            }
            a.awaitUp(ifaceA, 5000);
            b.awaitUp(ifaceB, 5000);
            macA = a.macAddress(ifaceA);
            macB = b.macAddress(ifaceB);
        }

        /** @return namespace A, where the device under test usually lives */
        public Netns a() {
            return a;
        }

        /** @return namespace B, the traffic generator's side */
        public Netns b() {
            return b;
        }

        /** @return the thread inside namespace A */
        public Executor executorA() {
            return a.executor();
        }

        /** @return the thread inside namespace B */
        public Executor executorB() {
            return b.executor();
        }

        /** @return the veth end in A */
        public String ifaceA() {
            return ifaceA;
        }

        /** @return the veth end in B */
        public String ifaceB() {
            return ifaceB;
        }

        /** @return A's IPv4 address, big-endian int */
        public int addressA() {
            return addressA;
        }

        /** @return B's IPv4 address, big-endian int */
        public int addressB() {
            return addressB;
        }

        /** @return A's IPv4 address, dotted */
        public String addressAText() {
            return Ipv4.toString(addressA);
        }

        /** @return B's IPv4 address, dotted */
        public String addressBText() {
            return Ipv4.toString(addressB);
        }

        /** @return MAC of {@link #ifaceA()}, low 48 bits */
        public long macA() {
            return macA;
        }

        /** @return MAC of {@link #ifaceB()}, low 48 bits */
        public long macB() {
            return macB;
        }

        /**
         * Deletes both namespaces (and so the veth pair). Idempotent; runs every step even
         * when one fails, then throws the first failure.
         */
        @Override
        public void close() {
            RuntimeException failure = null;
            for (final Netns ns : namespaces) {
                try {
                    ns.close();
                } catch (final RuntimeException e) {
                    if (failure == null) {
                        failure = e;
                    } else {
                        failure.addSuppressed(e);
                    }
                }
            }
            if (failure != null) {
                throw failure;
            }
        }

        @Override
        public String toString() {
            return a + " " + ifaceA + " " + addressAText() + " <-> " + b + " " + ifaceB + " " + addressBText();
        }
    }
}
