package io.bypass.dpdk;

import java.io.IOException;

/**
 * A separate JVM for {@link DpdkErrorTest}: starts an EAL with a given file prefix. {@code hold}
 * prints READY and keeps the EAL until its stdin closes; {@code try} prints STARTED or
 * FAILED: with the exception's message. Also runs {@link DpdkAffinityTest}'s check, which must start the EAL.
 */
public final class EalChild {
    private EalChild() {
    }

    /**
     * @param args prefix, then {@code hold}, {@code try}, or {@code lcores} (try with the EAL --lcores in the third argument),
     *             or {@code open} (open the URI in the third argument), {@code hold-open} (open it and keep it
     *             open until stdin closes), or {@code affinity} (see {@link AffinityCheck})
     * @throws IOException reading stdin
     * @throws InterruptedException if interrupted in the affinity check
     */
    public static void main(final String[] args) throws IOException, InterruptedException {
        try {
            if (args[1].equals("affinity")) {
                System.out.println(AffinityCheck.run());
                System.out.flush();
                System.exit(0);
            }
            if (args[1].equals("hold-open")) {
                try (io.bypass.Port port = io.bypass.Bypass.open(args[2])) {
                    System.out.println("OPENED " + port);
                    System.out.flush();
                    while (System.in.read() >= 0) {
                        // keep the port open until the parent closes our stdin (or kills us)
                    }
                }
                System.exit(0);
            }
            if (args[1].equals("open")) {
                io.bypass.Bypass.open(args[2]).close();
                System.out.println("OPENED");
                System.out.flush();
                System.exit(0);
            }
            final DpdkContext ctx = new DpdkContext().filePrefix(args[0]).hugepages(false);
            if (args[1].equals("lcores")) {
                ctx.lcores(args[2]);
            }
            DpdkBackendProvider.initialiseEal(ctx);
        } catch (final RuntimeException e) {
            System.out.println("FAILED: " + e.getMessage());
            System.out.flush();
            System.exit(3);
        }
        if (args[1].equals("hold")) {
            System.out.println("READY");
            System.out.flush();
            while (System.in.read() >= 0) {
                // hold the EAL until the parent closes our stdin
            }
        } else {
            System.out.println("STARTED");
        }
        System.out.flush();
        System.exit(0); // DPDK's threads are not daemons
    }
}
