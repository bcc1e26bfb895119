package io.bypass.spi;

import java.util.List;

/**
 * What a port opened with a given URI needs from the process beyond the JVM flags: the Linux
 * capabilities it uses and the memory it locks. {@code bypass doctor --uri} checks a process
 * against it, and deployment lines (systemd {@code AmbientCapabilities=}, {@code LimitMEMLOCK=})
 * are written from it by {@link Privileges}.
 *
 * @param capabilities the capabilities the port needs ({@code CAP_NET_RAW} ...), without
 *                     {@code CAP_IPC_LOCK}, which only stands in for a large enough memlock limit
 * @param lockedBytes  bytes of memory the port locks, charged to {@code RLIMIT_MEMLOCK} unless the
 *                     process has {@code CAP_IPC_LOCK}; 0 for none, {@link #UNKNOWN_BYTES} if the
 *                     backend cannot tell before it opens
 * @param note         what else the deployment needs or what is not verified, or an empty string
 */
public record PrivilegeNeeds(List<String> capabilities, long lockedBytes, String note) {
    /** {@link #lockedBytes()} when the backend cannot tell. */
    public static final long UNKNOWN_BYTES = -1;

    /**
     * @param capabilities the capabilities
     * @param lockedBytes  the locked bytes, or {@link #UNKNOWN_BYTES}
     * @param note         anything else, never null
     */
    public PrivilegeNeeds {
        capabilities = List.copyOf(capabilities);
        if (lockedBytes < UNKNOWN_BYTES) {
            throw new IllegalArgumentException("lockedBytes " + lockedBytes);
        }
        note = note == null ? "" : note;
    }

    /**
     * @return what a backend that states nothing needs: unknown
     */
    public static PrivilegeNeeds unstated() {
        return new PrivilegeNeeds(List.of(), UNKNOWN_BYTES, "the backend does not state what it needs");
    }

    /**
     * @return true if the port locks memory (or may: unknown counts)
     */
    public boolean locksMemory() {
        return lockedBytes != 0;
    }
}
