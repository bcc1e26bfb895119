package io.bypass.deployment;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A child process whose merged output is collected line by line as it comes, so a test can wait
 * for a line (a receiver's READY) before it starts the sender.
 */
final class Child implements AutoCloseable {
    private final List<String> command;
    private final Process process;
    private final StringBuilder output = new StringBuilder();
    private final Thread reader;

    private Child(final List<String> command, final Process process) {
        this.command = command;
        this.process = process;
        reader = new Thread(this::read, "child-output");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * @param command the command line
     * @param dir     its working directory
     * @param env     environment variables to set
     * @return the started child
     * @throws IOException if it cannot start
     */
    static Child start(final List<String> command, final Path dir, final Map<String, String> env) throws IOException {
        final ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().putAll(env);
        return new Child(command, pb.start());
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                synchronized (output) {
                    output.append(line).append('\n');
                    output.notifyAll();
                }
            }
        } catch (final IOException ignored) {
            // the process went away; what it printed is kept
        }
    }

    /** @return the process id (the last exec'd program's: ip netns exec, setpriv and prlimit exec, never fork) */
    long pid() {
        return process.pid();
    }

    /**
     * Waits until a line starting with {@code prefix} is printed.
     *
     * @param prefix  the line's start
     * @param seconds how long to wait
     * @throws AssertionError with the output if the child exits first or time runs out
     */
    void awaitLine(final String prefix, final long seconds) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        synchronized (output) {
            while (!("\n" + output).contains("\n" + prefix)) {
                final long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0 || (!process.isAlive() && !reader.isAlive())) {
                    throw new AssertionError("no line starting '" + prefix + "' from " + this);
                }
                output.wait(Math.min(left, 100));
            }
        }
    }

    /**
     * @param seconds how long to wait
     * @return the exit code
     * @throws AssertionError with the output if it does not exit in time
     */
    int await(final long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("still running after " + seconds + " s: " + this);
        }
        reader.join(5000);
        return process.exitValue();
    }

    /** @return everything printed so far */
    String output() {
        synchronized (output) {
            return output.toString();
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }

    @Override
    public String toString() {
        return String.join(" ", command) + "\n--- output ---\n" + output();
    }
}
