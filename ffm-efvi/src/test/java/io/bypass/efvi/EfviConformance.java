package io.bypass.efvi;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What the efvi conformance runs share. */
final class EfviConformance {
    private EfviConformance() {
    }

    /**
     * After close no packet socket of the stand-in's VI is left bound to {@code iface}
     * (read from this thread's namespace).
     */
    static void assertNoVi(final String iface) throws Exception {
        final int ifindex = java.net.NetworkInterface.getByName(iface).getIndex();
        final List<String> lines = Files.readAllLines(Path.of("/proc/thread-self/net/packet"));
        final long bound = lines.stream().skip(1).map(l -> l.trim().split("\\s+"))
            .filter(f -> f.length > 4 && f[4].equals(Integer.toString(ifindex))).count();
        assertEquals(0, bound, "packet sockets still bound to " + iface + ": " + lines);
    }
}
