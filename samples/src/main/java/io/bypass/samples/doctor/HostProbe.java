package io.bypass.samples.doctor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Best-effort reads of /proc, /sys and small commands for the doctor. Every read returns
 * null (or empty) instead of throwing, so a missing file never stops the report.
 */
final class HostProbe {
    private final Path root;

    /**
     * @param root filesystem root, {@code /} normally; tests pass a fake tree
     */
    HostProbe(final Path root) {
        this.root = root;
    }

    Path path(final String absolute) {
        return root.resolve(absolute.substring(1));
    }

    String read(final String absolute) {
        try {
            // Not readString: it trusts procfs's zero file size, and a sysctl file read that way
            // gives a partial value (net.core.rmem_max 4194304 read as "4").
            return String.join("\n", Files.readAllLines(path(absolute), StandardCharsets.UTF_8)).trim();
        } catch (final IOException | RuntimeException e) {
            return null;
        }
    }

    List<String> lines(final String absolute) {
        try {
            return Files.readAllLines(path(absolute), StandardCharsets.UTF_8);
        } catch (final IOException | RuntimeException e) {
            return List.of();
        }
    }

    boolean exists(final String absolute) {
        return Files.exists(path(absolute));
    }

    List<String> list(final String absolute) {
        final List<String> out = new ArrayList<>();
        try (var s = Files.list(path(absolute))) {
            s.forEach(p -> out.add(p.getFileName().toString()));
        } catch (final IOException | RuntimeException e) {
            return out;
        }
        out.sort(HostProbe::natural);
        return out;
    }

    String linkName(final String absolute) {
        try {
            return Files.readSymbolicLink(path(absolute)).getFileName().toString();
        } catch (final IOException | RuntimeException e) {
            return null;
        }
    }

    /** Runs a command with a 3 s limit; null if it is missing or fails. */
    static String run(final String... cmd) {
        try {
            final Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            final byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(3, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            return p.exitValue() == 0 ? new String(out, StandardCharsets.UTF_8).trim() : null;
        } catch (final IOException e) {
            return null;
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    static String which(final String name) {
        final String path = System.getenv("PATH");
        final List<String> dirs = new ArrayList<>(List.of((path == null ? "" : path).split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/bin", "/usr/local/sbin"));
        for (final String d : dirs) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, name))) {
                return Path.of(d, name).toString();
            }
        }
        return null;
    }

    /** Orders rx-2 before rx-10 and cpu2 before cpu10. */
    static int natural(final String a, final String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            final char ca = a.charAt(i);
            final char cb = b.charAt(j);
            if (Character.isDigit(ca) && Character.isDigit(cb)) {
                int ei = i;
                while (ei < a.length() && Character.isDigit(a.charAt(ei))) {
                    ei++;
                }
                int ej = j;
                while (ej < b.length() && Character.isDigit(b.charAt(ej))) {
                    ej++;
                }
                final int c = Long.compare(Long.parseLong(a.substring(i, Math.min(ei, i + 18))),
                    Long.parseLong(b.substring(j, Math.min(ej, j + 18))));
                if (c != 0) {
                    return c;
                }
                i = ei;
                j = ej;
            } else {
                if (ca != cb) {
                    return Character.compare(ca, cb);
                }
                i++;
                j++;
            }
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
