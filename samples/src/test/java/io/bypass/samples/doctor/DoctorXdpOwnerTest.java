package io.bypass.samples.doctor;

import io.bypass.testing.Requirements;
import io.bypass.testkit.Netns;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bypass doctor} tells an XDP program a live process holds from one a killed process left (orphaned). */
class DoctorXdpOwnerTest {
    private static final Pattern PROG_ID = Pattern.compile("prog/xdp\\w* id (\\d+)");

    @Test
    void ownerFromACopyOfProc(@TempDir final Path proc) throws Exception {
        final String link = "3: veth0@if2: <BROADCAST,UP> mtu 1500 xdp qdisc noqueue\n    prog/xdp id 42 name xsk_def_prog tag ab";
        assertNull(XdpReport.xdpOwner("veth0", "3: veth0@if2: <BROADCAST,UP> mtu 1500 qdisc noqueue", proc));
        assertTrue(XdpReport.xdpOwner("veth0", link, proc).startsWith("ORPHANED: no process holds it")
            && XdpReport.xdpOwner("veth0", link, proc).contains("ip link set dev veth0 xdp off"));
        final Path pid = proc.resolve("4242");
        Files.createDirectories(pid.resolve("fd"));
        Files.createDirectories(pid.resolve("fdinfo"));
        Files.writeString(pid.resolve("comm"), "java\n");
        Files.createSymbolicLink(pid.resolve("fd/5"), Path.of("anon_inode:bpf-prog"));
        Files.writeString(pid.resolve("fdinfo/5"), "pos:\t0\nprog_type:\t6\nprog_id:\t42\n");
        assertTrue(XdpReport.xdpOwner("veth0", link, proc).startsWith("live: held by pid 4242 (java)"),
            XdpReport.xdpOwner("veth0", link, proc));
    }

    /**
     * The doctor, run in a namespace whose veth ends each carry an XDP program attached by
     * {@code ip} (which then exits): the one nobody holds is ORPHANED, the one this JVM holds an fd
     * of is live and names this process.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void doctorMarksAnOrphanedProgramAndNamesALiveOwner() throws Throwable {
        Requirements.requireNetns();
        final Path obj = Files.createTempFile("doctor_xdp", ".o");
        try (InputStream in = DoctorXdpOwnerTest.class.getResourceAsStream("/META-INF/native/bypass_xdp.o")) {
            Requirements.require(in != null, "bypass_xdp.o (built by bypass-afxdp) is not on the class path");
            Files.write(obj, in.readAllBytes());
        }
        final String suffix = Netns.randomSuffix();
        final String orphan = "dxo" + suffix;
        final String held = "dxh" + suffix;
        int fd = -1;
        try (Netns ns = Netns.create("bdoc")) {
            ns.ip("link", "add", orphan, "type", "veth", "peer", "name", held);
            for (final String iface : List.of(orphan, held)) {
                ns.ip("link", "set", "dev", iface, "up");
                ns.ip("link", "set", "dev", iface, "xdpgeneric", "obj", obj.toString(), "sec", "xdp");
            }
            fd = progFdById(progId(ns.ip("-d", "link", "show", "dev", held)));
            assertTrue(fd >= 0, "bpf_prog_get_fd_by_id");

            final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            final Process doctor = new ProcessBuilder(List.of("ip", "netns", "exec", ns.name(), java,
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "io.bypass.samples.Main", "doctor")).redirectErrorStream(true).start();
            final String out = new String(doctor.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(doctor.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, doctor.exitValue(), out);
            final String orphanSection = section(out, orphan);
            final String heldSection = section(out, held);
            assertTrue(orphanSection.contains("xdp_owner: ORPHANED: no process holds it")
                && orphanSection.contains("ip link set dev " + orphan + " xdp off"), orphanSection);
            assertTrue(heldSection.contains("xdp_owner: live: held by pid " + ProcessHandle.current().pid()), heldSection);
        } finally {
            if (fd >= 0) {
                close(fd);
            }
            Files.deleteIfExists(obj);
        }
    }

    /** The doctor's lines about one interface: from its "- name" line to the next "- " item or section. */
    private static String section(final String out, final String iface) {
        final int start = out.indexOf("- " + iface);
        assertTrue(start >= 0, iface + " in\n" + out);
        final int next = out.indexOf("\n  - ", start + 1);
        final int end = out.indexOf("\n==", start + 1);
        final int stop = next < 0 ? end : end < 0 ? next : Math.min(next, end);
        return stop < 0 ? out.substring(start) : out.substring(start, stop);
    }

    private static int progId(final String ipLink) {
        final Matcher m = PROG_ID.matcher(ipLink);
        assertTrue(m.find(), ipLink);
        return Integer.parseInt(m.group(1));
    }

    private static int progFdById(final int id) throws Throwable {
        final Linker linker = Linker.nativeLinker();
        final SymbolLookup bpf = SymbolLookup.libraryLookup("libbpf.so.1", Arena.global());
        final MethodHandle get = linker.downcallHandle(bpf.find("bpf_prog_get_fd_by_id").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        return (int) get.invokeExact(id);
    }

    private static void close(final int fd) throws Throwable {
        final Linker linker = Linker.nativeLinker();
        final MethodHandle close = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        final int ignored = (int) close.invokeExact(fd);
    }
}
