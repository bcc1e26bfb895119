package io.bypass.spi;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link XdpOwners} over a copy of {@code /proc} laid out as the kernel prints it. */
class XdpOwnersTest {
    @Test
    void findsTheProcessesHoldingAProgramOrALinkToIt(@TempDir final Path proc) throws Exception {
        process(proc, 100, "bypass-feed", 7, "anon_inode:bpf-prog", "prog_type:\t6\nprog_jited:\t1\nprog_id:\t42\n");
        process(proc, 200, "other", 3, "anon_inode:bpf-prog", "prog_type:\t6\nprog_id:\t420\n");
        process(proc, 300, "afxdp-app", 9, "anon_inode:bpf-link", "link_type:\txdp\nlink_id:\t5\nprog_tag:\tab\nprog_id:\t42\n");
        process(proc, 400, "sock", 4, "socket:[1234]", "prog_id:\t42\n"); // not a bpf fd: ignored
        Files.createDirectories(proc.resolve("self"));
        final XdpOwners.Scan scan = XdpOwners.find(proc, 42);
        assertEquals(List.of(new XdpOwners.Owner(100, "bypass-feed", false), new XdpOwners.Owner(300, "afxdp-app", true)),
            scan.owners().stream().sorted((a, b) -> Long.compare(a.pid(), b.pid())).toList());
        assertFalse(scan.orphaned());
        assertTrue(scan.owners().get(0).toString().startsWith("pid "), scan.owners().get(0).toString());
    }

    @Test
    void aProgramNobodyHoldsIsOrphaned(@TempDir final Path proc) throws Exception {
        process(proc, 200, "other", 3, "anon_inode:bpf-prog", "prog_type:\t6\nprog_id:\t420\n");
        final XdpOwners.Scan scan = XdpOwners.find(proc, 42);
        assertTrue(scan.owners().isEmpty());
        assertTrue(scan.orphaned());
    }

    @Test
    void aLinkIntoALibxdpDispatcherCountsAsHoldingIt(@TempDir final Path proc) throws Exception {
        process(proc, 500, "dpdk-app", 11, "anon_inode:bpf-link",
            "link_type:\ttracing\nlink_id:\t8\nprog_id:\t77\nattach_type:\t26\ntarget_obj_id:\t42\ntarget_btf_id:\t3\n");
        assertEquals(List.of(new XdpOwners.Owner(500, "dpdk-app", true)), XdpOwners.find(proc, 42).owners());
    }

    @Test
    void anUnreadableProcessIsNotCalledAnOrphan(@TempDir final Path proc) throws Exception {
        Files.createDirectories(proc.resolve("600")); // no fd directory: as a process another user owns looks to non-root
        final XdpOwners.Scan scan = XdpOwners.find(proc, 42);
        assertTrue(scan.owners().isEmpty());
        assertEquals(1, scan.unreadable());
        assertFalse(scan.orphaned());
    }

    private static void process(final Path proc, final int pid, final String comm, final int fd, final String target,
                                final String fdinfo) throws Exception {
        final Path dir = proc.resolve(Integer.toString(pid));
        Files.createDirectories(dir.resolve("fd"));
        Files.createDirectories(dir.resolve("fdinfo"));
        Files.writeString(dir.resolve("comm"), comm + "\n");
        Files.createSymbolicLink(dir.resolve("fd").resolve(Integer.toString(fd)), Path.of(target));
        Files.writeString(dir.resolve("fdinfo").resolve(Integer.toString(fd)), "pos:\t0\nflags:\t02000002\n" + fdinfo);
    }
}
