package io.bypass.samples.cli;

/**
 * One subcommand of {@code bypass}.
 */
public interface Command {
    /** @return the name typed after {@code bypass} */
    String name();

    /** @return the options it accepts, with usage text */
    Options options();

    /**
     * Runs the subcommand. Hot loops check {@link Context#isStopped()} so Ctrl-C and
     * {@code --duration} end them cleanly with a summary.
     *
     * @param args parsed arguments
     * @param ctx  output streams, stop flag and the common options
     * @return exit status: 0 success, 1 failure (e.g. loss when zero loss was required)
     * @throws UsageException for argument errors found while running (exit 2)
     * @throws Exception      for anything else (exit 1, message printed)
     */
    int run(Args args, Context ctx) throws Exception;
}
