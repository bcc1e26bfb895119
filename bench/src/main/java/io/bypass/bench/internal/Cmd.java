package io.bypass.bench.internal;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs short commands ({@code ip}, {@code ethtool}, {@code cc}) with exit codes checked
 * and stderr quoted in errors.
 */
public final class Cmd {
    private Cmd() {
    }

    /**
     * Runs a command and fails with its stderr if it exits non-zero.
     *
     * @param cmd the command and its arguments
     * @return its standard output
     */
    public static String run(final String... cmd) {
        final Result r = runUnchecked(cmd);
        if (r.exitCode() != 0) {
            throw new IllegalStateException("'" + String.join(" ", cmd) + "' exited " + r.exitCode() + ": " + r.stderr().strip());
        }
        return r.stdout();
    }

    /**
     * @param cmd the command as a list
     * @return its standard output
     */
    public static String run(final List<String> cmd) {
        return run(cmd.toArray(String[]::new));
    }

    /**
     * Runs a command (at most 120 s) without checking its exit code.
     *
     * @param cmd the command and its arguments
     * @return exit code and output
     */
    public static Result runUnchecked(final String... cmd) {
        final Process p;
        try {
            p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        } catch (final IOException e) {
            return new Result(-1, "", "cannot run '" + String.join(" ", cmd) + "': " + e.getMessage());
        }
        final CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
        final String out = drain(p.getInputStream());
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, out, "timed out");
            }
            return new Result(p.exitValue(), out, err.get(10, TimeUnit.SECONDS));
        } catch (final Exception e) {
            p.destroyForcibly();
            return new Result(-1, out, e.toString());
        }
    }

    static String drain(final InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (final IOException e) {
            return "";
        }
    }

    /**
     * @param name a command
     * @return true if it is on the PATH (or in /usr/sbin, /sbin)
     */
    public static boolean exists(final String name) {
        final String path = System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin";
        for (final String dir : path.split(":")) {
            if (!dir.isEmpty() && new File(dir, name).canExecute()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The outcome of a command.
     *
     * @param exitCode exit code (-1 if it could not run or timed out)
     * @param stdout   standard output
     * @param stderr   standard error
     */
    public record Result(int exitCode, String stdout, String stderr) {
    }
}
