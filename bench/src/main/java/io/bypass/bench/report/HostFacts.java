package io.bypass.bench.report;

import io.bypass.testkit.Cmd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The host facts that decide how far figures travel: kernel, CPU model and count, load,
 * JDK, the pinning used, the NIC and its driver, library versions.
 */
public final class HostFacts {
    private HostFacts() {
    }

    /**
     * @param pinning  how the harness pinned its processes
     * @param nic      the interface pair measured, such as "veth pair bba../bbb.."
     * @param driverOf command output of ethtool -i for the NIC, or null
     * @return ordered facts
     */
    public static Map<String, String> collect(final String pinning, final String nic, final String driverOf) {
        final Map<String, String> f = new LinkedHashMap<>();
        f.put("kernel", Cmd.runUnchecked("uname", "-srm").stdout().strip());
        f.put("cpu model", cpuModel());
        f.put("cpus online", Integer.toString(Runtime.getRuntime().availableProcessors()));
        f.put("load average at start", read("/proc/loadavg").split(" ").length >= 3
            ? String.join(" ", java.util.Arrays.copyOf(read("/proc/loadavg").split(" "), 3)) : "?");
        f.put("jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        f.put("pinning", pinning);
        f.put("nic", nic);
        if (driverOf != null) {
            f.put("driver", driverOf);
        }
        f.put("libxdp", pkgVersion("libxdp"));
        f.put("libbpf", pkgVersion("libbpf"));
        f.put("dpdk", pkgVersion("libdpdk"));
        f.put("virtualisation", Cmd.runUnchecked("systemd-detect-virt").stdout().strip());
        return f;
    }

    private static String pkgVersion(final String pkg) {
        final Cmd.Result r = Cmd.runUnchecked("pkg-config", "--modversion", pkg);
        return r.exitCode() == 0 ? r.stdout().strip() : "not found";
    }

    private static String cpuModel() {
        for (final String line : read("/proc/cpuinfo").split("\n")) {
            if (line.startsWith("model name")) {
                return line.substring(line.indexOf(':') + 1).strip();
            }
        }
        return "unknown";
    }

    private static String read(final String path) {
        try {
            return Files.readString(Path.of(path));
        } catch (final IOException e) {
            return "";
        }
    }
}
