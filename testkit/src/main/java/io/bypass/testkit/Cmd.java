package io.bypass.testkit;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs short commands ({@code ip}, {@code ethtool}, {@code cc}, {@code tcpreplay}) with
 * stdin from {@code /dev/null}, exit codes checked by {@link #run} and stderr quoted in
 * its errors.
 */
public final class Cmd {
    /** How long a command may take before it is killed and reported as timed out. */
    public static final long TIMEOUT_SECONDS = 120;

    private Cmd() {
    }

    /**
     * Runs a command and fails with its stderr if it exits non-zero (or cannot run).
     *
     * @param cmd the command and its arguments
     * @return its standard output
     * @throws IllegalStateException quoting the command, its exit code and stderr
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
     * @throws IllegalStateException as {@link #run(String...)}
     */
    public static String run(final List<String> cmd) {
        return run(cmd.toArray(String[]::new));
    }

    /**
     * Runs a command (at most {@link #TIMEOUT_SECONDS}) without checking its exit code.
     * A command that cannot be started or times out gives exit code -1 and says why in
     * {@link Result#stderr()}.
     *
     * @param cmd the command and its arguments
     * @return exit code, stdout and stderr
     */
    public static Result runUnchecked(final String... cmd) {
        final Process p;
        try {
            p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        } catch (final IOException e) {
            return new Result(-1, "", "cannot run '" + String.join(" ", cmd) + "': " + e.getMessage());
        }
        // Drain both pipes concurrently so a chatty command cannot block on a full pipe.
        final CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
        final String out = drain(p.getInputStream());
        try {
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, out, "'" + String.join(" ", cmd) + "' did not finish in " + TIMEOUT_SECONDS + " s");
            }
            return new Result(p.exitValue(), out, err.get(10, TimeUnit.SECONDS));
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            return new Result(-1, out, "interrupted running '" + String.join(" ", cmd) + "'");
        } catch (final ExecutionException | TimeoutException e) {
            return new Result(-1, out, "cannot read stderr of '" + String.join(" ", cmd) + "': " + e);
        }
    }

    private static String drain(final InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (final IOException e) {
            return "";
        }
    }

    /**
     * @param name a command, such as {@code ip}
     * @return its path on the {@code PATH} or in {@code /usr/sbin}, {@code /sbin} (where
     *         {@code ip} lives), or null if there is none
     */
    public static Path find(final String name) {
        final String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin:/sbin";
        for (final String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            final Path p = Path.of(dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /**
     * @param name a command
     * @return true if {@link #find(String)} finds it
     */
    public static boolean exists(final String name) {
        return find(name) != null;
    }

    /**
     * The outcome of a command.
     *
     * @param exitCode exit code (-1 if it could not run or timed out)
     * @param stdout   standard output
     * @param stderr   standard error, or why it could not run
     */
    public record Result(int exitCode, String stdout, String stderr) {
    }
}
