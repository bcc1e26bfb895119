package io.bypass.samples.doctor;

import io.bypass.Bypass;
import io.bypass.BypassUriException;
import io.bypass.PortUri;
import io.bypass.samples.cli.UsageException;
import io.bypass.spi.BackendProvider;
import io.bypass.spi.PrivilegeNeeds;
import io.bypass.spi.Privileges;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The doctor's {@code privileges} section ({@code bypass doctor --uri URI}): what a port opened
 * with that URI needs from this process (the backend's {@link BackendProvider#privilegeNeeds}),
 * checked against what the process has: the capabilities, and {@code RLIMIT_MEMLOCK} against the
 * bytes the port will lock unless {@code CAP_IPC_LOCK}. Gives the systemd lines and the
 * {@code setpriv} command line that would make it ready, with and without {@code CAP_IPC_LOCK}.
 */
final class PrivilegeReport {
    private PrivilegeReport() {
    }

    /**
     * @param p   the host (its {@code /proc/self/status} and {@code /proc/self/limits})
     * @param uri the URI to check, or null
     * @return the section
     * @throws UsageException if the URI is malformed or names no backend here
     */
    static Map<String, Object> report(final HostProbe p, final String uri) throws UsageException {
        final Map<String, Object> m = new LinkedHashMap<>();
        if (uri == null) {
            m.put("uri", "none: 'bypass doctor --uri URI' checks what a port opened with URI needs (capabilities, locked memory)");
            return m;
        }
        final PortUri parsed;
        final PrivilegeNeeds needs;
        try {
            parsed = PortUri.parse(uri);
            final BackendProvider backend = Bypass.backend(parsed.scheme());
            if (backend == null) {
                throw new UsageException("--uri " + uri + ": no backend '" + parsed.scheme() + "' here (auto: picks one at open;"
                    + " name the backend you deploy on: " + Bypass.backends().stream().map(BackendProvider::name).toList() + ")");
            }
            needs = backend.privilegeNeeds(parsed);
        } catch (final BypassUriException e) {
            throw new UsageException("--uri: " + e.getMessage());
        }
        List<String> have = List.of();
        for (final String line : p.lines("/proc/self/status")) {
            if (line.startsWith("CapEff:")) {
                have = Privileges.decode(line.substring("CapEff:".length()));
            }
        }
        final List<String> missing = new ArrayList<>(needs.capabilities());
        missing.removeAll(have);
        final boolean ipcLock = have.contains(Privileges.CAP_IPC_LOCK);
        final long limit = Privileges.memlockLimit(p.lines("/proc/self/limits"));
        final long bytes = needs.lockedBytes();

        m.put("uri", uri);
        m.put("backend", parsed.scheme());
        m.put("capabilities_needed", needs.capabilities().isEmpty() ? List.of("none") : needs.capabilities());
        m.put("capabilities_missing", missing.isEmpty() ? List.of("none") : missing);
        m.put("locked_bytes", bytes == PrivilegeNeeds.UNKNOWN_BYTES ? "unknown" : bytes);
        m.put("memlock_soft", limit == Long.MAX_VALUE ? "unlimited" : limit < 0 ? "unknown" : limit + " bytes");
        final String memlock;
        final boolean memlockOk;
        if (bytes == 0) {
            memlock = "yes (locks nothing)";
            memlockOk = true;
        } else if (ipcLock) {
            memlock = "yes (CAP_IPC_LOCK: not limited)";
            memlockOk = true;
        } else if (bytes == PrivilegeNeeds.UNKNOWN_BYTES) {
            memlock = "unknown (the backend cannot tell before it opens; CAP_IPC_LOCK covers any size)";
            memlockOk = true;
        } else if (limit == Long.MAX_VALUE || limit >= bytes) {
            memlock = "yes (" + bytes + " <= " + (limit == Long.MAX_VALUE ? "unlimited" : limit) + " bytes)";
            memlockOk = true;
        } else {
            memlock = "NO: " + (limit < 0 ? "unknown" : String.valueOf(limit)) + " < " + bytes + " bytes and no CAP_IPC_LOCK";
            memlockOk = false;
        }
        m.put("memlock_fits", memlock);
        m.put("ready", missing.isEmpty() && memlockOk ? "yes"
            : "NO: " + (missing.isEmpty() ? "" : "missing " + String.join(", ", missing) + (memlockOk ? "" : "; "))
            + (memlockOk ? "" : "RLIMIT_MEMLOCK below " + bytes + " bytes"));
        m.put("systemd", Privileges.systemdLines(needs, true));
        if (needs.locksMemory()) {
            m.put("systemd_without_ipc_lock", Privileges.systemdLines(needs, false));
        }
        final String command = "java ... -jar app.jar";
        m.put("shell", Privileges.setprivCommand(needs, true, command));
        if (needs.locksMemory()) {
            m.put("shell_without_ipc_lock", Privileges.setprivCommand(needs, false, command));
        }
        m.put("notes", needs.note().isEmpty() ? List.of() : List.of(needs.note()));
        return m;
    }
}
