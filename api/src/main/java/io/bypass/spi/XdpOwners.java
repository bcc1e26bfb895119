package io.bypass.spi;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Which processes hold an XDP program, read from {@code /proc}: the kernel prints
 * {@code prog_id: N} in the fdinfo of every bpf-prog fd and every bpf-link fd (and
 * {@code target_obj_id: N} for a link into a libxdp dispatcher). A program attached by
 * netlink (DPDK's net_af_xdp, {@code ip link set dev X xdp obj}) stays attached when its
 * last holder dies, so "nobody holds it" is how an orphan left by a killed process looks;
 * a live owner's program must not be removed under it, since that silently stops its
 * reception. Control path only (a directory walk of {@code /proc}): error messages, doctor.
 */
public final class XdpOwners {
    private static final String BPF_PROG = "anon_inode:bpf-prog";
    private static final String BPF_LINK = "anon_inode:bpf-link";

    private XdpOwners() {
    }

    /**
     * One process holding the program.
     *
     * @param pid     the process id
     * @param command its command name ({@code /proc/PID/comm}), or "?"
     * @param link    true if it holds a bpf_link (the program goes when the link is closed), false for a program fd
     */
    public record Owner(long pid, String command, boolean link) {
        @Override
        public String toString() {
            return "pid " + pid + " (" + command + (pid == ProcessHandle.current().pid() ? ", this process" : "")
                + (link ? ", through a bpf_link" : "") + ")";
        }
    }

    /**
     * What a scan of {@code /proc} found.
     *
     * @param owners     the processes holding the program
     * @param unreadable how many processes' fd tables could not be read (not root, or they exited meanwhile)
     */
    public record Scan(List<Owner> owners, int unreadable) {
        /** @return true if no process holds the program and every process could be inspected */
        public boolean orphaned() {
            return owners.isEmpty() && unreadable == 0;
        }
    }

    /**
     * @param progId a BPF program id (as {@code ip link show} prints after {@code prog/xdp id})
     * @return the processes of this host's {@code /proc} holding it
     */
    public static Scan find(final int progId) {
        return find(Path.of("/proc"), progId);
    }

    /**
     * @param proc   the {@code /proc} to read (a copy in tests)
     * @param progId a BPF program id
     * @return the processes holding it
     */
    public static Scan find(final Path proc, final int progId) {
        final List<Owner> owners = new ArrayList<>();
        int unreadable = 0;
        final String id = Integer.toString(progId);
        try (DirectoryStream<Path> pids = Files.newDirectoryStream(proc, p -> isNumber(p.getFileName().toString()))) {
            for (final Path pidDir : pids) {
                final long pid = Long.parseLong(pidDir.getFileName().toString());
                final Boolean link;
                try {
                    link = holds(pidDir, id);
                } catch (final IOException | SecurityException e) {
                    if (Files.exists(pidDir)) {
                        unreadable++; // an exited process is no owner; one we may not read might be
                    }
                    continue;
                }
                if (link != null) {
                    owners.add(new Owner(pid, command(pidDir), link));
                }
            }
        } catch (final IOException e) {
            return new Scan(List.of(), 1);
        }
        return new Scan(List.copyOf(owners), unreadable);
    }

    /** @return null if the process holds no fd of the program, else whether one it holds is a link */
    private static Boolean holds(final Path pidDir, final String id) throws IOException {
        Boolean found = null;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(pidDir.resolve("fd"))) {
            for (final Path fd : fds) {
                final String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (final IOException e) {
                    continue; // closed meanwhile
                }
                final boolean link = target.equals(BPF_LINK);
                if (!link && !target.equals(BPF_PROG)) {
                    continue;
                }
                final List<String> info;
                try {
                    info = Files.readAllLines(pidDir.resolve("fdinfo").resolve(fd.getFileName()), StandardCharsets.UTF_8);
                } catch (final IOException e) {
                    continue;
                }
                for (final String line : info) {
                    final int colon = line.indexOf(':');
                    if (colon > 0 && (line.startsWith("prog_id:") || line.startsWith("target_obj_id:"))
                        && line.substring(colon + 1).strip().equals(id)) {
                        found = Boolean.TRUE.equals(found) || link;
                    }
                }
            }
        }
        return found;
    }

    private static String command(final Path pidDir) {
        try {
            return Files.readString(pidDir.resolve("comm"), StandardCharsets.UTF_8).strip();
        } catch (final IOException e) {
            return "?";
        }
    }

    private static boolean isNumber(final String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /**
     * Says who holds the program attached to an interface and what removing it means, for the
     * message of a backend that refuses to open on an interface with a program it did not attach.
     *
     * @param iface  the interface
     * @param progId the id of the program attached to it
     * @param name   the program's name, or null
     * @return a sentence naming the live owners, or saying it is orphaned and how to remove it
     */
    public static String describe(final String iface, final int progId, final String name) {
        final Scan scan = find(progId);
        final String remove = "'ip link set dev " + iface + " xdp off' (in the interface's network namespace)";
        if (!scan.owners().isEmpty()) {
            final boolean link = scan.owners().stream().anyMatch(Owner::link);
            return "it is held by " + join(scan.owners()) + ": a live process; removing it with " + remove
                + " would silently stop that process's reception"
                + (link ? " (and the kernel refuses to remove a program attached through a bpf_link)" : "")
                + ", so stop that process first or use another interface";
        }
        if ("xdp_dispatcher".equals(name)) {
            return "no process holds it, but it is libxdp's dispatcher, which libxdp keeps pinned in bpffs for the programs "
                + "it runs ('xdp-loader status " + iface + "' lists them); if none is yours, remove it with 'xdp-loader unload "
                + iface + " --all' or " + remove;
        }
        if (!scan.orphaned()) {
            return "no process this one can inspect holds it (" + scan.unreadable() + " could not be read: run as root to "
                + "tell a live owner from an orphan); if it was left by a process killed with an open port, remove it with "
                + remove;
        }
        return "no process holds it: orphaned (a killed process left it); remove it with " + remove;
    }

    private static String join(final List<Owner> owners) {
        final StringBuilder sb = new StringBuilder();
        for (final Owner o : owners) {
            sb.append(sb.isEmpty() ? "" : ", ").append(o);
        }
        return sb.toString();
    }
}
