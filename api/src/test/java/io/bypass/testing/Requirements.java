package io.bypass.testing;

import io.bypass.Bypass;
import io.bypass.spi.BackendProvider;
import io.bypass.testkit.Cmd;
import io.bypass.testkit.Netns;
import io.bypass.testkit.VethPair;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Preconditions for tests that need something of the host (root, {@code ip}, a backend).
 *
 * <p>A missing precondition aborts the test (JUnit reports it as skipped, with the
 * reason), except when the system property {@code bypass.requireAll} is {@code true}
 * (CI sets it from {@code BYPASS_REQUIRE_ALL=true}): then it fails with an
 * {@link AssertionError}, so CI never passes by skipping.
 *
 * <pre>{@code
 * @BeforeAll
 * static void host() {
 *     Requirements.requireRoot();
 *     Requirements.requireCommand("ip");
 *     Requirements.requireBackendAvailable("afxdp");
 * }
 * }</pre>
 */
public final class Requirements {
    /** The system property that turns a skip into a failure. */
    public static final String REQUIRE_ALL_PROPERTY = "bypass.requireAll";

    private Requirements() {
    }

    /**
     * @return true if skips must be failures: {@code -Dbypass.requireAll=true}, or, for runs
     *         outside Maven (an IDE), the environment variable {@code BYPASS_REQUIRE_ALL=true}
     */
    public static boolean requireAll() {
        return "true".equals(System.getProperty(REQUIRE_ALL_PROPERTY))
            || "true".equals(System.getenv("BYPASS_REQUIRE_ALL"));
    }

    /**
     * Skips (or, under {@link #requireAll()}, fails) the running test unless {@code ok}.
     *
     * @param ok     whether the precondition holds
     * @param reason what is missing and how to get it
     */
    public static void require(final boolean ok, final String reason) {
        if (ok) {
            return;
        }
        if (requireAll()) {
            throw new AssertionError("required but unavailable: " + reason);
        }
        Assumptions.abort(reason);
    }

    /**
     * Requires an effective uid of 0 (network namespaces, veth, AF_PACKET, XDP all need it).
     */
    public static void requireRoot() {
        require(isRoot(), "needs root (network namespaces, veth pairs, raw sockets); run the tests as root");
    }

    /**
     * @return true if the effective uid is 0
     */
    public static boolean isRoot() {
        try {
            for (final String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    final String[] f = line.substring(4).trim().split("\\s+");
                    return f.length > 1 && "0".equals(f[1]);
                }
            }
        } catch (final IOException e) {
            return false;
        }
        return false;
    }

    /**
     * Requires an executable on the {@code PATH} (or in /sbin, /usr/sbin, where {@code ip} lives).
     *
     * @param command such as {@code ip}
     */
    public static void requireCommand(final String command) {
        require(findCommand(command) != null, "needs the '" + command + "' command on the PATH"
            + ("ip".equals(command) ? " (apt-get install iproute2)" : "ethtool".equals(command) ? " (apt-get install ethtool)" : ""));
    }

    /**
     * @param command a command name
     * @return its path, or null if not found
     */
    public static Path findCommand(final String command) {
        return Cmd.find(command);
    }

    /**
     * Requires what {@link Netns} and {@link VethPair} need: root, {@code ip}, and
     * {@code ethtool} (the veth pair turns TX checksum offload off).
     */
    public static void requireNetns() {
        requireRoot();
        requireCommand("ip");
        requireCommand("ethtool");
    }

    /**
     * Requires a backend on the class path that reports itself available.
     *
     * @param name backend name, such as {@code afxdp}
     */
    public static void requireBackendAvailable(final String name) {
        final BackendProvider p = Bypass.backend(name);
        require(p != null, "backend '" + name + "' is not on the class path (add io.bypass:bypass-" + name + ")");
        if (!p.isAvailable()) {
            final Throwable cause = p.unavailabilityCause();
            require(false, "backend '" + name + "' is unavailable: " + (cause == null ? "no cause given" : cause.getMessage()));
        }
    }
}
