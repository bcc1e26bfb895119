package io.bypass.spi;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrivilegesTest {
    private static final PrivilegeNeeds AFXDP = new PrivilegeNeeds(List.of(Privileges.CAP_NET_RAW, Privileges.CAP_NET_ADMIN,
        Privileges.CAP_BPF, Privileges.CAP_PERFMON), 75_497_472, "");

    @Test
    void decodesCapabilitySets() {
        assertEquals(List.of("CAP_NET_ADMIN", "CAP_NET_RAW"), Privileges.decode("3000"));
        assertEquals(List.of("CAP_BPF"), Privileges.decode("8000000000"));
        assertEquals(List.of("CAP_PERFMON"), Privileges.decode("0000004000000000"));
        assertEquals(List.of(), Privileges.decode("zz"));
        assertEquals(List.of(), Privileges.decode(null));
        assertEquals(41, Privileges.decode("000001ffffffffff").size());
    }

    @Test
    void readsTheSoftMemlockLimit() {
        final String header = "Limit                     Soft Limit           Hard Limit           Units\n";
        assertEquals(8_388_608L, Privileges.memlockLimit(List.of(header,
            "Max locked memory         8388608              16777216             bytes")));
        assertEquals(Long.MAX_VALUE, Privileges.memlockLimit(List.of("Max locked memory         unlimited            unlimited            bytes")));
        assertEquals(-1L, Privileges.memlockLimit(List.of(header)));
    }

    @Test
    void systemdLinesGiveEitherCapIpcLockOrTheLimit() {
        assertEquals(List.of("AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN CAP_BPF CAP_PERFMON CAP_IPC_LOCK",
            "CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN CAP_BPF CAP_PERFMON CAP_IPC_LOCK"), Privileges.systemdLines(AFXDP, true));
        assertEquals(List.of("AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN CAP_BPF CAP_PERFMON",
            "CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN CAP_BPF CAP_PERFMON", "LimitMEMLOCK=75497472"),
            Privileges.systemdLines(AFXDP, false));
        assertEquals(List.of("LimitMEMLOCK=infinity"),
            Privileges.systemdLines(new PrivilegeNeeds(List.of(), PrivilegeNeeds.UNKNOWN_BYTES, ""), false));
        assertEquals(List.of(), Privileges.systemdLines(new PrivilegeNeeds(List.of(), 0, ""), true));
    }

    @Test
    void setprivLinesGiveAmbientCapabilities() {
        assertEquals("setpriv --reuid=USER --regid=GROUP --init-groups --inh-caps=+net_raw,+net_admin,+bpf,+perfmon,+ipc_lock"
            + " --ambient-caps=+net_raw,+net_admin,+bpf,+perfmon,+ipc_lock java", Privileges.setprivCommand(AFXDP, true, "java"));
        assertEquals("prlimit --memlock=75497472:75497472 setpriv --reuid=USER --regid=GROUP --init-groups"
            + " --inh-caps=+net_raw,+net_admin,+bpf,+perfmon --ambient-caps=+net_raw,+net_admin,+bpf,+perfmon java",
            Privileges.setprivCommand(AFXDP, false, "java"));
        assertEquals("setpriv --reuid=USER --regid=GROUP --init-groups java",
            Privileges.setprivCommand(new PrivilegeNeeds(List.of(), 0, ""), true, "java"));
    }

    @Test
    void remediesNameTheWayAndNeverSetcap() {
        final String caps = Privileges.capabilityRemedy("afxdp", AFXDP);
        assertTrue(caps.contains("afxdp needs CAP_NET_RAW CAP_NET_ADMIN CAP_BPF CAP_PERFMON (and CAP_IPC_LOCK or a memlock limit of"
            + " 75497472 bytes)") && caps.contains("AmbientCapabilities=") && caps.contains("--ambient-caps=")
            && caps.contains("Not setcap") && caps.contains(Privileges.GUIDE), caps);
        // This process has either all of them (root) or misses some: the message says which case it is.
        assertTrue(caps.startsWith("this process lacks ") || caps.startsWith("this process has "), caps);
        final String memlock = Privileges.memlockRemedy("the UMEM", 75_497_472, "per user", "frames=N");
        assertTrue(memlock.startsWith("the UMEM: 75497472 bytes (72 MiB) of locked memory, charged to RLIMIT_MEMLOCK (here ")
            && memlock.contains(" bytes, per user)") && memlock.contains("LimitMEMLOCK=75497472")
            && memlock.contains("ulimit -l 73728") && memlock.contains("prlimit --memlock=75497472:75497472")
            && memlock.contains("lock less: frames=N"), memlock);
    }

    @Test
    void needsRefuseNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new PrivilegeNeeds(List.of(), -2, ""));
        assertEquals("", new PrivilegeNeeds(List.of(), 0, null).note());
        assertTrue(PrivilegeNeeds.unstated().locksMemory());
    }
}
