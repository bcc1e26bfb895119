package io.bypass.testing;

import io.bypass.Bypass;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.File;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Starts a child JVM like a user's application would be started, on the class path or on
 * the module path, with or without each JVM flag Bypass needs, and returns what it printed.
 *
 * <p>On the module path the API, Agrona and the given backend go on {@code --module-path}
 * (the build's {@code target/classes} directories are exploded modules, Agrona's jar an
 * automatic module), the rest of this JVM's class path (tests, JUnit) stays on the class
 * path, and the main class, {@link FlagProbe}, lives in a package no module owns.
 */
public final class ChildJvm {
    private ChildJvm() {
    }

    /** Where the child finds Bypass. */
    public enum Launch {
        /** Everything on {@code -cp}: flags target {@code ALL-UNNAMED}. */
        CLASS_PATH,
        /** API, Agrona and the backend on {@code --module-path}: flags target the module names. */
        MODULE_PATH
    }

    /**
     * @param path         class path or module path
     * @param agronaExport whether to pass {@code --add-exports java.base/jdk.internal.misc=...} for Agrona
     * @param nativeAccess whether to pass {@code --enable-native-access=...} for the backend
     * @param backend      a class of the backend module (or null for the API alone)
     * @param backendModule the backend's module name, for the module path flag
     * @param probeArgs    arguments for {@link FlagProbe}
     * @return the command line, starting with this JVM's {@code java}
     */
    public static List<String> command(final Launch path, final boolean agronaExport, final boolean nativeAccess,
                                       final Class<?> backend, final String backendModule, final String... probeArgs) {
        return command(path, agronaExport, nativeAccess, backend, backendModule, List.of(), probeArgs);
    }

    /**
     * As {@link #command(Launch, boolean, boolean, Class, String, String...)} with more JVM options.
     *
     * @param path          class path or module path
     * @param agronaExport  whether to pass Agrona's export
     * @param nativeAccess  whether to pass native access for the backend
     * @param backend       a class of the backend module (or null)
     * @param backendModule the backend's module name
     * @param jvmArgs       more options, such as {@code -Dbypass.efvi.libciul=...}
     * @param probeArgs     arguments for {@link FlagProbe}
     * @return the command line
     */
    public static List<String> command(final Launch path, final boolean agronaExport, final boolean nativeAccess,
                                       final Class<?> backend, final String backendModule, final List<String> jvmArgs,
                                       final String... probeArgs) {
        final List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        final boolean modules = path == Launch.MODULE_PATH;
        if (agronaExport) {
            cmd.add("--add-exports");
            cmd.add("java.base/jdk.internal.misc=" + (modules ? "org.agrona" : "ALL-UNNAMED"));
        }
        if (nativeAccess) {
            cmd.add("--enable-native-access=" + (modules ? backendModule : "ALL-UNNAMED"));
        }
        final Set<String> modulePath = new LinkedHashSet<>();
        if (modules) {
            modulePath.add(location(Bypass.class));
            modulePath.add(location(UnsafeBuffer.class));
            if (backend != null) {
                modulePath.add(location(backend));
            }
            cmd.add("--module-path");
            cmd.add(String.join(File.pathSeparator, modulePath));
            cmd.add("--add-modules");
            cmd.add("ALL-MODULE-PATH");
        }
        final List<String> classPath = new ArrayList<>();
        for (final String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!modulePath.contains(Path.of(e).toAbsolutePath().toString())) {
                classPath.add(e);
            }
        }
        cmd.add("-cp");
        cmd.add(String.join(File.pathSeparator, classPath));
        cmd.add(FlagProbe.class.getName());
        cmd.addAll(List.of(probeArgs));
        return cmd;
    }

    /**
     * Runs a command and returns its exit code and merged output.
     *
     * @param cmd the command
     * @return exit code and output
     * @throws Exception if it cannot start or does not finish within 60 s
     */
    public static Result run(final List<String> cmd) throws Exception {
        final Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("child JVM did not exit: " + cmd + "\n" + out);
        }
        return new Result(p.exitValue(), out, String.join(" ", cmd));
    }

    /**
     * @param exitCode the child's exit code
     * @param output   its stdout and stderr
     * @param command  the command line, for messages
     */
    public record Result(int exitCode, String output, String command) {
        @Override
        public String toString() {
            return "exit " + exitCode + " of: " + command + "\n" + output;
        }
    }

    private static String location(final Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath().toString();
        } catch (final URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
