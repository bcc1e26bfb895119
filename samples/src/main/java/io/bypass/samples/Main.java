package io.bypass.samples;

import io.bypass.BackendUnavailableException;
import io.bypass.BypassException;
import io.bypass.BypassUriException;
import io.bypass.samples.cli.Args;
import io.bypass.samples.cli.Command;
import io.bypass.samples.cli.Context;
import io.bypass.samples.cli.UsageException;
import io.bypass.samples.demo.DemoCommand;
import io.bypass.samples.doctor.DoctorCommand;
import io.bypass.samples.feed.FeedCommand;
import io.bypass.samples.feed.PublishCommand;
import io.bypass.samples.jitter.JitterCommand;
import io.bypass.samples.pcap.CaptureCommand;
import io.bypass.samples.pcap.ReplayCommand;
import io.bypass.samples.pcap.SynthCommand;
import io.bypass.samples.pingpong.PingPongCommand;
import io.bypass.samples.stat.StatCommand;
import io.bypass.samples.tcpcat.TcpCatCommand;
import io.bypass.samples.trade.ExchangeCommand;
import io.bypass.samples.trade.TradeCommand;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code bypass} command: {@code bypass SUBCOMMAND [options]}. Exit status 0 on
 * success, 1 on failure, 2 on a bad argument (with usage on stderr).
 *
 * <p>{@link #run(String[], Context)} is what tests call in-process; {@link #main}
 * adds Ctrl-C handling: the running subcommand stops, prints its summary and cleans up.
 */
public final class Main {
    /** Exit status for a bad command line. */
    public static final int USAGE = 2;

    private Main() {
    }

    /** @return every subcommand by name, in usage order */
    public static Map<String, Command> commands() {
        final Map<String, Command> m = new LinkedHashMap<>();
        for (final Command c : List.of(new FeedCommand(), new PublishCommand(), new ReplayCommand(), new CaptureCommand(),
            new SynthCommand(), new PingPongCommand(), new TcpCatCommand(), new TradeCommand(), new ExchangeCommand(), new DoctorCommand(),
            new JitterCommand(), new StatCommand(), new DemoCommand())) {
            m.put(c.name(), c);
        }
        return m;
    }

    /**
     * Entry point.
     *
     * @param args the command line
     */
    public static void main(final String[] args) {
        // Each subcommand says which backend it opened; the library's INFO line would repeat it.
        java.util.logging.Logger.getLogger("io.bypass").setLevel(java.util.logging.Level.WARNING);
        final Context ctx = new Context(System.out, System.err);
        final Thread main = Thread.currentThread();
        final Thread hook = new Thread(() -> {
            ctx.stop();
            try {
                // Let the subcommand print its summary and clean up (namespaces, XDP programs).
                main.join(10_000);
            } catch (final InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "bypass-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        final int status = run(args, ctx);
        System.out.flush();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (final IllegalStateException shuttingDown) {
            // Ctrl-C: the hook is waiting for this thread; System.exit would block until it
            // gave up, so return and let the shutdown finish now.
            return;
        }
        System.exit(status);
    }

    /**
     * Runs a command line in this JVM.
     *
     * @param argv the command line, subcommand first
     * @param out  stdout
     * @param err  stderr
     * @return the exit status
     */
    public static int run(final String[] argv, final PrintStream out, final PrintStream err) {
        return run(argv, new Context(out, err));
    }

    /**
     * Runs a command line in this JVM with a given context (so a caller can stop it).
     *
     * @param argv the command line, subcommand first
     * @param ctx  streams and stop flag
     * @return the exit status
     */
    public static int run(final String[] argv, final Context ctx) {
        final PrintStream err = ctx.err();
        final Map<String, Command> commands = commands();
        if (argv.length == 0 || "--help".equals(argv[0]) || "-h".equals(argv[0]) || "help".equals(argv[0])) {
            if (argv.length > 1 && commands.containsKey(argv[1])) {
                ctx.out().print(commands.get(argv[1]).options().usage());
                return 0;
            }
            (argv.length == 0 ? err : ctx.out()).print(usage(commands));
            return argv.length == 0 ? USAGE : 0;
        }
        final Command cmd = commands.get(argv[0]);
        if (cmd == null) {
            err.println("bypass: unknown command '" + argv[0] + "'");
            err.print(usage(commands));
            return USAGE;
        }
        for (int i = 1; i < argv.length; i++) {
            if ("--help".equals(argv[i]) || "-h".equals(argv[i])) {
                ctx.out().print(cmd.options().usage());
                return 0;
            }
        }
        try {
            final Args args = cmd.options().parse(argv, 1);
            ctx.configure(args);
            try {
                return cmd.run(args, ctx);
            } finally {
                ctx.release();
            }
        } catch (final UsageException e) {
            err.println("bypass " + cmd.name() + ": " + e.getMessage());
            err.print(cmd.options().usage());
            return USAGE;
        } catch (final BypassUriException e) {
            err.println("bypass " + cmd.name() + ": bad --uri: " + e.getMessage());
            err.print(cmd.options().usage());
            return USAGE;
        } catch (final BackendUnavailableException e) {
            err.println("bypass " + cmd.name() + ": " + e.getMessage());
            err.println("  run 'bypass doctor' to see which backends this host can use and how to enable the others");
            return 1;
        } catch (final BypassException | IllegalStateException | IllegalArgumentException e) {
            err.println("bypass " + cmd.name() + ": " + e.getMessage());
            return 1;
        } catch (final Exception | LinkageError e) {
            err.println("bypass " + cmd.name() + ": " + e);
            e.printStackTrace(err);
            return 1;
        }
    }

    /** The list of subcommands takes each one's summary from its own options, so the two never disagree. */
    private static String usage(final Map<String, Command> commands) {
        final StringBuilder sb = new StringBuilder("usage: bypass COMMAND [options]   (bypass COMMAND --help for its options)\ncommands:\n");
        for (final Command c : commands.values()) {
            sb.append(String.format("  %-10s %s%n", c.name(), c.options().summary()));
        }
        sb.append("common options: --uri URI  --cpu N  --isolate true|false  --idle spin|yield|backoff  --duration TIME  --json  --quiet\n");
        return sb.toString();
    }
}
