package io.bypass.bench.internal;

import io.bypass.testkit.Cmd;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compiles the C baselines (packaged in the jar under {@code io/bypass/bench/native/})
 * with {@code cc} into a directory, once per run. A baseline whose libraries are missing
 * is reported with the compiler's error, and its scenarios are left out of the report.
 */
public final class NativeBuild {
    private static final String[] SOURCES = {"bench_common.h", "bench_udp.c", "bench_tcp.c", "bench_xsk.c", "bench_dpdk.c"};

    private final Path dir;
    private final Map<String, Path> binaries = new LinkedHashMap<>();
    private final Map<String, String> failures = new LinkedHashMap<>();

    private NativeBuild(final Path dir) {
        this.dir = dir;
    }

    /**
     * Extracts and compiles every baseline into {@code dir}.
     *
     * @param dir output directory (created)
     * @return what was built and what failed
     * @throws IOException if the sources cannot be written
     */
    public static NativeBuild build(final Path dir) throws IOException {
        Files.createDirectories(dir);
        for (final String s : SOURCES) {
            try (InputStream in = NativeBuild.class.getResourceAsStream("/io/bypass/bench/native/" + s)) {
                if (in == null) {
                    throw new IOException("C source " + s + " missing from the class path (io/bypass/bench/native/)");
                }
                Files.copy(in, dir.resolve(s), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        final NativeBuild b = new NativeBuild(dir);
        b.compile("udp", List.of(), List.of());
        b.compile("tcp", List.of(), List.of());
        b.compile("xsk", List.of(), List.of("-lxdp", "-lbpf"));
        final Cmd.Result cflags = Cmd.runUnchecked("pkg-config", "--cflags", "libdpdk");
        final Cmd.Result libs = Cmd.runUnchecked("pkg-config", "--libs", "libdpdk");
        if (cflags.exitCode() != 0 || libs.exitCode() != 0) {
            b.failures.put("dpdk", "pkg-config libdpdk failed (apt-get install libdpdk-dev): " + cflags.stderr().strip());
        } else {
            b.compile("dpdk", split(cflags.stdout()), split(libs.stdout()));
        }
        return b;
    }

    private static List<String> split(final String s) {
        final List<String> out = new ArrayList<>();
        for (final String p : s.strip().split("\\s+")) {
            if (!p.isEmpty()) {
                out.add(p);
            }
        }
        return out;
    }

    private void compile(final String name, final List<String> cflags, final List<String> libs) {
        final Path out = dir.resolve("bench_" + name);
        final List<String> cmd = new ArrayList<>(List.of("cc", "-O2", "-g", "-std=gnu11", "-Wall"));
        cmd.addAll(cflags);
        cmd.add("-o");
        cmd.add(out.toString());
        cmd.add(dir.resolve("bench_" + name + ".c").toString());
        cmd.addAll(libs);
        final Cmd.Result r = Cmd.runUnchecked(cmd.toArray(String[]::new));
        if (r.exitCode() == 0 && Files.isExecutable(out)) {
            binaries.put(name, out);
        } else {
            failures.put(name, "cc failed: " + r.stderr().strip().lines().limit(5).reduce("", (a, b) -> a + " " + b));
        }
    }

    /**
     * @param name udp, tcp, xsk or dpdk
     * @return the binary, or null if it did not build
     */
    public Path binary(final String name) {
        return binaries.get(name);
    }

    /** @return baseline name to the reason it did not build */
    public Map<String, String> failures() {
        return failures;
    }
}
